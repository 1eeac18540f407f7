using System.Globalization;
using System.Text.RegularExpressions;

namespace Bot.Tools.WhatsAppStub;

/// <summary>Command line and environment of the stub: <c>--port 9091 --faults --mappings DIR</c>, and world mode's flags.</summary>
public sealed partial record StubSettings(WhatsAppStubOptions Options)
{
    public const int DefaultPort = 9091;

    public static string DefaultMappingsFolder => Path.Combine(AppContext.BaseDirectory, "mappings");

    public const string Usage =
        "usage: WhatsAppStub [--port 9091] [--faults] [--mappings DIR] [world mode flags]\n" +
        "  --port N        listen on http://0.0.0.0:N (default 9091; env STUB_PORT)\n" +
        "  --faults        also load mappings/faults/*.json (429 + Retry-After, 131026, slow and timed-out answers; env STUB_FAULTS=true)\n" +
        "  --mappings DIR  folder of WireMock static mappings (default: mappings/ next to the binary)\n" +
        "senders (any mode; default: any token, any phone number id):\n" +
        "  --sender PNID=TOKEN   a business number and its token; repeat for more (env STUB_SENDERS=pnid=token,pnid=token).\n" +
        "                        Other tokens: 401 (Graph 190); other ids or another sender's id: 400 (Graph 100/33)\n" +
        "  --wa-id NUMBER=WA_ID  the wa_id of a number (digits, no '+') when it differs, as in Brazil; repeatable (env STUB_WA_IDS)\n" +
        "  --templates FILE      the template catalog {\"<wabaId>\": [templates as Graph lists them]}: served in pages, checked on\n" +
        "                        template sends (132001, 132000, 132015, 132016); POST /stub/templates changes one (env STUB_TEMPLATES)\n" +
        "world mode (on with --webhook-url): statuses, the 24-hour window, the messaging limit, POST /stub/inbound\n" +
        "  --webhook-url URL     where statuses and inbound messages are POSTed (env STUB_WEBHOOK_URL)\n" +
        "  --app-secret SECRET   signs them (X-Hub-Signature-256); prefer env STUB_APP_SECRET\n" +
        "  --customer-service-window D  free-form messages only within D of the person's last message (default 24h;\n" +
        "                        env STUB_CUSTOMER_SERVICE_WINDOW); outside it: 200, then a failed status 131047\n" +
        "  --messaging-limit N   unique template recipients per window across all senders; more: 200, then failed 131049\n" +
        "                        (default unlimited; env STUB_MESSAGING_LIMIT)\n" +
        "  --messaging-limit-window D   (default 24h; env STUB_MESSAGING_LIMIT_WINDOW)\n" +
        "  --sent-after D, --delivered-after D, --read-after D   status delays after the 200, or 'off'\n" +
        "                        (defaults 0.5s, 1s, 3s; env STUB_SENT_AFTER, STUB_DELIVERED_AFTER, STUB_READ_AFTER)\n" +
        "  durations: 500ms, 30s, 10m, 24h, or 1.00:00:00";

    /// <returns>The settings, or null with <paramref name="error"/> set when the command line is wrong.</returns>
    public static StubSettings? Parse(string[] args, out string? error) => Parse(args, Environment.GetEnvironmentVariable, out error);

