using System.Text;
using System.Text.Json.Nodes;
using Bot.WhatsAppClient;

namespace Bot.Tests.WhatsApp;

/// <summary>The request body serialized once and spliced per recipient, and the answer read for its two fields.</summary>
public sealed class MessageBodyTests
{
    [Fact]
    public void EachRecipientGetsTheSharedBodyWithItsOwnNumberAndCallbackData()
    {
        var body = MessageBody.Of(new TextMessage("", "Fire drill at 3 pm"));

        var first = Encoding.UTF8.GetString(body.For("+16502001234", "ann-1:emp-1"));
        var second = Parse(body.For("+16502005678", "ann-1:emp-2"));

        Assert.Equal("""
            {"to":"+16502001234","messaging_product":"whatsapp","recipient_type":"individual","type":"text","text":{"preview_url":false,"body":"Fire drill at 3 pm"},"biz_opaque_callback_data":"ann-1:emp-1"}
            """, first);
        Assert.Equal(("+16502005678", "ann-1:emp-2", "Fire drill at 3 pm"),
            ((string?)second["to"], (string?)second["biz_opaque_callback_data"], (string?)second["text"]!["body"]));
    }

    [Fact]
    public void AUserWhoseNumberIsWithheldIsAddressedByRecipientAndCallbackDataIsEscaped()
    {
        var body = MessageBody.Of(new TemplateMessage("", "shift_notice", "de", ["Früh \"A\"\n"]));

        var json = Parse(body.For("US.13491208655302741918", "ann-\"2\"\\:émp\u0001"));

        Assert.Null(json["to"]);
        Assert.Equal("US.13491208655302741918", (string?)json["recipient"]);
        Assert.Equal("ann-\"2\"\\:émp\u0001", (string?)json["biz_opaque_callback_data"]);
        Assert.Equal("Früh \"A\"\n", (string?)json["template"]!["components"]![0]!["parameters"]![0]!["text"]);
        Assert.Null(Parse(body.For("+16502001234", null))["biz_opaque_callback_data"]);
    }

    [Fact]
    public void WhatWhatsAppWouldRefuseIsARefusalNotAnException()
    {
        Assert.Contains("4096", MessageBody.Of(new TextMessage("", new string('x', 4097))).Refusal);
        Assert.Null(MessageBody.Of(new TextMessage("", "ok")).Refusal);
        Assert.NotNull(MessageBody.RecipientRefusal("16502001234"));
        Assert.NotNull(MessageBody.RecipientRefusal(null));
        Assert.Null(MessageBody.RecipientRefusal("+16502001234"));
    }

    [Theory]
    [InlineData("""{"messaging_product":"whatsapp","contacts":[{"input":"+16502001234","wa_id":"16502001234"}],"messages":[{"id":"wamid.A1","message_status":"accepted"}]}""", "wamid.A1", "16502001234")]
    [InlineData("""{"messages":[{"message_status":"accepted","id":"wamid.B2"},{"id":"wamid.other"}],"extra":{"nested":[1,{"id":"x"}]}}""", "wamid.B2", null)]
    [InlineData("""{"messages":[]}""", null, null)]
    [InlineData("""{"messages":{"id":"wamid.C3"}}""", null, null)]
    [InlineData("<html>Bad gateway</html>", null, null)]
    [InlineData("", null, null)]
    public void TheAnswerIsReadForTheMessageIdAndTheWhatsAppId(string answer, string? messageId, string? waId) =>
        Assert.Equal((messageId, waId), SendAnswer.Read(Encoding.UTF8.GetBytes(answer)));

    private static JsonNode Parse(byte[] body) => JsonNode.Parse(body)!;
}
