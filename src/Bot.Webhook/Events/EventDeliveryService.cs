using Bot.Core.Events;
using Microsoft.Extensions.Options;

namespace Bot.Webhook.Events;

/// <summary>
/// Delivers events on every webhook host: one pump per employer with an endpoint, each on its own, so a slow or dead
/// endpoint only ever waits for itself. Hosts share the work through the outboxes' consumer group and the claims of the
/// employer's queue, so any number may run.
/// </summary>
public sealed partial class EventDeliveryService(EndpointStore endpoints, EventDelivery delivery, IOptionsMonitor<EventsOptions> options,
    TimeProvider time, ILogger<EventDeliveryService> logger) : BackgroundService
{
    private readonly Dictionary<string, Task> pumps = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var (employerId, _) in pumps.Where(p => p.Value.IsCompleted).ToList()) pumps.Remove(employerId);
                foreach (var employerId in await endpoints.EmployersAsync())
                {
                    if (!pumps.ContainsKey(employerId)) pumps[employerId] = Task.Run(() => PumpAsync(employerId, stoppingToken), stoppingToken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException) { LogFailed(logger, e, "*"); }
            await Delay(stoppingToken);
        }
        await Task.WhenAll(pumps.Values).ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    private async Task PumpAsync(string employerId, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                switch (await delivery.RunOnceAsync(employerId, stoppingToken))
                {
                    case null: return; // no endpoint any more; the main loop starts a pump again if one is registered
                    case true: continue; // a full batch: more may be due now
                }
            }
            catch (Exception e) when (e is not OperationCanceledException) { LogFailed(logger, e, employerId); }
            await Delay(stoppingToken);
        }
    }

    private async Task Delay(CancellationToken stoppingToken)
    {
        try { await Task.Delay(options.CurrentValue.PollInterval, time, stoppingToken); }
        catch (OperationCanceledException) { }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Delivering events of employer {EmployerId} failed; trying again next round")]
    private static partial void LogFailed(ILogger logger, Exception exception, string employerId);
}
