using System.Net.Http.Json;
using System.Text;
using Bot.Tests.Harness;

namespace Bot.Tests.Dispatch;

/// <summary>A small announcement never waits behind another's fan-out: a sender's capacity is shared in turn.</summary>
public sealed class FairDispatchTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private const int Cap = 50;

    [Fact]
    public async Task ASmallSendNowGoesOutWithinASecondsWorthOfSendsWhileFiveBigFanOutsRun()
    {
        await using var scenario = new Scenario(redis, new Dictionary<string, string?> { ["WhatsApp:MessagesPerSecond"] = $"{Cap}" });
        var staff = await scenario.AddEmployeesAsync(100);
        var other = scenario.ClientFor(Scenario.OtherApiKey);
        const string smallPhone = "+16502009999";
        var import = new StringContent($"employeeId,phone\nsolo,{smallPhone}\n", Encoding.UTF8, "text/csv");
        (await other.PostAsync("/api/employees/import", import)).EnsureSuccessStatusCode();
        await scenario.StartDispatchersAsync(1);

        // Five fan-outs of 100 from one employer: 500 sends, 10 s at the cap.
        var big = new List<string>();
        for (var i = 0; i < 5; i++) big.Add(await scenario.CreateAnnouncementAsync(new { message = $"Newsletter {i}" }));
        await scenario.Stub.WhenSentAsync(100);
        var before = scenario.Stub.Sends.Count;
        var small = (await (await other.PostAsJsonAsync("/api/announcements", new { message = "The site is closed today" }))
            .Content.ReadFromJsonAsync<Scenario.AcceptedBody>())!.Id;

        var sends = await Eventually.WaitAsync(() => Task.FromResult(scenario.Stub.Sends),
            s => s.Any(x => x.To == smallPhone), TimeSpan.FromSeconds(30), "the small announcement sent");
        var position = sends.ToList().FindIndex(s => s.To == smallPhone);

        // Counted in sends, not seconds, so a busy machine does not change the answer: it went out within the next
        // second's worth of the number's capacity, not after the 400 sends still queued ahead of it.
        Assert.InRange(position - before, 0, Cap);
        foreach (var id in big) await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(60));
        var all = scenario.Stub.Sends;
        Assert.Equal(501, all.Count);
        Assert.All(staff, e => Assert.Equal(5, all.Count(s => s.To == e.Phone)));
        Assert.Equal("completed", (await other.GetFromJsonAsync<Scenario.AnnouncementView>($"/api/announcements/{small}"))!.Status);
    }
}
