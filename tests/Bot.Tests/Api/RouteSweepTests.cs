using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Bot.Core.Redis;
using Bot.Tests.Harness;

namespace Bot.Tests.Api;

/// <summary>
/// Every employer API route with null, wrong-type and huge values: a 4xx ProblemDetails each time, never a 5xx, and
/// nothing stored.
/// </summary>
public sealed class RouteSweepTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private const string Json = "application/json";
    private static readonly string Huge = new('9', 1_000_000);
    private static readonly string LongId = new('a', 10_000);

    public static readonly (string Method, string Path, string? ContentType, string? Body)[] HostileRequests =
    [
        // Employees
        ("PUT", "/api/employees/e1", Json, "null"),
        ("PUT", "/api/employees/e1", Json, "[]"),
        ("PUT", "/api/employees/e1", Json, """{"phone":null}"""),
        ("PUT", "/api/employees/e1", Json, """{"phone":16505551234}"""),
        ("PUT", "/api/employees/e1", Json, """{"phone":["+16505551234"]}"""),
        ("PUT", "/api/employees/e1", Json, """{"phone":"+16505551234","name":123}"""),
        ("PUT", "/api/employees/e1", Json, $$"""{"phone":"+16505551234","name":"{{Huge}}"}"""),
        ("PUT", "/api/employees/e1", Json, $$"""{"phone":"+1{{Huge}}"}"""),
        ("PUT", "/api/employees/e1", Json, $$"""{"phone":"{{new string('+', 100_000)}}"}"""),
        ("PUT", $"/api/employees/{LongId}", Json, """{"phone":"+16505551234"}"""),
        ("PUT", "/api/employees/e1", null, null),
        ("PUT", "/api/employees/e1", "text/plain", "+16505551234"),
        ("PUT", "/api/employees/e1", Json, """{"phone":"+16505551234","tags":"a;b"}"""),
        ("PUT", "/api/employees/e1", Json, """{"phone":"+16505551234","tags":[1]}"""),
        ("PUT", "/api/employees/e1", Json, """{"phone":"+16505551234","tags":[{"t":1}]}"""),
        ("PUT", "/api/employees/e1", Json, $$"""{"phone":"+16505551234","tags":["{{Huge}}"]}"""),
        ("PUT", "/api/employees/e1", Json, $$"""{"phone":"+16505551234","timeZone":"{{Huge}}"}"""),
        ("PUT", "/api/employees/e1", Json, """{"phone":"+16505551234","timeZone":"/etc/localtime"}"""),
        ("PUT", "/api/employees/e1", Json, """{"phone":"+16505551234","timeZone":"Europe/../../etc/passwd"}"""),
        ("PUT", "/api/employees/e1", Json, $$"""{"phone":"+16505551234","language":"{{Huge}}"}"""),
        ("PUT", "/api/employees/e1", Json, """{"phone":"+16505551234","department":42}"""),
        ("GET", "/api/employees?limit=abc", null, null),
        ("GET", "/api/employees?limit=99999999999", null, null),
        ("GET", "/api/employees?limit=0", null, null),
        ("GET", "/api/employees?limit=-1", null, null),
        ("GET", $"/api/employees/{LongId}", null, null),
        ("DELETE", $"/api/employees/{LongId}", null, null),
        ("POST", $"/api/employees/{LongId}/join-code", null, null),
        ("POST", "/api/employees/nobody/join-code", null, null),
        // Import
        ("POST", "/api/employees/import", Json, "[null]"),
        ("POST", "/api/employees/import", Json, """[null,{"employeeId":"e1","phone":"+16505551234"}]"""),
        ("POST", "/api/employees/import", Json, "null"),
        ("POST", "/api/employees/import", Json, "[]"),
        ("POST", "/api/employees/import", Json, "[1]"),
        ("POST", "/api/employees/import", Json, "[[]]"),
        ("POST", "/api/employees/import", Json, """{"rows":[]}"""),
        ("POST", "/api/employees/import", Json, """[{"employeeId":5,"phone":"+16505551234"}]"""),
        ("POST", "/api/employees/import", Json, """[{"employeeId":"e1","phone":"+16505551234","name":{"first":"Ann"}}]"""),
        ("POST", "/api/employees/import", Json, "[{"),
        ("POST", "/api/employees/import", null, null),
        ("POST", "/api/employees/import", "text/csv", ""),
        ("POST", "/api/employees/import", "text/csv", "employeeId,phone,employeeId\n"),
        ("POST", "/api/employees/import", "text/csv", "employeeId,phone,\"\ne1,+16505551234,x\n"),
        ("POST", "/api/employees/import", "text/csv", "\n\n \n"),
        ("POST", "/api/employees/import", Json, """[{"employeeId":"e1","phone":"+16505551234","tags":"a"}]"""),
        // Announcements
        ("POST", "/api/announcements", Json, "null"),
        ("POST", "/api/announcements", Json, """{"message":null}"""),
        ("POST", "/api/announcements", Json, """{"message":["hi"]}"""),
        ("POST", "/api/announcements", Json, $$"""{"message":"{{Huge}}"}"""),
        ("POST", "/api/announcements", Json, """{"message":"hi","employeeIds":["e00001",null]}"""),
        ("POST", "/api/announcements", Json, """{"message":"hi","employeeIds":[null]}"""),
        ("POST", "/api/announcements", Json, """{"message":"hi","employeeIds":"e00001"}"""),
        ("POST", "/api/announcements", Json, """{"message":"hi","employeeIds":[1]}"""),
        ("POST", "/api/announcements", Json, $$"""{"message":"hi","employeeIds":["e00001","{{LongId}}"]}"""),
        ("POST", "/api/announcements", Json, $$"""{"message":"hi","employeeIds":[{{string.Join(",", Enumerable.Repeat("\"e00001\"", 100_001))}}]}"""),
        ("POST", "/api/announcements", Json, """{"template":null,"message":null}"""),
        ("POST", "/api/announcements", Json, """{"template":[]}"""),
        ("POST", "/api/announcements", Json, """{"template":{"name":null,"language":null}}"""),
        ("POST", "/api/announcements", Json, """{"template":{"name":"t","language":"en","parameters":[null]}}"""),
        ("POST", "/api/announcements", Json, """{"template":{"name":"t","language":"en","parameters":"x"}}"""),
        ("POST", "/api/announcements", Json, $$$"""{"template":{"name":"{{{Huge}}}","language":"en"}}"""),
        ("POST", "/api/announcements", Json, """{"message":"hi","sendAt":null,"employeeIds":null,"extra":[null]}""" + "x"),
        ("POST", "/api/announcements", Json, """{"message":"hi","sendAt":123}"""),
        ("POST", "/api/announcements", Json, """{"message":"hi","audience":"Sales"}"""),
        ("POST", "/api/announcements", Json, """{"message":"hi","audience":[]}"""),
        ("POST", "/api/announcements", Json, """{"message":"hi","audience":{"departments":"Sales"}}"""),
        ("POST", "/api/announcements", Json, """{"message":"hi","audience":{"departments":[1]}}"""),
        ("POST", "/api/announcements", Json, $$$"""{"message":"hi","audience":{"tags":[{{{string.Join(",", Enumerable.Repeat("\"t\"", 101))}}}]}}"""),
        ("POST", "/api/announcements", Json, """{"message":"hi","sendAt":"0001-01-01T00:00:00+14:00"}"""),
        ("POST", "/api/announcements", Json, """{"message":"hi","sendAt":"9999-12-31T23:59:59-14:00"}"""),
        ("POST", "/api/announcements", Json, $$"""{"message":"hi","sendAt":"{{Huge}}Z"}"""),
        ("GET", "/api/announcements?limit=abc", null, null),
        ("GET", "/api/announcements?limit=99999999999", null, null),
        ("GET", "/api/announcements?status=nope", null, null),
        ("GET", $"/api/announcements/{LongId}", null, null),
        ("GET", $"/api/announcements/{LongId}/deliveries", null, null),
        ("GET", $"/api/announcements/{LongId}/deliveries.csv", null, null),
        ("GET", "/api/announcements/nope/deliveries.csv", null, null),
        ("DELETE", $"/api/announcements/{LongId}", null, null),
        // Retry
        ("POST", "/api/announcements/nope/retry", Json, "null"),
        ("POST", "/api/announcements/nope/retry", Json, """{"states":null}"""),
        ("POST", "/api/announcements/nope/retry", Json, """{"states":"failed"}"""),
        ("POST", "/api/announcements/nope/retry", Json, """{"states":[null]}"""),
        ("POST", "/api/announcements/nope/retry", Json, """{"states":["FAILED"]}"""),
        ("POST", "/api/announcements/nope/retry", Json, """{"states":["failed"],"errors":[1]}"""),
        ("POST", "/api/announcements/nope/retry", Json, """{"states":["failed"],"errors":"131026"}"""),
        ("POST", "/api/announcements/nope/retry", Json, $$"""{"states":["failed"],"errors":["{{Huge}}"]}"""),
        ("POST", "/api/announcements/nope/retry", Json, $$"""{"states":["failed"],"errors":[{{string.Join(",", Enumerable.Repeat("\"131026\"", 101))}}]}"""),
        ("POST", "/api/announcements/nope/retry", Json, """{"states":["failed"]}"""),
        ("POST", $"/api/announcements/{LongId}/retry", Json, """{"states":["failed"]}"""),
        ("POST", "/api/announcements/nope/retry", null, null),
        // The original proof of concept's route
        ("POST", "/send_announcement/", Json, "null"),
        ("POST", "/send_announcement/", Json, """{"id":null,"message":"hi"}"""),
        ("POST", "/send_announcement/", Json, """{"id":true,"message":"hi"}"""),
        ("POST", "/send_announcement/", Json, """{"id":{"n":1},"message":"hi"}"""),
        ("POST", "/send_announcement/", Json, """{"id":[1],"message":"hi"}"""),
        ("POST", "/send_announcement/", Json, $$"""{"id":{{Huge}},"message":"hi"}"""),
        ("POST", "/send_announcement/", Json, """{"id":1,"message":null}"""),
        ("POST", "/send_announcement/", Json, """{"id":1,"message":42}"""),
    ];

    [Fact]
    public async Task EveryRouteAnswersHostileValuesWithA4xxProblemAndStoresNothing()
    {
        await using var scenario = new Scenario(redis);

        var wrong = new List<string>();
        foreach (var (method, path, contentType, body) in HostileRequests)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, contentType ?? Json);
            if (body is null && contentType is not null) request.Content = new StringContent("", Encoding.UTF8, contentType);
            var response = await scenario.Api.SendAsync(request);
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync();
            if (status is < 400 or >= 500 || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                wrong.Add($"{method} {Shorten(path)} {Shorten(body ?? "")} → {status} {Shorten(text)}");
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.Equal(0, await scenario.Redis.SortedSetLengthAsync(RedisKeys.Due("default")));
        Assert.Equal(0, await scenario.Redis.SortedSetLengthAsync(RedisKeys.Employees(scenario.EmployerId)));
    }

    [Fact]
    public async Task OddCursorsAndFiltersOnExistingDataAreAnsweredNeverA5xx()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(3);
        var id = await scenario.CreateAnnouncementAsync(new { message = "later", sendAt = DateTimeOffset.UtcNow.AddHours(1).ToString("O") });
        var odd = Uri.EscapeDataString("\0\uffff([-+*" + new string('z', 10_000));
        string[] paths =
        [
            $"/api/employees?cursor={odd}", "/api/employees?cursor=%5B&limit=500", $"/api/announcements?cursor={odd}",
            "/api/announcements?status=&cursor=(", $"/api/announcements/{id}/deliveries?cursor=9223372036854775807",
            $"/api/announcements/{id}/deliveries?cursor=-1", $"/api/announcements/{id}/deliveries?cursor={odd}",
            $"/api/announcements/{id}/deliveries?state={odd}", $"/api/announcements/{id}/deliveries?limit=99999999999",
            $"/api/employees?department={odd}&location={odd}&tag={odd}", $"/api/employees?tag=%3B&cursor={odd}",
            $"/api/announcements/{id}/deliveries.csv?cursor={odd}",
        ];

        var wrong = new List<string>();
        foreach (var path in paths)
        {
            var response = await scenario.Api.GetAsync(path);
            var problem = response.Content.Headers.ContentType?.MediaType == "application/problem+json";
            if ((int)response.StatusCode >= 500 || (!response.IsSuccessStatusCode && !problem))
                wrong.Add($"GET {Shorten(path)} → {(int)response.StatusCode} {Shorten(await response.Content.ReadAsStringAsync())}");
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Theory]
    [InlineData("huge")]
    [InlineData("the right key twice")]
    public async Task OddApiKeysAre401(string shape)
    {
        await using var scenario = new Scenario(redis);
        using var client = scenario.ClientFor(null);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/employees");
        if (shape == "huge") request.Headers.TryAddWithoutValidation("X-Api-Key", new string('k', 100_000));
        else request.Headers.TryAddWithoutValidation("X-Api-Key", [Scenario.ApiKey, Scenario.ApiKey]);

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ImportOfANullRowIs400NamingTheRow()
    {
        await using var scenario = new Scenario(redis);

        var response = await scenario.Api.PostAsync("/api/employees/import",
            new StringContent("""[{"employeeId":"e1","phone":"+16505551234"},null]""", Encoding.UTF8, Json));

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("Row 2 is null", problem["errors"]!["body"]![0]!.GetValue<string>());
        Assert.Equal(0, await scenario.Redis.SortedSetLengthAsync(RedisKeys.Employees(scenario.EmployerId)));
    }

    [Fact]
    public async Task NullEmployeeIdIs400NamingItsPosition()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(1);

        var response = await scenario.Api.PostAsJsonAsync("/api/announcements", new { message = "hi", employeeIds = new[] { "e00001", null } });

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("employeeIds[1] is null; every entry is an employee id (a string).", problem["errors"]!["employeeIds"]![0]!.GetValue<string>());
        Assert.Equal(0, await scenario.Redis.SortedSetLengthAsync(RedisKeys.Due("default")));
    }

    private static async Task<JsonNode> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(body)!;
    }

    private static string Shorten(string s) => s.Length <= 120 ? s : s[..120] + "…";
}
