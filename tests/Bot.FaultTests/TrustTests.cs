using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using Xunit.Abstractions;

namespace Bot.FaultTests;

/// <summary>
/// What goes wrong must cost nobody their message: an outage, a refusal about the number, a stalled lock holder. Each
/// test asserts the same property black-box: every employee gets it once, and only a request that may have reached
/// WhatsApp is <c>unknown</c>.
/// </summary>
public sealed class TrustTests(ITestOutputHelper output)
{
    private const int MaxConcurrentSends = 8;
    private const int UnknownsBeforePause = 3;

    // Every Graph request (sends and the probes that read the number), as in a WhatsApp incident.
    private static IRequestBuilder AnyGraphRequest() => Request.Create().WithPath(new RegexMatcher(@"^/v\d+\.\d+/"));

    private static Dictionary<string, string> OutageSettings() => new()
    {
        ["WhatsApp:MessagesPerSecond"] = "200",
        ["Dispatcher:MaxConcurrentSends"] = $"{MaxConcurrentSends}",
        ["Dispatcher:UnknownsBeforePause"] = $"{UnknownsBeforePause}",
        ["Dispatcher:OutagePause"] = "00:00:00.500",
        ["Dispatcher:OutagePauseMax"] = "00:00:02",
    };

    public static TheoryData<string> Outages => ["503", "timeout"];

    [Theory]
    [MemberData(nameof(Outages))]
    public async Task AnOutageCostsAtMostTheSendsInFlightAndEveryoneElseGetsItOnceAfterwards(string kind)
    {
        await using var world = await FaultWorld.StartAsync();
        await world.SeedEmployeesAsync(600);
        var settings = OutageSettings();
        settings["WhatsApp:Timeout"] = "00:00:01";
        var dispatcher = world.StartDispatcher(settings);
        var id = await world.AnnounceAsync($"Outage ({kind}) test");
        await Eventually.WaitAsync(() => Task.FromResult(world.Stub.Sends.Count), n => n >= 100, TimeSpan.FromSeconds(30), "100 sends");

        var outage = Guid.NewGuid();
        world.Stub.Server.Given(AnyGraphRequest()).WithGuid(outage).AtPriority(0).RespondWith(kind == "503"
            ? WhatsAppStub.GraphError(503, 131016, "Service temporarily unavailable")
            : Response.Create().WithStatusCode(200).WithBody("{}").WithDelay(TimeSpan.FromSeconds(2)));
        await Eventually.WaitAsync(() => world.ReadAsync(id), r => r.Status == AnnouncementStatus.Paused,
            TimeSpan.FromSeconds(10), "the announcement paused by the outage");
        // The outage itself: eight seconds of every request failing, probes included.
        await Task.Delay(TimeSpan.FromSeconds(8));
        world.Stub.Server.DeleteMapping(outage);
        await world.WaitForCompletedAsync(id, TimeSpan.FromSeconds(60));

        var counts = await world.AssertExactlyOnceAsync(id, 600);
        output.WriteLine($"{kind}: counts {counts}; {world.Stub.Sends.Count} requests");
        foreach (var line in dispatcher.Output.Where(l => l.Contains("paused") || l.Contains("resumes"))) output.WriteLine(line);
        // Those in flight when the outage began, and those before the pause (a few in a row): nobody else.
        Assert.InRange(counts.Unknown, 1, MaxConcurrentSends + UnknownsBeforePause - 1);
        Assert.Equal(0, counts.Failed);
        Assert.Equal(600 - counts.Unknown, counts.Sent + counts.Delivered + counts.Read);
        Assert.True(dispatcher.CountLines("WhatsApp answers sender default again") >= 1, "no resume logged");
    }

    [Theory]
    [InlineData(401, 0, "An auth error not on any list")]
    [InlineData(400, 139999, "A code WhatsApp added yesterday")]
    public async Task AnErrorNotAboutTheRecipientPausesTheNumberFailsNobodyAndEveryoneGetsItOnceAfterTheFix(int status, int code, string message)
    {
        await using var world = await FaultWorld.StartAsync();
        await world.SeedEmployeesAsync(200);
        var refusal = Guid.NewGuid();
        world.Stub.Server.Given(Request.Create().WithPath(new RegexMatcher(@"/messages$")).UsingPost()).WithGuid(refusal).AtPriority(0)
            .RespondWith(WhatsAppStub.GraphError(status, code, message));
        var dispatcher = world.StartDispatcher(new Dictionary<string, string> { ["Dispatcher:StopTheLinePause"] = "00:00:01" });

        var id = await world.AnnounceAsync("Refused test");
        var (_, counts) = await Eventually.WaitAsync(() => world.ReadAsync(id), r => r.Status == AnnouncementStatus.Paused,
            TimeSpan.FromSeconds(15), "the announcement paused");
        var announcement = await Store(world).GetAsync(id);
        Assert.StartsWith($"{code}: ", announcement!.Reason);
        Assert.Equal(0, counts.Settled);

        world.Stub.Server.DeleteMapping(refusal);
        await world.WaitForCompletedAsync(id, TimeSpan.FromSeconds(30));
        counts = await world.AssertExactlyOnceAsync(id, 200);
        output.WriteLine($"{code}: counts {counts}; {world.Stub.Sends.Count} requests");
        Assert.Equal(200, counts.Sent);
        Assert.Equal(0, counts.Failed + counts.Unknown);
        Assert.True(dispatcher.CountLines("is paused for") >= 1);
    }

