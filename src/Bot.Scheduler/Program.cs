using Bot.Dispatch;
using Microsoft.Extensions.Options;

// A slim web host: the dispatcher works in the background; Kestrel serves only health and metrics.
var app = WebApplication.CreateSlimBuilder(args).BuildDispatcherReplica();

try
{
    app.Run();
    return 0;
}
catch (OptionsValidationException ex)
{
    // One line naming the setting, not a stack trace.
    Console.Error.WriteLine($"Configuration error: {ex.Message}");
    return 2;
}
