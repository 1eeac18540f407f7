namespace Bot.FaultTests;

/// <summary>The built hosts as real processes, started with a wrong configuration: they stop at once, naming the keys.</summary>
public sealed class StartupTests
{
    private static readonly Dictionary<string, string> WrongTimings = new()
    {
        ["Employers:acme:TimeZone"] = "Europe/Atlantis",
        ["Employers:acme:QuietHours"] = "7-9",
    };

    [Fact]
    public async Task AWrongEmployerTimingStopsTheWebhookHostAndTheDispatcherAtStartUpNamingTheKeys()
    {
        await using var world = await FaultWorld.StartAsync();
        await using var webhook = HostProcess.StartWebhook(Ports.Free(), WebhookProcess.Settings(world, WrongTimings));
        var dispatcher = world.StartDispatcher(WrongTimings); // the world stops it

        foreach (var host in new[] { webhook, dispatcher })
        {
            await host.WaitForExitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(2, host.ExitCode);
            var error = Assert.Single(host.Output, l => l.StartsWith("Configuration error:", StringComparison.Ordinal));
            Assert.Contains("Employers:acme:TimeZone 'Europe/Atlantis'", error);
            Assert.Contains("Employers:acme:QuietHours '7-9'", error);
        }
    }
}
