namespace Bot.FaultTests;

public sealed class ScaleTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TenThousandEmployeesFiveDispatcherProcessesEachEmployeeOnce(bool useLock)
    {
        await using var world = await FaultWorld.StartAsync();
        var phones = await world.SeedEmployeesAsync(10_000);
        world.StartDispatchers(5, new Dictionary<string, string>
        {
            ["Dispatcher:UseLock"] = useLock.ToString(),
            // Without the lock, short leases make the processes overlap on the one announcement.
            ["Dispatcher:LeaseDuration"] = useLock ? "00:00:30" : "00:00:01",
            ["Dispatcher:BatchSize"] = "500",
        });

        var id = await world.AnnounceAsync("Quarterly results are in");
        await world.WaitForCompletedAsync(id, TimeSpan.FromMinutes(3));

        var counts = await world.AssertExactlyOnceAsync(id, 10_000);
        Assert.Equal(10_000, counts.Sent);
        Assert.Equal(phones.Order(), world.Stub.Accepted.Select(s => s.To).Order());
    }
}
