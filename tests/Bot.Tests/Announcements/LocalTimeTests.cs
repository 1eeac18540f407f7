using System.Net;
using System.Net.Http.Json;
using Bot.Core.Announcements;
using Bot.Core.Redis;
using Bot.Tests.Harness;
using Microsoft.Extensions.Time.Testing;

namespace Bot.Tests.Announcements;

/// <summary><c>sendAtLocal</c> and quiet hours, end to end: real Redis, the WhatsApp stub, a dispatcher on a clock the test moves.</summary>
public sealed class LocalTimeTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SendAtLocalReachesEachEmployeeAtNineInTheirOwnZone()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 23, 12, 0, 0, TimeSpan.Zero));
        await using var scenario = new Scenario(redis, time: clock);
        await PutEmployeeAsync(scenario, "tokyo", "+16505550101", "Asia/Tokyo");
        await PutEmployeeAsync(scenario, "newyork", "+16505550102", "America/New_York");
        // No zone of its own and none for the employer: UTC.
        await PutEmployeeAsync(scenario, "london", "+16505550103", null);
        await scenario.StartDispatchersAsync(1);

        var id = await scenario.CreateAnnouncementAsync(new { message = "Merry Christmas Eve", sendAtLocal = "2026-12-24T09:00" });
        var created = await RecurrenceTests.WaitForStatusAsync(scenario, id, "scheduled");
        // Due when the first zone (UTC+14) reaches 09:00.
        Assert.Equal(new DateTimeOffset(2026, 12, 23, 19, 0, 0, TimeSpan.Zero), created!.SendAt);
        Assert.Equal("2026-12-24T09:00:00", created.SendAtLocal);

        (DateTimeOffset At, string Phone)[] expected =
        [
            (new(2026, 12, 24, 0, 0, 0, TimeSpan.Zero), "+16505550101"),  // 09:00 in Tokyo (UTC+9)
            (new(2026, 12, 24, 9, 0, 0, TimeSpan.Zero), "+16505550103"),  // 09:00 UTC
            (new(2026, 12, 24, 14, 0, 0, TimeSpan.Zero), "+16505550102"), // 09:00 in New York (UTC-5)
        ];
        // The announcement is claimed when due and holds everyone whose 09:00 has not come.
        clock.SetUtcNow(created.SendAt);
        await WaitForDeliveriesAsync(scenario, id, sent: 0);
        foreach (var (at, phone) in expected)
        {
            clock.SetUtcNow(at - TimeSpan.FromSeconds(1));
            await AfterTheDispatcherLookedAgainAsync(scenario);
            Assert.Equal(0, scenario.Stub.Sends.Count(s => s.To == phone && s.Text == "Merry Christmas Eve"));

            clock.SetUtcNow(at);
            await Eventually.WaitAsync(() => Task.FromResult(scenario.Stub.Sends.Count(s => s.To == phone && s.Text == "Merry Christmas Eve")),
                n => n == 1, Timeout, $"the send to {phone} at {at:O}");
        }

        var done = await scenario.WaitForStatusAsync(id, "completed", Timeout);
        Assert.Equal(3, done.Counts.Sent);
        Assert.Equal(3, scenario.Stub.Sends.Count(s => s.Text == "Merry Christmas Eve"));
    }

    [Fact]
    public async Task QuietHoursHoldADeliveryUntilTheyEndAndUrgentOnesGoAtOnce()
    {
        // 23:00 in Berlin, the employer's zone; quiet from 21:00 to 07:00.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 22, 0, 0, TimeSpan.Zero));
        await using var scenario = new Scenario(redis, new Dictionary<string, string?>
        {
            ["Employers:acme:TimeZone"] = "Europe/Berlin",
            ["Employers:acme:QuietHours"] = "21:00-07:00",
        }, clock);
        await PutEmployeeAsync(scenario, "berlin", "+16505550201", null);
        // 08:00 in Tokyo: outside its quiet hours already.
        await PutEmployeeAsync(scenario, "tokyo", "+16505550202", "Asia/Tokyo");
        await scenario.StartDispatchersAsync(1);

        var held = await scenario.CreateAnnouncementAsync(new { message = "Canteen closed tomorrow" });
        var urgent = await scenario.CreateAnnouncementAsync(new { message = "Fire alarm test cancelled", urgent = true });

        await scenario.WaitForStatusAsync(urgent, "completed", Timeout);
        await WaitForDeliveriesAsync(scenario, held, sent: 1);
        Assert.Equal(1, scenario.Stub.Sends.Count(s => s.To == "+16505550202" && s.Text == "Canteen closed tomorrow"));
        Assert.Equal(0, scenario.Stub.Sends.Count(s => s.To == "+16505550201" && s.Text == "Canteen closed tomorrow"));
        Assert.Equal(2, scenario.Stub.Sends.Count(s => s.Text == "Fire alarm test cancelled"));

        // 06:59:59 in Berlin: still quiet.
        clock.SetUtcNow(new DateTimeOffset(2026, 12, 1, 5, 59, 59, TimeSpan.Zero));
        var stillHeld = await scenario.CreateAnnouncementAsync(new { message = "fence", employeeIds = new[] { "tokyo" }, urgent = true });
        await scenario.WaitForStatusAsync(stillHeld, "completed", Timeout);
        Assert.Equal(0, scenario.Stub.Sends.Count(s => s.To == "+16505550201" && s.Text == "Canteen closed tomorrow"));

        // 07:00 in Berlin: released.
        clock.SetUtcNow(new DateTimeOffset(2026, 12, 1, 6, 0, 0, TimeSpan.Zero));
        var done = await scenario.WaitForStatusAsync(held, "completed", Timeout);
        Assert.Equal(2, done.Counts.Sent);
        Assert.Equal(1, scenario.Stub.Sends.Count(s => s.To == "+16505550201" && s.Text == "Canteen closed tomorrow"));
    }

    [Fact]
    public async Task QuietHoursHoldAReminderUntilTheyEndInTheEmployeesZone()
    {
        // 11:00 in Berlin (the employer's zone), 19:00 in Tokyo; quiet from 21:00 to 07:00 in each employee's zone.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 10, 0, 0, TimeSpan.Zero));
        await using var scenario = new Scenario(redis, new Dictionary<string, string?>
        {
            ["Employers:acme:TimeZone"] = "Europe/Berlin",
            ["Employers:acme:QuietHours"] = "21:00-07:00",
        }, clock);
        await PutEmployeeAsync(scenario, "berlin", "+16505550301", null);
        await PutEmployeeAsync(scenario, "tokyo", "+16505550302", "Asia/Tokyo");
        await scenario.StartDispatchersAsync(1);

        var id = await scenario.CreateAnnouncementAsync(new
        {
            message = "Safety briefing on Monday",
            acknowledgement = new { required = true, remindAfter = "PT12H30M", maxReminders = 1 },
        });
        await scenario.WaitForStatusAsync(id, "completed", Timeout);
        Assert.Equal(2, scenario.Stub.Sends.Count(s => s.CallbackData == $"{id}:berlin" || s.CallbackData == $"{id}:tokyo"));

        // The reminder is due at 22:30Z: 23:30 in Berlin (quiet), 07:30 in Tokyo (not). Tokyo is reminded; Berlin is held,
        // and the announcement waits for 07:00 in Berlin.
        clock.SetUtcNow(new DateTimeOffset(2026, 11, 30, 22, 30, 0, TimeSpan.Zero));
        var berlinMorning = new DateTimeOffset(2026, 12, 1, 6, 0, 0, TimeSpan.Zero);
        await Eventually.WaitAsync(async () => await scenario.Redis.SortedSetScoreAsync(RedisKeys.Due(AnnouncementQueues.DefaultSender), id),
            score => score == berlinMorning.ToUnixTimeMilliseconds(), Timeout, "the reminder held until 07:00 in Berlin");
        Assert.Equal(["+16505550302"], Reminders(scenario, id));

        clock.SetUtcNow(berlinMorning);
        await Eventually.WaitAsync(() => Task.FromResult(Reminders(scenario, id)), r => r.Length == 2, Timeout, "Berlin's reminder");
        Assert.Equal(["+16505550301", "+16505550302"], Reminders(scenario, id).Order());
    }

    private static string[] Reminders(Scenario scenario, string id) =>
        [.. scenario.Stub.Sends.Where(s => s.CallbackData == $"{id}:berlin:r1" || s.CallbackData == $"{id}:tokyo:r1").Select(s => s.To)];

    [Fact]
    public async Task BadQuietHoursOrEmployerZoneStopTheDispatcherNamingTheKey()
    {
        await using var scenario = new Scenario(redis);
        // Built here rather than by the scenario, which would stop it (a host that never started cannot be stopped).
        using var host = DispatcherHosts.Build(new Dictionary<string, string?>(scenario.Settings)
        {
            ["Dispatcher:Enabled"] = "true",
            ["Employers:acme:QuietHours"] = "21:00-25:00",
            ["Employers:acme:TimeZone"] = "Mars/Olympus_Mons",
        });

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        Assert.Contains("Employers:acme:QuietHours", failure.Message);
        Assert.Contains("Employers:acme:TimeZone", failure.Message);
    }

    private static async Task PutEmployeeAsync(Scenario scenario, string id, string phone, string? timeZone)
    {
        var response = await scenario.Api.PutAsJsonAsync($"/api/employees/{id}", new { phone, timeZone });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    /// <summary>Waits until the announcement's pass has run and held the rest: <paramref name="sent"/> sent, the others pending.</summary>
    private static Task WaitForDeliveriesAsync(Scenario scenario, string id, int sent) =>
        Eventually.WaitAsync(async () =>
        {
            var view = await scenario.GetAnnouncementAsync(id);
            return view.Status == "dispatching" && view.Counts.Targeted > 0 && view.Counts.Settled == sent;
        }, Timeout, $"announcement {id} dispatching with {sent} sent");

    /// <summary>An urgent send-now announcement to one employee, completed: the dispatcher has looked since the clock last moved.</summary>
    private static async Task AfterTheDispatcherLookedAgainAsync(Scenario scenario)
    {
        var fence = await scenario.CreateAnnouncementAsync(new { message = "fence", employeeIds = new[] { "london" }, urgent = true });
        await scenario.WaitForStatusAsync(fence, "completed", Timeout);
    }
}
