using System.Text.Json;

namespace Bot.Tools.WhatsAppStub;

/// <summary><c>POST /stub/inbound</c>: a person messages one of the numbers (world mode).</summary>
public sealed partial class WhatsAppStubServer
{
    /// <summary><c>POST /stub/inbound</c> <c>{phoneNumberId, from, text, name?, waId?}</c>: that person messages the number.</summary>
    private WireMock.ResponseMessage Inbound(WireMock.IRequestMessage request)
    {
        if (world is null)
        {
            return InboundError(409, "world mode is off: start the stub with a webhook URL (--webhook-url) and an app secret");
        }

        InboundRequest? inbound;
        try
        {
            inbound = JsonSerializer.Deserialize<InboundRequest>(request.Body ?? "", InboundRequest.Json);
        }
        catch (JsonException)
        {
            inbound = null;
        }

        if (inbound is not { PhoneNumberId: { Length: > 0 } phoneNumberId, From: { Length: > 0 } from, Text: { Length: > 0 } text } ||
            !from.All(char.IsAsciiDigit) || inbound.WaId is { } w && !w.All(char.IsAsciiDigit))
        {
            return InboundError(400, """expected JSON {"phoneNumberId":"...","from":"16502001234","text":"hello","name":"optional","waId":"optional"}; from and waId are digits without a plus sign""");
        }

        if (senders.Count > 0 && !senders.ContainsKey(phoneNumberId))
        {
            return InboundError(404, "unknown phoneNumberId: not one of the stub's senders");
        }

        var id = world.Inbound(phoneNumberId, from, inbound.WaId ?? from, inbound.Name, text);
        return StubResponses.Json(200, JsonSerializer.Serialize(new { id }));
    }

    private static WireMock.ResponseMessage InboundError(int status, string message) =>
        StubResponses.Json(status, JsonSerializer.Serialize(new { error = message }, StubJson.Options));

    private sealed record InboundRequest(string? PhoneNumberId, string? From, string? Text, string? Name, string? WaId)
    {
        public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    }
}
