namespace Bot.Tools.WhatsAppStub;

/// <summary>Command line of the stub: <c>--port 9091 --faults --mappings DIR</c>.</summary>
public sealed record StubSettings(int Port, bool Faults, string MappingsFolder)
{
    public const int DefaultPort = 9091;

    public static string DefaultMappingsFolder => Path.Combine(AppContext.BaseDirectory, "mappings");

    public const string Usage =
        "usage: WhatsAppStub [--port 9091] [--faults] [--mappings DIR]\n" +
        "  --port N        listen on http://0.0.0.0:N (default 9091; env STUB_PORT)\n" +
        "  --faults        also load mappings/faults/*.json (429 + Retry-After, 131026, slow and timed-out answers)\n" +
        "  --mappings DIR  folder of WireMock static mappings (default: mappings/ next to the binary)";

    /// <returns>The settings, or null with <paramref name="error"/> set when the command line is wrong.</returns>
    public static StubSettings? Parse(string[] args, out string? error)
    {
        error = null;
        var port = int.TryParse(Environment.GetEnvironmentVariable("STUB_PORT"), out var envPort) ? envPort : DefaultPort;
        var faults = string.Equals(Environment.GetEnvironmentVariable("STUB_FAULTS"), "true", StringComparison.OrdinalIgnoreCase);
        var mappings = DefaultMappingsFolder;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--faults":
                    faults = true;
                    break;
                case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], out var p) && p is > 0 and < 65536:
                    port = p;
                    i++;
                    break;
                case "--mappings" when i + 1 < args.Length:
                    mappings = Path.GetFullPath(args[++i]);
                    break;
                default:
                    error = $"unknown or incomplete argument: {args[i]}";
                    return null;
            }
        }

        if (!Directory.Exists(mappings))
        {
            error = $"mappings folder not found: {mappings}";
            return null;
        }

        return new StubSettings(port, faults, mappings);
    }
}
