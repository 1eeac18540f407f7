using System.Text.Json;
using WireMock;

namespace Bot.Tools.WhatsAppStub.World;

/// <summary>
/// <c>POST /stub/change-number</c> <c>{phoneNumberId, from, to}</c> (digits without '+'): the person <c>from</c> moves to
/// the number <c>to</c>, and WhatsApp's signed <c>user_changed_number</c> is posted to the webhook for that business number.
/// Answers <c>{id}</c>, the system message's wamid.
/// </summary>
internal static class NumberChangeEndpoint
{
    public const string Path = "/stub/change-number";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IResponseMessage Answer(IRequestMessage request, StubWorld? world, IReadOnlyDictionary<string, string> senders)
    {
        if (world is null) return Error(409, "world mode is off: start the stub with a webhook URL (--webhook-url) and an app secret");
        Change? change;
        try
        {
            change = JsonSerializer.Deserialize<Change>(request.Body ?? "", Json);
        }
        catch (JsonException)
        {
            change = null;
        }

        if (change is not { PhoneNumberId: { Length: > 0 } phoneNumberId, From: { Length: > 0 } from, To: { Length: > 0 } to } ||
            !from.All(char.IsAsciiDigit) || !to.All(char.IsAsciiDigit) || from == to)
        {
            return Error(400, """expected JSON {"phoneNumberId":"...","from":"16502001234","to":"16502009999"}: two different numbers, digits without a plus sign""");
        }

        if (senders.Count > 0 && !senders.ContainsKey(phoneNumberId)) return Error(404, "unknown phoneNumberId: not one of the stub's senders");
        return StubResponses.Json(200, JsonSerializer.Serialize(new { id = world.ChangeNumber(phoneNumberId, from, to) }));
    }

    private static ResponseMessage Error(int status, string message) =>
        StubResponses.Json(status, JsonSerializer.Serialize(new { error = message }, StubJson.Options));

    private sealed record Change(string? PhoneNumberId, string? From, string? To);
}
