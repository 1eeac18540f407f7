using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.Scheduler.Health;

/// <summary>
/// <c>GET /health/live</c> and <c>/health/ready</c> for a standalone dispatcher on <c>Dispatcher:HealthPort</c>, so
/// compose and orchestrators can probe a worker that has no web server. An <see cref="HttpListener"/> rather than
/// Kestrel: two fixed paths do not justify a web host in the worker.
/// </summary>
public sealed partial class HealthProbeListener(
    HealthCheckService healthChecks,
    IOptions<DispatcherOptions> options,
    ILogger<HealthProbeListener> logger) : BackgroundService
{
    public const string LivePath = "/health/live";
    public const string ReadyPath = "/health/ready";

    private static readonly HealthReport Live = new(new Dictionary<string, HealthReportEntry>(), TimeSpan.Zero);

    private HttpListener? listener;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.HealthPort == 0) return;
        // Bound here, not in ExecuteAsync (which runs in the background): the probe answers as soon as the host has
        // started, and a port already in use fails start-up instead of leaving a worker that never looks ready.
        listener = new HttpListener();
        // "+" binds every interface, so the probe answers inside a container as well as on localhost.
        listener.Prefixes.Add($"http://+:{options.Value.HealthPort}/");
        listener.Start();
        LogListening(options.Value.HealthPort);
        await base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        listener?.Close();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var listener = this.listener!;
        await using var _ = stoppingToken.Register(listener.Stop);

        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (HttpListenerException ex)
            {
                LogAcceptFailed(ex);
                continue;
            }

            // One probe at a time is plenty; a slow Redis PING is bounded by the check's own timeout.
            try
            {
                await AnswerAsync(context, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogAnswerFailed(ex);
            }
        }
    }

    private async Task AnswerAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        var response = context.Response;
        var path = context.Request.Url?.AbsolutePath.TrimEnd('/');
        HealthReport? report = path switch
        {
            LivePath => Live,
            ReadyPath => await healthChecks.CheckHealthAsync(ReadinessChecks.IsReadinessCheck, cancellationToken),
            _ => null,
        };
        if (report is null)
        {
            response.StatusCode = 404;
            response.Close();
            return;
        }

        var body = HealthReportJson.Serialize(report);
        response.StatusCode = HealthReportJson.StatusCode(report);
        response.ContentType = HealthReportJson.ContentType;
        response.Headers["Cache-Control"] = "no-store";
        response.Close(body, willBlock: false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Health probe listening on port {Port} (/health/live, /health/ready)")]
    private partial void LogListening(int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Health probe could not accept a request")]
    private partial void LogAcceptFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Health probe failed to answer")]
    private partial void LogAnswerFailed(Exception ex);
}