    public static StubSettings? Parse(string[] args, Func<string, string?> environment, out string? error)
    {
        error = null;
        var options = new WhatsAppStubOptions
        {
            Port = int.TryParse(environment("STUB_PORT"), out var envPort) ? envPort : DefaultPort,
            Faults = string.Equals(environment("STUB_FAULTS"), "true", StringComparison.OrdinalIgnoreCase),
            MappingsFolder = DefaultMappingsFolder,
            BindAllInterfaces = true,
        };
        var senders = new Dictionary<string, string>(StringComparer.Ordinal);
        var waIds = new Dictionary<string, string>(StringComparer.Ordinal);
        var values = new List<(string Name, string Value)>();
        foreach (var (name, variable) in EnvironmentFlags)
        {
            if (environment(variable) is { Length: > 0 } value) values.AddRange(IsList(name) ? value.Split(',').Select(v => (name, v.Trim())) : [(name, value)]);
        }

        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--faults":
                    options = options with { Faults = true };
                    break;
                case var flag when (flag is "--port" or "--mappings" || EnvironmentFlags.Any(f => f.Flag == flag)) && i + 1 < args.Length:
                    values.Add((flag, args[++i]));
                    break;
                default:
                    error = $"unknown or incomplete argument: {args[i]}";
                    return null;
            }
        }

        foreach (var (name, value) in values)
        {
            options = Apply(options, name, value, senders, waIds);
            if (options is null)
            {
                // Tokens, the secret and phone numbers are not echoed: this line ends up in logs.
                error = name switch
                {
                    "--sender" => "--sender wants PNID=TOKEN",
                    "--wa-id" => "--wa-id wants NUMBER=WA_ID (digits)",
                    "--app-secret" => "--app-secret is empty",
                    _ => $"bad value for {name}: {value}",
                };
                return null;
            }
        }

        options = options with { Senders = senders, WaIds = waIds };
        if (!Directory.Exists(options.MappingsFolder))
        {
            error = $"mappings folder not found: {options.MappingsFolder}";
            return null;
        }

        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            error = ex.Message;
            return null;
        }

        return new StubSettings(options);
    }

    private static readonly (string Flag, string Variable)[] EnvironmentFlags =
    [
        ("--sender", "STUB_SENDERS"), ("--wa-id", "STUB_WA_IDS"), ("--templates", "STUB_TEMPLATES"), ("--webhook-url", "STUB_WEBHOOK_URL"), ("--app-secret", "STUB_APP_SECRET"),
        ("--customer-service-window", "STUB_CUSTOMER_SERVICE_WINDOW"), ("--messaging-limit", "STUB_MESSAGING_LIMIT"),
        ("--messaging-limit-window", "STUB_MESSAGING_LIMIT_WINDOW"), ("--sent-after", "STUB_SENT_AFTER"),
        ("--delivered-after", "STUB_DELIVERED_AFTER"), ("--read-after", "STUB_READ_AFTER"),
    ];

    private static bool IsList(string flag) => flag is "--sender" or "--wa-id";

    /// <returns>The options with the flag applied, or null when its value is wrong.</returns>
    private static WhatsAppStubOptions? Apply(
        WhatsAppStubOptions options, string flag, string value, Dictionary<string, string> senders, Dictionary<string, string> waIds)
    {
        switch (flag)
        {
            case "--port" when int.TryParse(value, out var port) && port is > 0 and < 65536:
                return options with { Port = port };
            case "--mappings":
                return options with { MappingsFolder = Path.GetFullPath(value) };
            case "--templates" when File.Exists(value):
                return options with { TemplatesFile = Path.GetFullPath(value) };
            case "--sender" or "--wa-id" when value.Split('=', 2) is [{ Length: > 0 } key, { Length: > 0 } mapped] &&
                                              (flag == "--sender" || key.All(char.IsAsciiDigit) && mapped.All(char.IsAsciiDigit)):
                (flag == "--sender" ? senders : waIds)[key] = mapped;
                return options;
            case "--webhook-url" when Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https":
                return options with { WebhookUrl = url };
            case "--app-secret" when value.Length > 0:
                return options with { AppSecret = value };
            case "--messaging-limit" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit):
                return options with { MessagingLimit = limit };
            case "--customer-service-window" when Duration(value) is { } window:
                return options with { CustomerServiceWindow = window };
            case "--messaging-limit-window" when Duration(value) is { } window:
                return options with { MessagingLimitWindow = window };
            case "--sent-after" or "--delivered-after" or "--read-after" when value == "off" || Duration(value) is not null:
                var delay = value == "off" ? null : Duration(value);
                return flag switch
                {
                    "--sent-after" => options with { SentAfter = delay },
                    "--delivered-after" => options with { DeliveredAfter = delay },
                    _ => options with { ReadAfter = delay },
                };
            default:
                return null;
        }
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(ms|s|m|h)$")]
    private static partial Regex ShortDuration();

    /// <summary><c>500ms</c>, <c>30s</c>, <c>10m</c>, <c>24h</c> or a TimeSpan (<c>1.00:00:00</c>); null when neither.</summary>
    public static TimeSpan? Duration(string value)
    {
        if (ShortDuration().Match(value) is { Success: true } match)
        {
            var amount = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            return match.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(amount),
                "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                _ => TimeSpan.FromHours(amount),
            };
        }

        return TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero ? span : null;
    }
}
