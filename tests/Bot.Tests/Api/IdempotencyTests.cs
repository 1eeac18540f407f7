using System.Net;
using System.Net.Http.Json;
using System.Text;
using Bot.Core.Redis;
using Bot.Tests.Harness;

namespace Bot.Tests.Api;

public sealed class IdempotencyTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task ThePocRequestPostedTwiceIsOneAnnouncementAndOneMessagePerEmployee()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(25);
        await scenario.StartDispatchersAsync(2);
        var body = new { id = "party-2026", message = "Our end of year party is on Saturday evening!" };

        var first = await scenario.Api.PostAsJsonAsync("/send_announcement/", body);
        var second = await scenario.Api.PostAsJsonAsync("/send_announcement/", body);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        var id = (await first.Content.ReadFromJsonAsync<Scenario.AcceptedBody>())!.Id;
        Assert.Equal(id, (await second.Content.ReadFromJsonAsync<Scenario.AcceptedBody>())!.Id);
        await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(10));
        var sends = await scenario.Stub.WhenSentAsync(25);
        Assert.Equal(25, sends.Count);
        Assert.Equal(25, sends.Select(s => s.To).Distinct().Count());
        Assert.Equal(1, await scenario.Redis.SortedSetLengthAsync(RedisKeys.Announcements(scenario.EmployerId)));
    }

    [Fact]
    public async Task ThePocRequestExactlyAsItsReadmeSendsItWithANumericIdIsAccepted()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(3);
        await scenario.StartDispatchersAsync(1);

        var numeric = await scenario.Api.PostAsync("/send_announcement/",
            new StringContent("""{"id": 1, "message": "Our end of year party is on Saturday evening!"}""", Encoding.UTF8, "application/json"));
        var again = await scenario.Api.PostAsync("/send_announcement/",
            new StringContent("""{"id": 1, "message": "Our end of year party is on Saturday evening!"}""", Encoding.UTF8, "application/json"));
        var asString = await scenario.Api.PostAsJsonAsync("/send_announcement/", new { id = "2", message = "A second one" });

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted], [numeric.StatusCode, again.StatusCode, asString.StatusCode]);
        var id = (await numeric.Content.ReadFromJsonAsync<Scenario.AcceptedBody>())!.Id;
        Assert.Equal(id, (await again.Content.ReadFromJsonAsync<Scenario.AcceptedBody>())!.Id);
        await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(20));
        Assert.Equal(2, await scenario.Redis.SortedSetLengthAsync(RedisKeys.Announcements(scenario.EmployerId)));
    }

    [Fact]
    public async Task SameIdempotencyKeyAndBodyReturnTheSameAnnouncementOnce()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(25);
        await scenario.StartDispatchersAsync(2);
        var body = new { message = "Office closed on Monday" };

        var first = await Post(scenario, body, "key-1");
        var second = await Post(scenario, body, "key-1");

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var id = (await first.Content.ReadFromJsonAsync<Scenario.AcceptedBody>())!.Id;
        Assert.Equal(id, (await second.Content.ReadFromJsonAsync<Scenario.AcceptedBody>())!.Id);
        await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(10));
        var sends = await scenario.Stub.WhenSentAsync(25);
        Assert.Equal(25, sends.Count);
        Assert.Equal(25, sends.Select(s => s.To).Distinct().Count());
    }

    [Fact]
    public async Task SameIdempotencyKeyWithAnotherBodyIs422AndChangesNothing()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(1);
        var sendAt = DateTimeOffset.UtcNow.AddHours(1).ToString("O");
        var first = await Post(scenario, new { message = "v1", sendAt }, "key-2");

        var second = await Post(scenario, new { message = "v2", sendAt }, "key-2");

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);
        var id = (await first.Content.ReadFromJsonAsync<Scenario.AcceptedBody>())!.Id;
        var stored = await scenario.Api.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>($"/api/announcements/{id}");
        Assert.Equal("v1", stored!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task ConcurrentDoubleSubmitCreatesOneAnnouncement()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(1);
        var body = new { message = "double click", sendAt = DateTimeOffset.UtcNow.AddHours(1).ToString("O") };

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Post(scenario, body, "double-click")));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Accepted);
        Assert.Equal(9, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(1, await scenario.Redis.SortedSetLengthAsync(RedisKeys.Announcements(scenario.EmployerId)));
        Assert.Equal(1, await scenario.Redis.SortedSetLengthAsync(RedisKeys.Due("default")));
    }

    private static Task<HttpResponseMessage> Post(Scenario scenario, object body, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/announcements") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        return scenario.Api.SendAsync(request);
    }
}
