using System.Text;
using Bot.Webhook.Webhook;

namespace Bot.Tests.Webhook;

public sealed class WebhookPayloadTests
{
    [Fact]
    public void InboundTextMessageParses()
    {
        const string json = """
            {"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{
             "messaging_product":"whatsapp",
             "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
             "contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],
             "messages":[{"from":"16505551234","id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
               "timestamp":"1749416383","type":"text","text":{"body":"STOP"}}]}}]}]}
            """;

        var payload = WebhookPayload.Parse(Encoding.UTF8.GetBytes(json));

        var value = payload.Entry![0]!.Changes![0]!.Value!;
        Assert.Equal("whatsapp_business_account", payload.Object);
        Assert.Equal("106540352242922", value.Metadata!.PhoneNumberId);
        Assert.Equal("Sheena Nelson", value.Contacts![0]!.Profile!.Name);
        var message = value.Messages![0]!;
        Assert.Equal(("16505551234", "1749416383", "text", "STOP"), (message.From, message.Timestamp, message.Type, message.Text!.Body));
    }

    [Fact]
    public void InteractiveAndButtonRepliesParse()
    {
        const string json = """
            {"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[
              {"from":"1","id":"a","timestamp":"1","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"ack","title":"Got it"}}},
              {"from":"1","id":"b","timestamp":"1","type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"s2","title":"Shift 2","description":"14-22"}}},
              {"from":"1","id":"c","timestamp":"1","type":"button","button":{"payload":"STOP","text":"Stop"},"context":{"id":"x"}}]}}]}]}
            """;

        var messages = WebhookPayload.Parse(Encoding.UTF8.GetBytes(json)).Entry![0]!.Changes![0]!.Value!.Messages!;

        Assert.Equal("ack", messages[0]!.Interactive!.ButtonReply!.Id);
        Assert.Equal("14-22", messages[1]!.Interactive!.ListReply!.Description);
        Assert.Equal("STOP", messages[2]!.Button!.Payload);
    }

    [Fact]
    public void FailedStatusParsesWithErrorsAndCallbackData()
    {
        const string json = """
            {"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
             "statuses":[{"id":"wamid.HBgL","status":"failed","timestamp":"1751142888","recipient_id":"16505551234",
              "biz_opaque_callback_data":"ann-42:emp-7","pricing":{"billable":false},
              "errors":[{"code":131049,"title":"This message was not delivered to maintain healthy ecosystem engagement.",
                "message":"...","error_data":{"details":"..."}}]}]}}]}]}
            """;

        var status = WebhookPayload.Parse(Encoding.UTF8.GetBytes(json)).Entry![0]!.Changes![0]!.Value!.Statuses![0]!;

        Assert.Equal(("failed", "1751142888", "ann-42:emp-7"), (status.Status, status.Timestamp, status.BizOpaqueCallbackData));
        Assert.Equal(131049, status.Errors![0]!.Code);
        Assert.Equal("...", status.Errors[0]!.ErrorData!.Details);
    }
}
