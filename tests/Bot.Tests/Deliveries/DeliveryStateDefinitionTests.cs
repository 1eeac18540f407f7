using System.Text.Json;
using System.Text.RegularExpressions;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Redis;
using StackExchange.Redis.KeyspaceIsolation;

namespace Bot.Tests.Deliveries;

/// <summary>
/// <see cref="DeliveryStates"/> is the one definition of the delivery states; the Lua scripts and the portal repeat
/// parts of it. These tests fail when a copy drifts from it.
/// </summary>
public sealed partial class DeliveryStateDefinitionTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task TransitionScriptAllowsExactlyTheMovesOfTheDefinitionAndMovesTheCountersWithThem()
    {
        var db = redis.Connection.GetDatabase().WithKeyPrefix(SharedRedis.NewKeyPrefix());
        var store = new DeliveryStore(db);
        var now = DateTimeOffset.UtcNow;
        var mismatches = new List<string>();

        foreach (var from in DeliveryStates.All)
        {
            foreach (var to in DeliveryStates.All)
            {
                // A fresh announcement per pair: its counters start at 1 for the current state, as after a claim.
                var announcementId = Guid.NewGuid().ToString("N");
                // A claim names its dispatcher; every other state the message the status is about.
                var current = new DeliveryRecord(from, now, from == DeliveryState.Claimed ? "dispatcher#1" : "wamid.same");
                await db.StringSetAsync(RedisKeys.Delivery(announcementId, "e1"), current.ToString(), TimeSpan.FromMinutes(1));
                if (from.Counter() is { } fromCounter) await db.HashSetAsync(RedisKeys.Announcement(announcementId), fromCounter, 1);

                var applied = await store.TransitionAsync(announcementId, "e1", new DeliveryRecord(to, now, "wamid.same"));

                if (applied != from.CanMoveTo(to)) mismatches.Add($"{from.Name()} -> {to.Name()}: script {(applied ? "moved" : "refused")}");
                var counters = (await db.HashGetAllAsync(RedisKeys.Announcement(announcementId))).ToDictionary(e => (string)e.Name!, e => (long)e.Value);
                var expected = applied ? to : from;
                foreach (var counter in DeliveryStates.CountFields.Skip(1))
                {
                    var want = counter == expected.Counter() ? 1 : 0;
                    if (counters.GetValueOrDefault(counter) != want)
                        mismatches.Add($"{from.Name()} -> {to.Name()}: {counter} = {counters.GetValueOrDefault(counter)}, expected {want}");
                }
            }
        }

        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));
    }

    [Fact]
    public void CountFieldsAreTheApiCountsInOrder()
    {
        // AnnouncementStore reads the fields in this order into DeliveryCounts' constructor.
        var parameters = typeof(DeliveryCounts).GetConstructors().Single().GetParameters();

        Assert.Equal(DeliveryStates.CountFields, parameters.Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name!)));
    }

    [Fact]
    public void PortalListsTheCountsAndStatesOfTheDefinition()
    {
        var script = File.ReadAllText(Repo.PathOf("src/Bot.Webhook/wwwroot/portal/announcements.js"));
        var page = File.ReadAllText(Repo.PathOf("src/Bot.Webhook/wwwroot/index.html"));

        var countNames = JsStringArray().Match(script);
        Assert.True(countNames.Success, "announcements.js declares const countNames = [...]");
        Assert.Equal(DeliveryStates.CountFields, JsString().Matches(countNames.Groups["items"].Value).Select(m => m.Groups["s"].Value));
        Assert.Equal(DeliveryStates.CountFields, DataCount().Matches(page).Select(m => m.Groups["name"].Value));

        var filter = page[page.IndexOf("<select id=\"delivery-state\">", StringComparison.Ordinal)..];
        filter = filter[..filter.IndexOf("</select>", StringComparison.Ordinal)];
        Assert.Equal(["", "pending", .. DeliveryStates.All.Select(s => s.Name())], OptionValue().Matches(filter).Select(m => m.Groups["v"].Value));
    }

    [Fact]
    public void EveryStateHasOneCodeAndOneNameThatParseBack()
    {
        Assert.Equal(Enum.GetValues<DeliveryState>(), DeliveryStates.All);
        foreach (var state in DeliveryStates.All)
        {
            Assert.True(DeliveryStates.TryParseCode(state.Code(), out var byCode) && byCode == state);
            Assert.True(DeliveryStates.TryParseName(state.Name(), out var byName) && byName == state);
        }
        Assert.Equal(DeliveryStates.All.Count, DeliveryStates.All.Select(s => s.Code()).Distinct().Count());
    }

    [Fact]
    public async Task AStatusAboutAnotherMessageOfTheDeliveryChangesNothingAndTheFormIsKept()
    {
        var db = redis.Connection.GetDatabase().WithKeyPrefix(SharedRedis.NewKeyPrefix());
        var store = new DeliveryStore(db);
        var now = DateTimeOffset.UtcNow;
        // The template re-send of a text WhatsApp failed with 131047: a late duplicate of the text's failure is not about it.
        var resent = new DeliveryRecord(DeliveryState.Sent, now, "wamid.template", Form: DeliveryForm.Template);
        await db.StringSetAsync(RedisKeys.Delivery("a1", "e1"), resent.ToString());

        Assert.False(await store.TransitionAsync("a1", "e1", new DeliveryRecord(DeliveryState.Failed, now, "wamid.text", "131047")));
        // Nor while the re-send is claimed and its answer not yet recorded: the claim names the text it replaces.
        var claim = new DeliveryRecord(DeliveryState.Claimed, now, "dispatcher#resend", "wamid.text", DeliveryForm.Template);
        await db.StringSetAsync(RedisKeys.Delivery("a2", "e1"), claim.ToString());
        Assert.False(await store.TransitionAsync("a2", "e1", new DeliveryRecord(DeliveryState.Failed, now, "wamid.text", "131047")));
        Assert.True(await store.TransitionAsync("a2", "e1", new DeliveryRecord(DeliveryState.Sent, now, "wamid.template")));
        Assert.True(await store.TransitionAsync("a1", "e1", new DeliveryRecord(DeliveryState.Read, now, "wamid.template")));

        Assert.Equal(new DeliveryRecord(DeliveryState.Read, now, "wamid.template", Form: DeliveryForm.Template).ToString(), (await store.GetAsync("a1", "e1"))!.ToString());
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef:e1001", true)]
    [InlineData("a1:e.2@x", true)]
    [InlineData("a:b:c", false)]
    [InlineData("{ann}:{emp}", false)]
    [InlineData(":e1", false)]
    [InlineData(null, false)]
    public void DeliveryRefParsesWhatItFormatsAndNothingElse(string? value, bool valid)
    {
        Assert.Equal(valid, DeliveryRef.TryParse(value, out var reference));
        if (valid) Assert.Equal(value, reference.Format());
    }

    [GeneratedRegex(@"const countNames = \[(?<items>[^\]]*)\]")]
    private static partial Regex JsStringArray();

    [GeneratedRegex(@"'(?<s>[^']*)'")]
    private static partial Regex JsString();

    [GeneratedRegex(@"data-count=""(?<name>\w+)""")]
    private static partial Regex DataCount();

    [GeneratedRegex(@"<option value=""(?<v>\w*)""")]
    private static partial Regex OptionValue();
}
