using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bot.Scheduler.Health;

/// <summary>The body of a health answer: overall status and one line per check, so a failing probe says why.</summary>
public static class HealthReportJson
{
    public const string ContentType = "application/json";

    public static byte[] Serialize(HealthReport report) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        status = report.Status.ToString(),
        checks = report.Entries.ToDictionary(
            e => e.Key,
            e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
    });

    /// <summary>200 when healthy or degraded, 503 when unhealthy (ASP.NET Core's default mapping).</summary>
    public static int StatusCode(HealthReport report) => report.Status == HealthStatus.Unhealthy ? 503 : 200;
}
