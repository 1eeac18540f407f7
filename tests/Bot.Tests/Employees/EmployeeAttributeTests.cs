using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Bot.Core.Employees;
using Bot.Core.Redis;
using Bot.Tests.Harness;
using Microsoft.Extensions.DependencyInjection;

namespace Bot.Tests.Employees;

public sealed class EmployeeAttributeTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task AttributesArePutAndReturnedAndAPutWithoutThemClearsThem()
    {
        await using var scenario = new Scenario(redis);

        var put = await scenario.Api.PutAsJsonAsync("/api/employees/e1", new
        {
            phone = "+16505551234", name = "Ann", department = " Logistics ", location = "Berlin", language = "de-DE",
            timeZone = "Europe/Berlin", tags = new[] { "forklift", "night-shift", "forklift" },
        });

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var ann = (await scenario.Api.GetFromJsonAsync<JsonObject>("/api/employees/e1"))!;
        Assert.Equal("Logistics", ann["department"]!.GetValue<string>());
        Assert.Equal("Berlin", ann["location"]!.GetValue<string>());
        Assert.Equal("de-DE", ann["language"]!.GetValue<string>());
        Assert.Equal("Europe/Berlin", ann["timeZone"]!.GetValue<string>());
        Assert.Equal(["forklift", "night-shift"], ann["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        // The same PUT again changes nothing; one without the attributes replaces them, as it replaces the name.
        var again = await scenario.Api.PutAsJsonAsync("/api/employees/e1", new
        {
            phone = "+16505551234", name = "Ann", department = "Logistics", location = "Berlin", language = "de-DE",
            timeZone = "Europe/Berlin", tags = new[] { "forklift", "night-shift" },
        });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(ann["updatedAt"]!.GetValue<DateTimeOffset>(), (await again.Content.ReadFromJsonAsync<JsonObject>())!["updatedAt"]!.GetValue<DateTimeOffset>());
        await scenario.Api.PutAsJsonAsync("/api/employees/e1", new { phone = "+16505551234", name = "Ann" });
        var cleared = (await scenario.Api.GetFromJsonAsync<JsonObject>("/api/employees/e1"))!;
        Assert.Null(cleared["department"]);
        Assert.Null(cleared["timeZone"]);
        Assert.Empty(cleared["tags"]!.AsArray());
        Assert.False(await scenario.Redis.HashExistsAsync(RedisKeys.Employee(scenario.EmployerId, "e1"), "department"));
    }

    [Fact]
    public async Task AJoinFromANewNumberKeepsTheAttributes()
    {
        await using var scenario = new Scenario(redis);
        await scenario.Api.PutAsJsonAsync("/api/employees/e1", new
        {
            phone = "+16505551234", name = "Ann", department = "Logistics", timeZone = "Europe/Berlin", tags = new[] { "forklift" },
        });
        var employees = scenario.AppServices.GetRequiredService<EmployeeStore>();

        Assert.Equal(RelinkResult.Linked, await employees.RelinkPhoneAsync(scenario.EmployerId, "e1", "+16505559999"));

        var ann = (await employees.GetAsync(scenario.EmployerId, "e1"))!;
        Assert.Equal(("+16505559999", "Ann"), (ann.Phone, ann.Name));
        Assert.Equal(new EmployeeAttributes("Logistics", null, null, "Europe/Berlin", ann.Attributes.Tags), ann.Attributes);
        Assert.Equal(["forklift"], ann.Attributes.TagList);
    }

    public static TheoryData<string, string> BadAttributes => new()
    {
        { """{"phone":"+16505551234","timeZone":"Mars/Olympus_Mons"}""", "timeZone" },
        { """{"phone":"+16505551234","timeZone":"../../../etc/passwd"}""", "timeZone" },
        { """{"phone":"+16505551234","timeZone":"W. Europe Standard Time"}""", "timeZone" },
        { """{"phone":"+16505551234","language":"english"}""", "language" },
        { """{"phone":"+16505551234","language":"en_US"}""", "language" },
        { """{"phone":"+16505551234","tags":["ok",""]}""", "tags" },
        { """{"phone":"+16505551234","tags":["a;b"]}""", "tags" },
        { """{"phone":"+16505551234","tags":[null]}""", "tags" },
        { $$"""{"phone":"+16505551234","tags":[{{string.Join(",", Enumerable.Range(0, 21).Select(i => $"\"t{i}\""))}}]}""", "tags" },
        { $$"""{"phone":"+16505551234","tags":["{{new string('t', 51)}}"]}""", "tags" },
        { $$"""{"phone":"+16505551234","department":"{{new string('d', 101)}}"}""", "department" },
        { """{"phone":"+16505551234","location":"Berlin\u0000"}""", "location" },
        { """{"phone":"not a phone","timeZone":"Nowhere/Land"}""", "timeZone" },
    };

    [Theory]
    [MemberData(nameof(BadAttributes))]
    public async Task ABadAttributeIs400NamingTheField(string json, string field)
    {
        await using var scenario = new Scenario(redis);

        var response = await scenario.Api.PutAsync("/api/employees/e1", new StringContent(json, Encoding.UTF8, "application/json"));

        await Problems.AssertNamesFieldAsync(response, field);
        Assert.Equal(0, await scenario.Redis.SortedSetLengthAsync(RedisKeys.Employees(scenario.EmployerId)));
    }

    [Theory]
    [InlineData("UTC")]
    [InlineData("America/Argentina/Buenos_Aires")]
    [InlineData("Asia/Kolkata")]
    [InlineData("Etc/GMT+5")]
    public async Task IanaZonesAreAccepted(string zone)
    {
        await using var scenario = new Scenario(redis);

        var response = await scenario.Api.PutAsJsonAsync("/api/employees/e1", new { phone = "+16505551234", timeZone = zone });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task CsvWithBomShuffledColumnsQuotedCommasAndLineBreaksIsImported()
    {
        await using var scenario = new Scenario(redis);
        var csv = "tags,timeZone,Name,phone,employeeId,language,location,department\r\n" +
                  "forklift;night-shift,Europe/Berlin,\"Nelson, Sheena\",+16505550001,e1,de-DE,Berlin,Logistics\r\n" +
                  "\r\n" +
                  ",,\"Line\nBreak \"\"Bob\"\"\",+16505550002,e2,,\"Hamburg, Port\",Sales\r\n" +
                  "vip,Mars/Base,Carl,+16505550003,e3,en,Berlin,Sales\r\n" +
                  "vip,UTC,Dee,+16505550004,e4,english!,Berlin,Sales,extra\r\n";
        var body = new ByteArrayContent([.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(csv)]);
        body.Headers.ContentType = new("text/csv") { CharSet = "utf-8" };

        var response = await scenario.Api.PostAsync("/api/employees/import", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(2, result["created"]!.GetValue<int>());
        var rejected = result["rejected"]!.AsArray();
        Assert.Equal(2, rejected.Count);
        // e3 is data row 3, starting on line 6 (the header, a blank line and a two-line record come first).
        Assert.Equal(3, rejected[0]!["row"]!.GetValue<int>());
        Assert.Equal(6, rejected[0]!["line"]!.GetValue<int>());
        Assert.Equal(["timeZone"], rejected[0]!["fields"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal(7, rejected[1]!["line"]!.GetValue<int>());
        Assert.Contains("language", rejected[1]!["fields"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Contains("row", rejected[1]!["fields"]!.AsArray().Select(f => f!.GetValue<string>()));

        var e1 = (await scenario.Api.GetFromJsonAsync<JsonObject>("/api/employees/e1"))!;
        Assert.Equal("Nelson, Sheena", e1["name"]!.GetValue<string>());
        Assert.Equal("Logistics", e1["department"]!.GetValue<string>());
        Assert.Equal("Europe/Berlin", e1["timeZone"]!.GetValue<string>());
        Assert.Equal(["forklift", "night-shift"], e1["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        var e2 = (await scenario.Api.GetFromJsonAsync<JsonObject>("/api/employees/e2"))!;
        Assert.Equal("Line\nBreak \"Bob\"", e2["name"]!.GetValue<string>());
        Assert.Equal("Hamburg, Port", e2["location"]!.GetValue<string>());
        Assert.Null(e2["timeZone"]);

        // The same file again: nothing changes.
        var again = await scenario.Api.PostAsync("/api/employees/import", body);
        var second = (await again.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(0, second["created"]!.GetValue<int>());
        Assert.Equal(2, second["unchanged"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("employeeId,phone,departmnet\ne1,+16505550001,Sales\n", "departmnet")]
    [InlineData("employeeId,name\ne1,Ann\n", "phone")]
    [InlineData("employeeId,phone,phone\ne1,+16505550001,+16505550002\n", "twice")]
    public async Task ACsvHeaderThatCannotBeMatchedIs400(string csv, string named)
    {
        await using var scenario = new Scenario(redis);

        var response = await scenario.Api.PostAsync("/api/employees/import", new StringContent(csv, Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains(named, problem["errors"]!["body"]![0]!.GetValue<string>());
        Assert.Equal(0, await scenario.Redis.SortedSetLengthAsync(RedisKeys.Employees(scenario.EmployerId)));
    }

    [Fact]
    public async Task ASpreadsheetsTrailingEmptyColumnsAreSkipped()
    {
        await using var scenario = new Scenario(redis);

        var response = await scenario.Api.PostAsync("/api/employees/import",
            new StringContent("employeeId,phone,location,,\ne1,+16505550001,Berlin,,\n", Encoding.UTF8, "text/csv"));

        Assert.Equal(1, (await response.Content.ReadFromJsonAsync<JsonObject>())!["created"]!.GetValue<int>());
        Assert.Equal("Berlin", (await scenario.Api.GetFromJsonAsync<JsonObject>("/api/employees/e1"))!["location"]!.GetValue<string>());
    }

    [Fact]
    public async Task ACsvWithoutHeaderHasTheColumnsInTheirDocumentedOrder()
    {
        await using var scenario = new Scenario(redis);

        var response = await scenario.Api.PostAsync("/api/employees/import",
            new StringContent("e1,+16505550001,Ann,Sales,Berlin,en-GB,Europe/London,a;b\ne2,+16505550002,Bob\n", Encoding.UTF8, "text/csv"));

        Assert.Equal(2, (await response.Content.ReadFromJsonAsync<JsonObject>())!["created"]!.GetValue<int>());
        var e1 = (await scenario.Api.GetFromJsonAsync<JsonObject>("/api/employees/e1"))!;
        Assert.Equal("Europe/London", e1["timeZone"]!.GetValue<string>());
        Assert.Equal(["a", "b"], e1["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
    }

    [Fact]
    public async Task JsonImportRowsTakeAttributesToo()
    {
        await using var scenario = new Scenario(redis);

        var response = await scenario.Api.PostAsJsonAsync("/api/employees/import", new object[]
        {
            new { employeeId = "e1", phone = "+16505550001", department = "Sales", tags = new[] { "vip" } },
            new { employeeId = "e2", phone = "+16505550002", timeZone = "Nowhere/Land" },
        });

        var result = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(1, result["created"]!.GetValue<int>());
        Assert.Equal(2, result["rejected"]![0]!["row"]!.GetValue<int>());
        Assert.Null(result["rejected"]![0]!["line"]);
        Assert.Equal("vip", (await scenario.Api.GetFromJsonAsync<JsonObject>("/api/employees/e1"))!["tags"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task TheListFiltersByDepartmentLocationAndTagAndPagesThroughTheMatches()
    {
        await using var scenario = new Scenario(redis);
        await ImportStaffAsync(scenario);

        Assert.Equal(["e01", "e02", "e05", "e06"], await IdsAsync(scenario, "department=Sales"));
        Assert.Equal(["e01", "e03", "e05"], await IdsAsync(scenario, "location=Berlin"));
        Assert.Equal(["e01", "e05"], await IdsAsync(scenario, "department=Sales&location=Berlin"));
        Assert.Equal(["e02", "e05"], await IdsAsync(scenario, "tag=vip"));
        Assert.Equal(["e05"], await IdsAsync(scenario, "department=Sales&location=Berlin&tag=vip"));
        Assert.Empty(await IdsAsync(scenario, "department=sales"));
        Assert.Equal(7, (await IdsAsync(scenario, "department=")).Count);

        // Paging keeps its contract: limit per page, nextCursor until the last match.
        var page1 = (await scenario.Api.GetFromJsonAsync<JsonObject>("/api/employees?department=Sales&limit=3"))!;
        Assert.Equal(["e01", "e02", "e05"], page1["items"]!.AsArray().Select(i => i!["employeeId"]!.GetValue<string>()));
        var cursor = page1["nextCursor"]!.GetValue<string>();
        var page2 = (await scenario.Api.GetFromJsonAsync<JsonObject>($"/api/employees?department=Sales&limit=3&cursor={cursor}"))!;
        Assert.Equal(["e06"], page2["items"]!.AsArray().Select(i => i!["employeeId"]!.GetValue<string>()));
        Assert.Null(page2["nextCursor"]);
    }

    /// <summary>Seven employees: department, location and tags chosen so each filter (and their AND) picks a different set.</summary>
    internal static async Task ImportStaffAsync(Scenario scenario)
    {
        const string csv = """
            employeeId,phone,name,department,location,tags
            e01,+16505550001,Ann,Sales,Berlin,
            e02,+16505550002,Bob,Sales,Hamburg,vip;early
            e03,+16505550003,Cid,Logistics,Berlin,
            e04,+16505550004,Dee,Logistics,Munich,early
            e05,+16505550005,Eve,Sales,Berlin,vip
            e06,+16505550006,Fay,Sales,Munich,
            e07,+16505550007,Gus,,,
            """;
        var response = await scenario.Api.PostAsync("/api/employees/import", new StringContent(csv, Encoding.UTF8, "text/csv"));
        Assert.Equal(7, (await response.Content.ReadFromJsonAsync<JsonObject>())!["created"]!.GetValue<int>());
    }

    private static async Task<List<string>> IdsAsync(Scenario scenario, string query)
    {
        var page = (await scenario.Api.GetFromJsonAsync<JsonObject>($"/api/employees?{query}"))!;
        return [.. page["items"]!.AsArray().Select(i => i!["employeeId"]!.GetValue<string>())];
    }
}