    [Fact]
    public async Task ALockHolderStalledPastItsLockAndLeaseLeavesNoUnknownThatNeverLeftAndSendsNothingTwice()
    {
        await using var world = await FaultWorld.StartAsync();
        await world.SeedEmployeesAsync(1500);
        world.StartDispatchers(2, new Dictionary<string, string>
        {
            ["WhatsApp:MessagesPerSecond"] = "250",
            ["Dispatcher:LeaseDuration"] = "00:00:03",
            ["Dispatcher:BatchSize"] = "50",
        });
        var id = await world.AnnounceAsync("Stall test");
        await Eventually.WaitAsync(() => Task.FromResult(world.Stub.Sends.Count), n => n >= 300, TimeSpan.FromSeconds(30), "300 sends");

        var holder = (await world.LockHolderAsync(TimeSpan.FromSeconds(10)))!;
        holder.Suspend();
        // Stalled for longer than the lock (3 s) and the lease (3 s): the other replica takes over meanwhile.
        var sentBefore = world.Stub.Sends.Count;
        await Eventually.WaitAsync(() => Task.FromResult(world.Stub.Sends.Count), n => n >= sentBefore + 300, TimeSpan.FromSeconds(30),
            "the other replica sending");
        holder.Resume();
        await world.WaitForCompletedAsync(id, TimeSpan.FromMinutes(1));

        var counts = await world.AssertExactlyOnceAsync(id, 1500);
        var employeeIds = Enumerable.Range(1, 1500).Select(i => $"e{i:D5}").ToArray();
        var records = await new DeliveryStore(world.Db).GetManyAsync(id, employeeIds);
        var unknown = Enumerable.Range(0, 1500).Where(i => records[i]?.State == DeliveryState.Unknown).ToList();
        // The woken holder's requests that were claimed but not yet written when it froze leave now: each unknown must
        // reach WhatsApp (a claim whose request never leaves would keep this list non-empty until the deadline).
        var neverSent = await Eventually.WaitAsync(
            () => Task.FromResult(unknown.Where(i => world.Stub.CountTo(FaultWorld.Phone(i + 1)) == 0).Select(i => employeeIds[i]).ToList()),
            left => left.Count == 0, TimeSpan.FromSeconds(15), "every unknown delivery's request at WhatsApp");
        output.WriteLine($"counts {counts}; unknown: {unknown.Count}, each received by WhatsApp");
        Assert.Empty(neverSent);
        await world.AssertExactlyOnceAsync(id, 1500);
        Assert.InRange(counts.Unknown, 0, 32);
    }

    [Fact]
    public async Task OneEmployersResumeLiftsOnlyThePauseOfItsOwnNumber()
    {
        await using var world = await FaultWorld.StartAsync();
        const string other = "globex";
        var settings = new Dictionary<string, string>
        {
            ["WhatsApp:PhoneNumberId"] = "",
            [$"Employers:{FaultWorld.EmployerId}:Sender"] = "a",
            [$"Employers:{other}:Sender"] = "b",
            ["Dispatcher:StopTheLinePause"] = "01:00:00",
        };
        foreach (var (sender, number) in new[] { ("a", "100000000000001"), ("b", "100000000000002") })
        {
            settings[$"Senders:{sender}:PhoneNumberId"] = number;
            settings[$"Senders:{sender}:AccessToken"] = $"token-{sender}";
        }
        await world.SeedEmployeesAsync(50);
        var employees = new EmployeeStore(world.Db, TimeProvider.System);
        await Task.WhenAll(Enumerable.Range(1, 50).Select(i => employees.UpsertAsync(other, $"g{i:D5}", $"+1650{6660000 + i:D7}", null)));
        var spam = Guid.NewGuid();
        world.Stub.Server.Given(Request.Create().WithPath(new RegexMatcher(@"/messages$")).UsingPost()).WithGuid(spam).AtPriority(0)
            .RespondWith(WhatsAppStub.GraphError(400, 131048, "Spam rate limit hit"));
        world.StartDispatcher(settings);
        var store = Store(world);
        var (_, ours) = await store.CreateAsync(new NewAnnouncement(FaultWorld.EmployerId, "Ours", null, null, null), null, "a");
        var (_, theirs) = await store.CreateAsync(new NewAnnouncement(other, "Theirs", null, null, null), null, "b");
        foreach (var id in new[] { ours, theirs })
            await Eventually.WaitAsync(() => world.ReadAsync(id), r => r.Status == AnnouncementStatus.Paused, TimeSpan.FromSeconds(15), $"{id} paused");

        world.Stub.Server.DeleteMapping(spam);
        Assert.True(await store.ResumeNowAsync(FaultWorld.EmployerId, ours));
        await world.WaitForCompletedAsync(ours, TimeSpan.FromSeconds(30));
        // The other employer's number stays paused: neither its paused announcement nor a new one goes out.
        var (_, next) = await store.CreateAsync(new NewAnnouncement(other, "Theirs, later", null, null, null), null, "b");
        await world.WaitForCompletedAsync(await world.AnnounceAsync("Ours, later", senderId: "a"), TimeSpan.FromSeconds(30));

        Assert.Equal(AnnouncementStatus.Paused, (await world.ReadAsync(theirs)).Status);
        Assert.NotEqual(AnnouncementStatus.Completed, (await world.ReadAsync(next)).Status);
        Assert.Equal(0, world.Stub.Accepted.Count(s => s.To.StartsWith("+1650666", StringComparison.Ordinal)));
        Assert.Equal(100, world.Stub.Accepted.Count(s => s.To.StartsWith("+1650555", StringComparison.Ordinal)));
    }

    private static AnnouncementStore Store(FaultWorld world) =>
        new(world.Db, new AnnouncementQueues(world.Db, TimeProvider.System), TimeProvider.System);
}
