using Bot.Tools.Demo;

// run.sh's demo and smoke client: ./run.sh --demo (1,000 employees) and --smoke (5) start the system, then run this.
var settings = DemoSettings.Parse(args, out var error);
if (settings is null)
{
    Console.Error.WriteLine($"Demo: {error}");
    Console.Error.WriteLine(DemoSettings.Usage);
    return 2;
}

try
{
    return await new DemoRun(settings).RunAsync();
}
catch (Exception ex) when (ex is HttpRequestException or DemoFailedException or TaskCanceledException)
{
    Console.Error.WriteLine($"Demo: {ex.Message}");
    return 1;
}
