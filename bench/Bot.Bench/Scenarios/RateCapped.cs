namespace Bot.Bench.Scenarios;

/// <summary>Scenario 2: one announcement at <c>WhatsApp:MessagesPerSecond</c> = 1,000: total time and the busiest one-second window.</summary>
public static class RateCapped
{
    public static async Task RunAsync(BenchWorld world, ScenarioResult result)
    {
        var n = world.Options.RateCappedEmployees;
        var run = await FanOutRun.RunAsync(world, result, world.Redis, n, 1, noRateCap: false);
        var ideal = (double)n / world.Options.RateCap;
        var total = run.Elapsed.TotalSeconds;
        var firstToLast = TimeSpan.FromTicks(run.Log.Arrivals[^1] - run.Log.Arrivals[0]).TotalSeconds;
        var window = run.Log.LargestOneSecondWindow();
        result.Add("total time (create → completed)", total, "s", $"{ideal:N0} s ± 1%", Math.Abs(total - ideal) <= ideal * 0.01);
        result.Add("first → last send", firstToLast, "s");
        result.Add("largest 1-s window (sliding)", window, "sends", $"≤ {world.Options.RateCap * 1.02:N0}", window <= world.Options.RateCap * 1.02);
    }
}
