using Bot.Core.Redis;
using Bot.Scheduler;
using Bot.Scheduler.Health;
using Bot.Scheduler.Observability;
using Bot.WhatsAppClient;
using Microsoft.Extensions.Options;

var builder = Host.CreateApplicationBuilder(args);
builder.AddRedis();
builder.Services.AddWhatsAppClient();
builder.AddDispatcher();
builder.AddHealthProbe();
builder.AddProbeMetrics();

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
