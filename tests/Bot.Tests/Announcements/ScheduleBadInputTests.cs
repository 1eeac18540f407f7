using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bot.Tests.Harness;
using Microsoft.Extensions.Time.Testing;

namespace Bot.Tests.Announcements;

/// <summary>Bad recurrences, zones and local times are a 400 naming the field, on create and on both previews; nothing is created.</summary>
public sealed class ScheduleBadInputTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private const string SendAt = "2099-01-05T09:00:00+01:00";

    /// <summary>The clock of every scenario here, so the dates above are days ahead, not years.</summary>
    private static readonly DateTimeOffset Now = new(2099, 1, 1, 12, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, string> BadRequests() => new()
    {
        { """{"message":"m","sendAt":"SENDAT","recurrence":{"rule":"FREQ=WEEKLY;BYDAY=XX","timeZone":"Europe/Berlin"}}""", "recurrence.rule" },
        { """{"message":"m","sendAt":"SENDAT","recurrence":{"rule":"every monday","timeZone":"Europe/Berlin"}}""", "recurrence.rule" },
        { """{"message":"m","sendAt":"SENDAT","recurrence":{"rule":"BYDAY=MO","timeZone":"Europe/Berlin"}}""", "recurrence.rule" },
        { """{"message":"m","sendAt":"SENDAT","recurrence":{"rule":"FREQ=MINUTELY","timeZone":"Europe/Berlin"}}""", "recurrence.rule" },
        { """{"message":"m","sendAt":"SENDAT","recurrence":{"rule":"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30","timeZone":"Europe/Berlin"}}""", "recurrence.rule" },
        { """{"message":"m","sendAt":"SENDAT","recurrence":{"timeZone":"Europe/Berlin"}}""", "recurrence.rule" },
        { """{"message":"m","sendAt":"SENDAT","recurrence":{"rule":"FREQ=DAILY","timeZone":"Europe/Atlantis"}}""", "recurrence.timeZone" },
        { """{"message":"m","sendAt":"SENDAT","recurrence":{"rule":"FREQ=DAILY","timeZone":"../../etc/passwd"}}""", "recurrence.timeZone" },
        { """{"message":"m","sendAt":"SENDAT","recurrence":{"rule":"FREQ=DAILY"}}""", "recurrence.timeZone" },
        { """{"message":"m","recurrence":{"rule":"FREQ=DAILY","timeZone":"UTC"}}""", "sendAt" },
        { """{"message":"m","sendAtLocal":"2099-01-05T09:00+01:00"}""", "sendAtLocal" },
        { """{"message":"m","sendAtLocal":"next monday"}""", "sendAtLocal" },
        { """{"message":"m","sendAtLocal":"2020-01-05T09:00"}""", "sendAtLocal" },
        { """{"message":"m","sendAtLocal":"2099-01-05T09:00","sendAt":"SENDAT"}""", "sendAtLocal" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task ABadScheduleIsA400NamingTheField(string body, string field)
    {
        await using var scenario = new Scenario(redis, time: new FakeTimeProvider(Now));
        var json = body.Replace("SENDAT", SendAt, StringComparison.Ordinal);

        await Problems.AssertNamesFieldAsync(await PostAsync(scenario, "/api/announcements", json), field);
        await Problems.AssertNamesFieldAsync(await PostAsync(scenario, "/api/announcements/preview", json), field);
        if (json.Contains("recurrence", StringComparison.Ordinal))
            await Problems.AssertNamesFieldAsync(await PostAsync(scenario, "/api/announcements/occurrences/preview", json), field);

        var page = (await scenario.Api.GetFromJsonAsync<JsonObject>("/api/announcements"))!;
        Assert.Empty(page["items"]!.AsArray());
    }

    [Fact]
    public async Task TheOccurrencePreviewListsTheNextFiveWithoutCreatingAnything()
    {
        await using var scenario = new Scenario(redis, time: new FakeTimeProvider(Now));

        var response = await PostAsync(scenario, "/api/announcements/occurrences/preview",
            """{"sendAt":"2099-03-16T09:00:00+01:00","recurrence":{"rule":"RRULE:FREQ=WEEKLY;BYDAY=MO,TH","timeZone":"Europe/Berlin"}}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var occurrences = (await response.Content.ReadFromJsonAsync<JsonObject>())!["occurrences"]!.AsArray();
        // Monday 16 March 2099, then Mondays and Thursdays at 09:00 Berlin time: CET, then CEST from 29 March.
        Assert.Equal(
            ["2099-03-16T08:00:00+00:00", "2099-03-19T08:00:00+00:00", "2099-03-23T08:00:00+00:00", "2099-03-26T08:00:00+00:00", "2099-03-30T07:00:00+00:00"],
            occurrences.Select(o => o!["sendAt"]!.GetValue<DateTimeOffset>().ToString("yyyy-MM-dd'T'HH:mm:sszzz")));
        Assert.Empty((await scenario.Api.GetFromJsonAsync<JsonObject>("/api/announcements"))!["items"]!.AsArray());
    }

    [Fact]
    public async Task AnAnnouncementOutsideASeriesHasNoOccurrences()
    {
        await using var scenario = new Scenario(redis, time: new FakeTimeProvider(Now));
        await scenario.AddEmployeesAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = "once", sendAt = SendAt });

        Assert.Equal(HttpStatusCode.NotFound, (await scenario.Api.GetAsync($"/api/announcements/{id}/occurrences")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await scenario.Api.GetAsync("/api/announcements/nope/occurrences")).StatusCode);
    }

    [Fact]
    public async Task TheSameIdempotencyKeyForAnotherRecurrenceIs422AndForTheSameOneTheSameSeries()
    {
        await using var scenario = new Scenario(redis, time: new FakeTimeProvider(Now));
        await scenario.AddEmployeesAsync(1);
        object Body(string rule) => new { message = "standup", sendAt = SendAt, recurrence = new { rule, timeZone = "Europe/Berlin" } };

        var first = await scenario.CreateAnnouncementAsync(Body("FREQ=WEEKLY"), idempotencyKey: "series-1");
        var again = await scenario.CreateAnnouncementAsync(Body("FREQ=WEEKLY"), idempotencyKey: "series-1");
        using var other = new HttpRequestMessage(HttpMethod.Post, "/api/announcements") { Content = JsonContent.Create(Body("FREQ=DAILY")) };
        other.Headers.Add("Idempotency-Key", "series-1");

        Assert.Equal(first, again);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await scenario.Api.SendAsync(other)).StatusCode);
        Assert.Single((await scenario.Api.GetFromJsonAsync<JsonObject>("/api/announcements"))!["items"]!.AsArray());
    }

    private static Task<HttpResponseMessage> PostAsync(Scenario scenario, string path, string json) =>
        scenario.Api.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
}
