using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Bot.Core.Employees;
using Bot.Core.Redis;
using Bot.Tests.Employees;
using Bot.Tests.Harness;
using Microsoft.Extensions.DependencyInjection;

namespace Bot.Tests.Announcements;

public sealed class AudienceTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task AnAudienceByDepartmentAndLocationReachesExactlyItsEmployees()
    {
        await using var scenario = new Scenario(redis);
        await EmployeeAttributeTests.ImportStaffAsync(scenario);
        // Sales in Berlin or Munich: e01, e05, e06 — but e05 is removed before sending starts.
        Assert.Equal(HttpStatusCode.NoContent, (await scenario.Api.DeleteAsync("/api/employees/e05")).StatusCode);
        await scenario.StartDispatchersAsync(1);

        var id = await scenario.CreateAnnouncementAsync(new
        {
            message = "Sales meeting moved to 3 pm",
            audience = new { departments = new[] { "Sales" }, locations = new[] { "Berlin", "Munich" } },
        });
        var done = await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(30));

        var sends = await scenario.Stub.WhenSentAsync(2);
        Assert.Equal(["+16505550001", "+16505550006"], sends.Select(s => s.To).Order());
        Assert.Equal(2, done.Counts.Targeted);
        Assert.Equal(["e01", "e06"], (await scenario.Redis.ListRangeAsync(RedisKeys.Targets(id))).Select(v => (string)v!));
        var json = (await scenario.Api.GetFromJsonAsync<JsonObject>($"/api/announcements/{id}"))!;
        Assert.Equal("audience", json["recipients"]!.GetValue<string>());
        Assert.Equal(["Sales"], json["audience"]!["departments"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["Berlin", "Munich"], json["audience"]!["locations"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Null(json["audience"]!["tags"]);
    }

    [Fact]
    public async Task TheAudienceIsResolvedWhenSendingStartsNotWhenCreated()
    {
        await using var scenario = new Scenario(redis);
        await EmployeeAttributeTests.ImportStaffAsync(scenario);
        var id = await scenario.CreateAnnouncementAsync(new
        {
            message = "VIP lounge opens",
            sendAt = DateTimeOffset.UtcNow.AddSeconds(2).ToString("O"),
            audience = new { tags = new[] { "vip", "early" } },
        });
        // e07 joins the tag after the announcement was created, before it is due.
        await scenario.Api.PutAsJsonAsync("/api/employees/e07", new { phone = "+16505550007", name = "Gus", tags = new[] { "early" } });
        await scenario.StartDispatchersAsync(1);

        await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(30));

        var sends = await scenario.Stub.WhenSentAsync(4);
        Assert.Equal(["+16505550002", "+16505550004", "+16505550005", "+16505550007"], sends.Select(s => s.To).Order());
    }

    [Fact]
    public async Task CountAudienceCountsWhatSendingWouldTarget()
    {
        await using var scenario = new Scenario(redis);
        await EmployeeAttributeTests.ImportStaffAsync(scenario);
        await scenario.Api.DeleteAsync("/api/employees/e02");
        var employees = scenario.AppServices.GetRequiredService<EmployeeStore>();

        Assert.Equal(6, await employees.CountAudienceAsync(scenario.EmployerId));
        Assert.Equal(3, await employees.CountAudienceAsync(scenario.EmployerId, new AudienceFilter(Departments: ["Sales"])));
        Assert.Equal(1, await employees.CountAudienceAsync(scenario.EmployerId, new AudienceFilter(Tags: ["vip"])));
        Assert.Equal(3, await employees.CountAudienceAsync(scenario.EmployerId, new AudienceFilter(["Sales", "Logistics"], ["Berlin"], null)));
        Assert.Equal(0, await employees.CountAudienceAsync(scenario.EmployerId, new AudienceFilter(Locations: ["Paris"])));
    }

    public static TheoryData<string, string> BadAudiences => new()
    {
        { """{"message":"hi","audience":{"departments":["Sales"]},"employeeIds":["e01"]}""", "audience" },
        { """{"message":"hi","audience":{}}""", "audience" },
        { """{"message":"hi","audience":{"departments":[]}}""", "audience.departments" },
        { """{"message":"hi","audience":{"departments":["Sales"],"locations":[]}}""", "audience.locations" },
        { """{"message":"hi","audience":{"tags":[""]}}""", "audience.tags" },
        { """{"message":"hi","audience":{"tags":[null]}}""", "audience.tags" },
    };

    [Theory]
    [MemberData(nameof(BadAudiences))]
    public async Task ABadAudienceIs400NamingTheField(string json, string field)
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(1);

        var response = await scenario.Api.PostAsync("/api/announcements", new StringContent(json, Encoding.UTF8, "application/json"));

        await Problems.AssertNamesFieldAsync(response, field);
        Assert.Equal(0, await scenario.Redis.SortedSetLengthAsync(RedisKeys.Announcements(scenario.EmployerId)));
    }

    [Fact]
    public async Task TheSameRequestWithAnotherAudienceIsAnotherRequest()
    {
        await using var scenario = new Scenario(redis);
        await EmployeeAttributeTests.ImportStaffAsync(scenario);
        var sendAt = DateTimeOffset.UtcNow.AddHours(1).ToString("O");

        var first = await Post(new { message = "hi", sendAt, audience = new { departments = new[] { "Sales" } } });
        var replay = await Post(new { message = "hi", sendAt, audience = new { departments = new[] { "Sales" } } });
        var other = await Post(new { message = "hi", sendAt, audience = new { departments = new[] { "Logistics" } } });

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);

        async Task<HttpResponseMessage> Post(object body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/announcements") { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", "audience-key");
            return await scenario.Api.SendAsync(request);
        }
    }
}
