using Bot.Scheduler;
using Microsoft.Extensions.Options;

var builder = Host.CreateApplicationBuilder(args);
builder.AddStandaloneDispatcher();

try
{
    builder.Build().Run();
    return 0;
}
catch (OptionsValidationException ex)
{
    // One line naming the setting, not a stack trace.
    Console.Error.WriteLine($"Configuration error: {ex.Message}");
    return 2;
}
