using System.ComponentModel.DataAnnotations;
using Bot.Core.Announcements;
using Bot.WhatsAppClient;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.Dispatch;

/// <summary>The creation repair's setting, in the <c>Dispatcher</c> section.</summary>
public sealed class CreationRepairOptions
{
    /// <summary>
    /// A creation begun this long ago and still not queued was interrupted (its process died between writes); it is
    /// finished then. Far longer than a creation takes (a few round trips), so one under way is never raced.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00", ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public TimeSpan RepairCreationsAfter { get; set; } = TimeSpan.FromMinutes(1);
}

public static class CreationRepairHostingExtensions
{
    public static IHostApplicationBuilder AddCreationRepair(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CreationRepairOptions>()
            .BindConfiguration(DispatcherOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddHostedService<CreationRepair>();
        return builder;
    }
}

/// <summary>
/// Queues announcements whose creation stopped between storing and queueing (see
/// <see cref="AnnouncementStore.RepairCreationsAsync"/>). It runs in the dispatcher host because that is where the
/// queue is consumed: a deployment that sends anything runs it, and the webhook host's replicas (scaled for traffic)
/// need not. Cheap and safe on every replica at once: a tick is one range read per sender of a ZSET that is almost
/// always empty, and every repair step is idempotent.
/// </summary>
public sealed partial class CreationRepair(
    AnnouncementStore announcements,
    SenderDirectory senders,
    IOptions<CreationRepairOptions> options,
    TimeProvider time,
    ILogger<CreationRepair> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var after = options.Value.RepairCreationsAfter;
        // Ticks at half the age, so an interrupted creation is queued within 1.5 × RepairCreationsAfter.
        using var timer = new PeriodicTimer(after / 2, time);
        do
        {
            try
            {
                var queued = 0;
                foreach (var sender in senders.All) queued += await announcements.RepairCreationsAsync(sender.Id, after);
                if (queued > 0) LogRepaired(queued);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Redis down or a stored value unreadable: the next tick tries again.
                LogFailed(ex);
            }
        }
        while (await timer.TickOrStopAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queued {Count} announcements whose creation had been interrupted")]
    private partial void LogRepaired(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Creation repair failed; retrying at the next tick")]
    private partial void LogFailed(Exception exception);
}
