using System.ComponentModel.DataAnnotations;
using Bot.Core.Announcements;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.Dispatch;

/// <summary>The series scheduler's settings, in the <c>Dispatcher</c> section.</summary>
public sealed class SeriesSchedulerOptions
{
    /// <summary>How far ahead occurrences of recurring series are created (as scheduled announcements, visible and cancellable).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "31.00:00:00", ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public TimeSpan SeriesHorizon { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How often the active series are looked at; well below the horizon, so no occurrence is created late.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00", ErrorMessage = "Dispatcher:{0} must be between {1} and {2}.")]
    public TimeSpan SeriesInterval { get; set; } = TimeSpan.FromMinutes(1);
}

public static class SeriesSchedulerHostingExtensions
{
    public static IHostApplicationBuilder AddSeriesScheduler(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SeriesSchedulerOptions>()
            .BindConfiguration(DispatcherOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.SeriesInterval < o.SeriesHorizon,
                "Dispatcher:SeriesInterval must be shorter than Dispatcher:SeriesHorizon: occurrences are created a horizon ahead, at every interval.")
            .ValidateOnStart();
        builder.Services.AddHostedService<SeriesScheduler>();
        return builder;
    }
}

/// <summary>
/// Keeps the occurrences of recurring series created a horizon ahead (<see cref="SeriesStore.ExtendAsync"/>). It runs on
/// every dispatcher replica without a lock: an occurrence's id is derived from its series and time, so replicas that
/// create the same one at once create one announcement, and its deliveries are gated by SET NX like any other.
/// </summary>
public sealed partial class SeriesScheduler(
    SeriesStore series,
    IOptions<SeriesSchedulerOptions> options,
    TimeProvider time,
    ILogger<SeriesScheduler> logger) : BackgroundService
{
    private const int MaxSeriesPerTick = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SeriesInterval, time);
        do
        {
            try
            {
                await ExtendDueAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Redis down: the next tick tries again.
                LogFailed(ex);
            }
        }
        while (await timer.TickOrStopAsync(stoppingToken));
    }

    /// <summary>Creates the occurrences due within the horizon of every series that has one.</summary>
    public async Task ExtendDueAsync(CancellationToken stoppingToken)
    {
        var until = time.GetUtcNow() + options.Value.SeriesHorizon;
        foreach (var id in await series.DueAsync(until, MaxSeriesPerTick))
        {
            if (stoppingToken.IsCancellationRequested) return;
            try
            {
                if (await series.GetAsync(id) is not { IsActive: true } active) await series.ForgetAsync(id);
                else if (await series.ExtendAsync(active, until) is var made and > 0) LogExtended(id, made);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One unreadable series (or a rule Ical.Net gives up on) must not stop the others.
                LogSeriesFailed(ex, id);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Series {SeriesId}: {Count} occurrences created or found created")]
    private partial void LogExtended(string seriesId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Series {SeriesId} could not be extended; it is looked at again at the next tick")]
    private partial void LogSeriesFailed(Exception exception, string seriesId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The series scheduler's tick failed; retrying at the next tick")]
    private partial void LogFailed(Exception exception);
}
