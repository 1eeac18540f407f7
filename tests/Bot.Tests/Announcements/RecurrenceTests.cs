using System.Net;
using System.Net.Http.Json;
using Bot.Core.Announcements;
using Bot.Tests.Harness;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Bot.Tests.Announcements;

/// <summary>Recurring announcements, end to end: real Redis (one server and a three-master cluster), the WhatsApp stub, dispatcher hosts
/// on a clock the test moves.</summary>
public abstract class RecurrenceTests(ISharedRedis redis)
{
    public sealed class OnRedis(SharedRedis redis) : RecurrenceTests(redis), IClassFixture<SharedRedis>;

    public sealed class OnCluster(SharedRedisCluster redis) : RecurrenceTests(redis), IClassFixture<SharedRedisCluster>;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Occurrences are created an hour ahead by the series scheduler of every dispatcher.</summary>
    private static readonly Dictionary<string, string?> SeriesSettings = new()
    {
        ["Dispatcher:SeriesHorizon"] = "01:00:00",
        ["Dispatcher:SeriesInterval"] = "00:01:00",
    };

    [Fact]
    public async Task AWeeklySeriesKeepsNineOClockBerlinTimeAcrossTheSpringChangeAndSendsEachOccurrenceOncePerEmployee()
    {
        // Sunday before the first Monday; Europe/Berlin moves from UTC+1 to UTC+2 on 28 March 2027.
        var clock = new FakeTimeProvider(new DateTimeOffset(2027, 3, 14, 10, 0, 0, TimeSpan.Zero));
        await using var scenario = new Scenario(redis, time: clock);
        var employees = await scenario.AddEmployeesAsync(3);
        // Two replicas, each with its own series scheduler creating the same occurrences.
        await scenario.StartDispatchersAsync(2, SeriesSettings);

        var seriesId = await scenario.CreateAnnouncementAsync(new
        {
            message = "Weekly stand-up at 9",
            sendAt = "2027-03-15T09:00:00+01:00",
            recurrence = new { rule = "FREQ=WEEKLY;BYDAY=MO;COUNT=4", timeZone = "Europe/Berlin" },
        });

        var series = await OccurrencesAsync(scenario, seriesId);
        DateTimeOffset[] expected =
        [
            new(2027, 3, 15, 8, 0, 0, TimeSpan.Zero), // winter: 09:00 CET
            new(2027, 3, 22, 8, 0, 0, TimeSpan.Zero),
            new(2027, 3, 29, 7, 0, 0, TimeSpan.Zero), // summer: 09:00 CEST
            new(2027, 4, 5, 7, 0, 0, TimeSpan.Zero),
        ];
        Assert.Equal(expected, series.Occurrences.Select(o => o.SendAt));
        Assert.Equal(seriesId, series.Occurrences[0].Id);
        Assert.Equal(["scheduled", null, null, null], series.Occurrences.Select(o => o.Status));

        foreach (var (occurrence, i) in series.Occurrences.Select((o, i) => (o, i)))
        {
            clock.SetUtcNow(occurrence.SendAt);
            var done = (await WaitForStatusAsync(scenario, occurrence.Id, "completed"))!;
            Assert.Equal(3, done.Counts.Sent);
            Assert.Equal(seriesId, done.SeriesId);
            // Every employee has had exactly the occurrences so far, one each.
            Assert.All(employees, e => Assert.Equal(i + 1, scenario.Stub.Sends.Count(s => s.To == e.Phone && s.Text == "Weekly stand-up at 9")));
        }

        var after = await OccurrencesAsync(scenario, seriesId);
        Assert.Equal(expected, after.Occurrences.Select(o => o.SendAt));
        Assert.All(after.Occurrences, o => Assert.Equal("completed", o.Status));
        Assert.Equal(12, scenario.Stub.Sends.Count(s => s.Text == "Weekly stand-up at 9"));
    }

