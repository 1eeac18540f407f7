namespace Bot.Webhook.Webhook;

/// <summary>
/// Says whether something seen again and again (a webhook for a number not configured, a message from a BSUID nobody
/// has) should be logged now: once per key per hour, so it is seen without flooding the log. Per process.
/// </summary>
public sealed class HourlyReport(TimeProvider time)
{
    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);
    private const int MaxKeys = 1000;
    private readonly Dictionary<string, DateTimeOffset> last = [];
    private readonly Lock gate = new();

    public bool ShouldReport(string key)
    {
        var now = time.GetUtcNow();
        lock (gate)
        {
            if (last.TryGetValue(key, out var at) && now - at < Interval) return false;
            // A flood of distinct keys must not grow the process: start over, logging a few of them twice.
            if (last.Count >= MaxKeys) last.Clear();
            last[key] = now;
            return true;
        }
    }
}
