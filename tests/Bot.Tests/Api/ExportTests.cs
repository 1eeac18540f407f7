using System.Net;
using System.Net.Http.Json;
using System.Text;
using Bot.Core.Deliveries;
using Bot.Core.Redis;
using Bot.Tests.Harness;
using nietras.SeparatedValues;

namespace Bot.Tests.Api;

public sealed class ExportTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    private const string Header = "employeeId,name,department,location,state,form,error,messageId,sentAt,deliveredAt,readAt,acknowledgedAt,attempts,language";

    [Fact]
    public async Task TheExportHasARowPerTargetInItsStateWithFormulasDefused()
    {
        await using var scenario = new Scenario(redis);
        const string csv = """"
            employeeId,phone,name,department,location
            e1,+16505550001,=HYPERLINK("http://evil"),Sales,Berlin
            e2,+16505550002,+Plus,-Minus,@At
            e3,+16505550003,"Comma, Quote ""Q""",Logistics,Hamburg
            e4,+16505550004,Dee,Sales,Berlin
            e5,+16505550005,Eve,Sales,Berlin
            e6,+16505550006,Fay,Sales,Berlin
            """";
        await scenario.Api.PostAsync("/api/employees/import", new StringContent(csv, Encoding.UTF8, "text/csv"));
        var id = await scenario.CreateAnnouncementAsync(new
        {
            message = "hi", sendAt = DateTimeOffset.UtcNow.AddHours(1).ToString("O"), employeeIds = new[] { "e1", "e2", "e3", "e4", "e5", "e6" },
        });
        var at = DateTimeOffset.Parse("2026-11-28T17:00:01.250Z");
        await Seed(scenario, id, "e1", new DeliveryRecord(DeliveryState.Sent, at, "wamid.1"));
        await Seed(scenario, id, "e2", new DeliveryRecord(DeliveryState.Delivered, at.AddSeconds(1), "wamid.2"));
        await Seed(scenario, id, "e3", new DeliveryRecord(DeliveryState.Read, at.AddSeconds(2), "wamid.3"));
        await Seed(scenario, id, "e4", new DeliveryRecord(DeliveryState.Failed, at.AddSeconds(3), null, "131026"));
        await Seed(scenario, id, "e5", new DeliveryRecord(DeliveryState.Unknown, at.AddSeconds(4), null, "timeout"));
        // e6: no record yet (pending).

        var response = await scenario.Api.GetAsync($"/api/announcements/{id}/deliveries.csv");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal($"deliveries-{id}.csv", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var text = Encoding.UTF8.GetString(bytes);
        // No BOM: the first bytes are the header's, as a client that splits on commas expects (lines end in \n).
        Assert.StartsWith(Header + "\n", text);
        var rows = Parse(text);
        Assert.Equal(["e1", "e2", "e3", "e4", "e5", "e6"], rows.Select(r => r["employeeId"]));
        Assert.Equal("'=HYPERLINK(\"http://evil\")", rows[0]["name"]);
        Assert.Equal(("sent", "wamid.1", "2026-11-28T17:00:01.250Z", "", ""), (rows[0]["state"], rows[0]["messageId"], rows[0]["sentAt"], rows[0]["deliveredAt"], rows[0]["readAt"]));
        Assert.Equal(("'+Plus", "'-Minus", "'@At"), (rows[1]["name"], rows[1]["department"], rows[1]["location"]));
        Assert.Equal(("delivered", "", "2026-11-28T17:00:02.250Z"), (rows[1]["state"], rows[1]["sentAt"], rows[1]["deliveredAt"]));
        Assert.Equal(("Comma, Quote \"Q\"", "read", "2026-11-28T17:00:03.250Z"), (rows[2]["name"], rows[2]["state"], rows[2]["readAt"]));
        Assert.Equal(("failed", "131026", ""), (rows[3]["state"], rows[3]["error"], rows[3]["messageId"]));
        Assert.Equal(("unknown", "timeout"), (rows[4]["state"], rows[4]["error"]));
        Assert.Equal(("pending", "", "", "", "0"), (rows[5]["state"], rows[5]["error"], rows[5]["form"], rows[5]["acknowledgedAt"], rows[5]["attempts"]));
        Assert.Equal("1", rows[3]["attempts"]);
    }

    [Fact]
    public async Task AnUnknownAnnouncementOrOneOfAnotherEmployerIs404()
    {
        await using var scenario = new Scenario(redis);
        await scenario.AddEmployeesAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = "mine", sendAt = DateTimeOffset.UtcNow.AddHours(1).ToString("O") });
        using var other = scenario.ClientFor(Scenario.OtherApiKey);

        foreach (var response in new[]
                 {
                     await other.GetAsync($"/api/announcements/{id}/deliveries.csv"),
                     await scenario.Api.GetAsync("/api/announcements/0123456789abcdef0123456789abcdef/deliveries.csv"),
                 })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task AnExportOfManyPagesHasEveryTargetOnce()
    {
        await using var scenario = new Scenario(redis);
        var employees = await scenario.AddEmployeesAsync(1203);
        var id = await scenario.CreateAnnouncementAsync(new
        {
            message = "hi", sendAt = DateTimeOffset.UtcNow.AddHours(1).ToString("O"), employeeIds = employees.Select(e => e.Id).ToArray(),
        });

        var rows = Parse(await scenario.Api.GetStringAsync($"/api/announcements/{id}/deliveries.csv"));

        Assert.Equal(employees.Select(e => e.Id), rows.Select(r => r["employeeId"]));
        Assert.All(rows, r => Assert.Equal("pending", r["state"]));
    }

    private static Task Seed(Scenario scenario, string id, string employeeId, DeliveryRecord record) =>
        scenario.Redis.StringSetAsync(RedisKeys.Delivery(id, employeeId), record.ToString());

    private static List<Dictionary<string, string>> Parse(string csv)
    {
        using var reader = Sep.New(',').Reader(o => o with { Unescape = true }).FromText(csv);
        var rows = new List<Dictionary<string, string>>();
        foreach (var row in reader)
        {
            var cells = new Dictionary<string, string>();
            foreach (var name in reader.Header.ColNames) cells[name] = row[name].ToString();
            rows.Add(cells);
        }
        return rows;
    }
}