    [Fact]
    public async Task CancellingASeriesCancelsItsCreatedOccurrencesAndCreatesNoMore()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2027, 1, 4, 6, 0, 0, TimeSpan.Zero));
        await using var scenario = new Scenario(redis, time: clock);
        await scenario.AddEmployeesAsync(2);
        // Three days ahead: the next occurrences exist as scheduled announcements when the series is cancelled.
        await scenario.StartDispatchersAsync(1, new Dictionary<string, string?>(SeriesSettings) { ["Dispatcher:SeriesHorizon"] = "3.00:00:00" });
        var seriesId = await scenario.CreateAnnouncementAsync(new
        {
            message = "Daily safety briefing",
            sendAt = "2027-01-04T08:00:00Z",
            recurrence = new { rule = "FREQ=DAILY", timeZone = "UTC" },
        });
        clock.Advance(TimeSpan.FromMinutes(1));
        var created = await Eventually.WaitAsync(() => OccurrencesAsync(scenario, seriesId),
            s => s.Occurrences.Count(o => o.Status == "scheduled") >= 3, Timeout, "three occurrences created ahead");

        Assert.Equal(HttpStatusCode.NoContent, (await scenario.Api.DeleteAsync($"/api/announcements/{seriesId}")).StatusCode);

        var cancelled = await OccurrencesAsync(scenario, seriesId);
        Assert.Equal("cancelled", cancelled.Status);
        Assert.All(cancelled.Occurrences, o => Assert.Equal("cancelled", o.Status));
        Assert.Equal(created.Occurrences.Where(o => o.Status is not null).Select(o => o.Id), cancelled.Occurrences.Select(o => o.Id));

        // A week goes by, a tick at a time: nothing is created or sent.
        for (var day = 0; day < 7; day++)
        {
            clock.Advance(TimeSpan.FromDays(1));
            await AfterTheDispatchersLookedAgainAsync(scenario);
        }
        Assert.DoesNotContain(scenario.Stub.Sends, s => s.Text == "Daily safety briefing");
        Assert.Equal(cancelled.Occurrences.Select(o => o.Id), (await OccurrencesAsync(scenario, seriesId)).Occurrences.Select(o => o.Id));
    }

    [Fact]
    public async Task SchedulersRacingOnOneSeriesCreateEachOccurrenceOnce()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2027, 6, 1, 0, 0, 0, TimeSpan.Zero));
        await using var scenario = new Scenario(redis, time: clock);
        await scenario.AddEmployeesAsync(1);
        var seriesId = await scenario.CreateAnnouncementAsync(new
        {
            message = "Monthly payroll reminder",
            sendAt = "2027-06-25T10:00:00+02:00",
            recurrence = new { rule = "FREQ=MONTHLY;BYMONTHDAY=25;COUNT=6", timeZone = "Europe/Berlin" },
        });
        var store = scenario.AppServices.GetRequiredService<SeriesStore>();
        var series = (await store.GetAsync(seriesId))!;

        // Eight replicas extend the same series to its end at once (no lock: the occurrence ids are derived).
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => store.ExtendAsync(series, clock.GetUtcNow().AddYears(1)))));

        var occurrences = await store.OccurrencesAsync(seriesId);
        Assert.Equal(6, occurrences.Length);
        var listed = (await scenario.Api.GetFromJsonAsync<Page>("/api/announcements?limit=100"))!.Items;
        Assert.Equal(occurrences.Select(o => o.Id).Order(), listed.Select(a => a.Id).Order());
        Assert.All(listed, a => Assert.Equal(seriesId, a.SeriesId));
        Assert.Empty(await store.DueAsync(clock.GetUtcNow().AddYears(2), 10));
    }

    /// <summary>A send-now announcement to one employee, completed: the dispatchers have looked since the clock last moved.</summary>
    private static async Task AfterTheDispatchersLookedAgainAsync(Scenario scenario)
    {
        var fence = await scenario.CreateAnnouncementAsync(new { message = "fence", employeeIds = new[] { "e00001" } });
        await scenario.WaitForStatusAsync(fence, "completed", Timeout);
    }

    internal static async Task<SeriesView> OccurrencesAsync(Scenario scenario, string id, int limit = 5) =>
        (await scenario.Api.GetFromJsonAsync<SeriesView>($"/api/announcements/{id}/occurrences?limit={limit}"))!;

    /// <summary>Waits for an occurrence that the series scheduler may not have created yet (404 until then).</summary>
    internal static Task<AnnouncementView?> WaitForStatusAsync(Scenario scenario, string id, string status) =>
        Eventually.WaitAsync(async () =>
        {
            var response = await scenario.Api.GetAsync($"/api/announcements/{id}");
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<AnnouncementView>() : null;
        }, a => a?.Status == status, Timeout, $"announcement {id} {status}");

    internal sealed record SeriesView(string SeriesId, string Rule, string TimeZone, string Status, List<OccurrenceView> Occurrences);

    internal sealed record OccurrenceView(string Id, DateTimeOffset SendAt, string? SendAtLocal, string? Status);

    internal sealed record AnnouncementView(string Id, string Status, DateTimeOffset SendAt, string? SeriesId, string? SendAtLocal, Scenario.CountsView Counts);

    private sealed record Page(List<AnnouncementView> Items, string? NextCursor);
}
