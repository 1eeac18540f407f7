using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Bot.Core.Redis;
using Bot.Tests.Harness;

namespace Bot.Tests.Api;

public sealed class BadInputTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Theory]
    [InlineData(null)]
    [InlineData("not-a-key-of-anyone-at-all")]
    public async Task NoOrUnknownApiKeyIs401(string? apiKey)
    {
        await using var scenario = new Scenario(redis);
        using var client = scenario.ClientFor(apiKey);

        var list = await client.GetAsync("/api/employees");
        var put = await client.PutAsJsonAsync("/api/employees/e1", new { phone = "+16505551234" });
        var post = await client.PostAsJsonAsync("/api/announcements", new { message = "hi" });
        var poc = await client.PostAsJsonAsync("/send_announcement/", new { id = "x", message = "hi" });

        foreach (var response in new[] { list, put, post, poc })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        await AssertNothingStored(scenario);
    }

    [Fact]
    public async Task AnotherEmployersIdsAre404()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = "mine", sendAt = DateTimeOffset.UtcNow.AddHours(1).ToString("O") });
        using var other = scenario.ClientFor(Scenario.OtherApiKey);

        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync("/api/employees/e00001")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync("/api/employees/e00001")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/announcements/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync($"/api/announcements/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/announcements/{id}/deliveries")).StatusCode);
        var post = await other.PostAsJsonAsync("/api/announcements", new { message = "theirs", employeeIds = new[] { "e00001" } });
        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        Assert.Empty((await other.GetFromJsonAsync<JsonObject>("/api/announcements"))!["items"]!.AsArray());
        Assert.Equal("scheduled", (await scenario.GetAnnouncementAsync(id)).Status);
    }

    [Theory]
    [InlineData("6505551234")]
    [InlineData("+1 650 555")]
    [InlineData("call me")]
    [InlineData("")]
    public async Task InvalidPhoneIs400(string phone)
    {
        await using var scenario = new Scenario(redis);

        var response = await scenario.Api.PutAsJsonAsync("/api/employees/e1", new { phone });

        await AssertProblem(response, HttpStatusCode.BadRequest, "phone");
        await AssertNothingStored(scenario);
    }

    [Fact]
    public async Task PhoneHeldByAnotherEmployeeIs409()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(1);

        var response = await scenario.Api.PutAsJsonAsync("/api/employees/someone-else", new { phone = "+1 650-555-0001" });

        await AssertProblem(response, HttpStatusCode.Conflict, null);
        Assert.Equal(HttpStatusCode.NotFound, (await scenario.Api.GetAsync("/api/employees/someone-else")).StatusCode);
    }

    public static TheoryData<string, string> BadAnnouncements => new()
    {
        { """{"message":""}""", "message" },
        { """{"message":"   "}""", "message" },
        { $$"""{"message":"{{new string('x', 4097)}}"}""", "message" },
        { """{}""", "message" },
        { """{"message":"hi","template":{"name":"t","language":"en"}}""", "message" },
        { """{"template":{"name":"Bad Name!","language":"en"}}""", "template.name" },
        { $$"""{"message":"hi","sendAt":"{{DateTimeOffset.UtcNow.AddMinutes(-5):O}}"}""", "sendAt" },
        { """{"message":"hi","sendAt":"2030-01-01T10:00:00"}""", "sendAt" },
        { """{"message":"hi","sendAt":"tomorrow"}""", "sendAt" },
        { """{"message":"hi","employeeIds":[]}""", "employeeIds" },
        { """{"message":"hi","employeeIds":["nobody"]}""", "employeeIds" },
        { """{"message":"hi","employeeIds":["e00001","ghost-1","ghost-2"]}""", "employeeIds" },
    };

    [Theory]
    [MemberData(nameof(BadAnnouncements))]
    public async Task InvalidAnnouncementIs400NamingTheField(string json, string field)
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(1);

        var response = await scenario.Api.PostAsync("/api/announcements", new StringContent(json, Encoding.UTF8, "application/json"));

        await AssertProblem(response, HttpStatusCode.BadRequest, field);
        await AssertNoAnnouncement(scenario);
    }

    [Theory]
    [InlineData("""{"message": "unterminated""")]
    [InlineData("""{"message": 42}""")]
    [InlineData("""[1, 2, 3]""")]
    [InlineData("""not json at all""")]
    public async Task MalformedJsonIs400(string json)
    {
        await using var scenario = new Scenario(redis);

        var announcement = await scenario.Api.PostAsync("/api/announcements", new StringContent(json, Encoding.UTF8, "application/json"));
        var poc = await scenario.Api.PostAsync("/send_announcement/", new StringContent(json, Encoding.UTF8, "application/json"));
        var employee = await scenario.Api.PutAsync("/api/employees/e1", new StringContent(json, Encoding.UTF8, "application/json"));

        foreach (var response in new[] { announcement, poc, employee }) await AssertProblem(response, HttpStatusCode.BadRequest, null);
        await AssertNothingStored(scenario);
    }

    [Fact]
    public async Task ImportReportsEveryBadRowAndKeepsTheGoodOnes()
    {
        await using var scenario = new Scenario(redis);
        const string csv = "employeeId,phone,name\nann,+16505550001,Ann\nbob,not-a-phone,Bob\n,+16505550003,Nobody\ncid,\"+1 (650) 555-0004\",\"Cid, Jr.\"\ndee,+16505550001,Dee\n";

        var response = await scenario.Api.PostAsync("/api/employees/import", new StringContent(csv, Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(2, result["created"]!.GetValue<int>());
        Assert.Equal([2, 3, 5], result["rejected"]!.AsArray().Select(r => r!["row"]!.GetValue<int>()));
        var cid = await scenario.Api.GetFromJsonAsync<JsonObject>("/api/employees/cid");
        Assert.Equal("+16505550004", cid!["phone"]!.GetValue<string>());
        Assert.Equal("Cid, Jr.", cid["name"]!.GetValue<string>());
    }

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string? field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(body)!;
        Assert.Equal((int)status, problem["status"]!.GetValue<int>());
        if (field is not null) Assert.NotNull(problem["errors"]?[field]);
    }

    private static async Task AssertNoAnnouncement(Scenario scenario)
    {
        Assert.Equal(0, await scenario.Redis.SortedSetLengthAsync(RedisKeys.Due("default")));
        Assert.Equal(0, await scenario.Redis.SortedSetLengthAsync(RedisKeys.Announcements(scenario.EmployerId)));
    }

    private static async Task AssertNothingStored(Scenario scenario)
    {
        await AssertNoAnnouncement(scenario);
        Assert.Equal(0, await scenario.Redis.SortedSetLengthAsync(RedisKeys.Employees(scenario.EmployerId)));
    }
}
