using System.Net;
using System.Text;
using Bot.Tests.Harness;
using Bot.Webhook.Webhook;

namespace Bot.Tests.Webhook;

public sealed class HostileInputTests(SharedRedis redis) : IClassFixture<SharedRedis>
{
    [Fact]
    public async Task MalformedOrHostileSignedInputIsRefusedOrIgnoredNeverA500AndCorruptsNothing()
    {
        await using var scenario = new Scenario(redis);
        var (employeeId, phone) = (await scenario.AddEmployeesAsync(1))[0];
        await scenario.StartDispatchersAsync(1);
        var id = await scenario.CreateAnnouncementAsync(new { message = "Fire drill at 10" });
        var before = await scenario.WaitForStatusAsync(id, "completed", TimeSpan.FromSeconds(20));
        var delivery = Assert.Single(await scenario.GetDeliveriesAsync(id));
        var callback = $"{id}:{employeeId}";
        var wa = Meta.WaId(phone);
        var huge = new string('9', 1_000_000);
        var deep = string.Concat(Enumerable.Repeat("[", 10_000)) + string.Concat(Enumerable.Repeat("]", 10_000));

        (string What, byte[] Body, HttpStatusCode Expected)[] cases =
        [
            ("not JSON", "hello, webhook"u8.ToArray(), HttpStatusCode.BadRequest),
            ("invalid UTF-8 in a field that is read", [.. "{\"object\":\""u8, 0xff, 0xfe, .. "\"}"u8], HttpStatusCode.BadRequest),
            ("invalid UTF-8 in a field that is ignored", [0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d], HttpStatusCode.OK),
            ("truncated JSON", Meta.InboundText(phone, "STOP")[..40], HttpStatusCode.BadRequest),
            ("array at the root", "[]"u8.ToArray(), HttpStatusCode.BadRequest),
            ("entry of the wrong type", """{"object":"whatsapp_business_account","entry":"everything"}"""u8.ToArray(), HttpStatusCode.BadRequest),
            ("status fields of the wrong type", Utf8($$$"""{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"statuses":[{"id":42,"status":["read"],"biz_opaque_callback_data":"{{{callback}}}"}]}}]}]}"""), HttpStatusCode.BadRequest),
            ("error code not a number", Meta.Statuses(new { id = delivery.MessageId, status = "failed", timestamp = "1751142888", recipient_id = wa, biz_opaque_callback_data = callback, errors = new[] { new { code = "lots" } } }), HttpStatusCode.BadRequest),
            ("deep nesting", Utf8($$$"""{"object":"whatsapp_business_account","entry":[],"extra":{{{deep}}}}"""), HttpStatusCode.BadRequest),
            ("over 3 MB", Utf8($$$"""{"object":"whatsapp_business_account","entry":[],"padding":"{{{new string('x', 3 * 1024 * 1024)}}}"}"""), HttpStatusCode.RequestEntityTooLarge),
            ("JSON null", "null"u8.ToArray(), HttpStatusCode.OK),
            ("unknown object and fields", """{"object":"instagram","entry":[{"id":"1","time":1,"changes":[{"field":"comments","value":{"text":"hi"}}]}],"new_field":{"a":[1,2,3]}}"""u8.ToArray(), HttpStatusCode.OK),
            ("huge status id", Meta.Statuses(Meta.Status(huge, "read", phone, callback)), HttpStatusCode.OK),
            ("callback data that is no delivery", Meta.Statuses(
                Meta.Status(Meta.NewMessageId(), "read", phone, "../../etc:passwd"),
                Meta.Status(Meta.NewMessageId(), "read", phone, $"{id}:{employeeId}:extra"),
                Meta.Status(Meta.NewMessageId(), "read", phone, $"{id}:nobody"),
                Meta.Status(Meta.NewMessageId(), "read", phone, huge),
                Meta.Status(Meta.NewMessageId(), "read", phone, "{ann}:{emp}")), HttpStatusCode.OK),
            ("status this product does not track", Meta.Statuses(Meta.Status(delivery.MessageId!, "played", phone, callback), Meta.Status(delivery.MessageId!, "", phone, callback)), HttpStatusCode.OK),
            ("huge sender", Meta.InboundText("+" + huge, "STOP"), HttpStatusCode.OK),
            ("sender that is no number", Meta.InboundText("+1650555abcd", "STOP"), HttpStatusCode.OK),
            ("huge text from the employee", Meta.InboundText(phone, "STOP " + huge), HttpStatusCode.OK),
            ("unknown message type", Meta.Envelope(new() { ["messages"] = new[] { new { from = wa, id = Meta.NewMessageId(), timestamp = "1749416383", type = "sticker", sticker = new { id = "1" } } } }), HttpStatusCode.OK),
            ("message without content", Meta.Envelope(new() { ["messages"] = new[] { new { from = wa, id = Meta.NewMessageId(), timestamp = "1749416383", type = "text" } } }), HttpStatusCode.OK),
            ("null list elements", """{"object":"whatsapp_business_account","entry":[null,{"id":"1","changes":[null,{"field":"messages","value":{"statuses":[null],"messages":[null],"errors":[null]}}]}]}"""u8.ToArray(), HttpStatusCode.OK),
        ];

        foreach (var (what, body, expected) in cases)
        {
            var response = await scenario.PostAsync(body, Meta.Sign(body));
            Assert.True(response.StatusCode == expected, $"{what}: expected {(int)expected}, got {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        Assert.Equal(before.Counts, (await scenario.GetAnnouncementAsync(id)).Counts);
        Assert.Equal(delivery, Assert.Single(await scenario.GetDeliveriesAsync(id)));
        var employee = await scenario.GetEmployeeAsync(employeeId);
        Assert.Equal(("active", phone), (employee.Status, employee.Phone));
        // The employee's own HELP afterwards is answered: nothing above broke the bot, and the only reply it
        // gave was the help text for the megabyte of text (which is "anything else", not STOP).
        await scenario.DeliverAsync(Meta.InboundText(phone, "HELP"));
        var sends = await scenario.WaitForSendsToAsync(phone, 3);
        Assert.Equal(["Fire drill at 10", BotConversation.HelpText, BotConversation.HelpText], sends.Select(s => s.Text));
        Assert.All(scenario.Stub.Sends, s => Assert.Equal(phone, s.To));
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
