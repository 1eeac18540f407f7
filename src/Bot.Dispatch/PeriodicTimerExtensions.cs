namespace Bot.Dispatch;

internal static class PeriodicTimerExtensions
{
    /// <summary>Waits for the next tick; false once the host is stopping (or the timer is disposed), for a
    /// <c>do … while</c> background loop that ends quietly instead of throwing on shutdown.</summary>
    public static async Task<bool> TickOrStopAsync(this PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
