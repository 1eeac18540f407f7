using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WireMock;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Bot.Tools.WhatsAppStub;

/// <summary>
/// <c>GET /{version}/{phoneNumberId}?fields=…</c>: what the operator API asks before it stores a token. With
/// <see cref="WhatsAppStubOptions.Senders"/> set, the token must be that number's (else Graph's 401, code 190); without,
/// any token is accepted, as sends are. The answer names the number after its id, so tests can tell numbers apart.
/// </summary>
internal static class PhoneNumberLookup
{
    public static void Map(WireMockServer server, IReadOnlyDictionary<string, string> senders) =>
        server.Given(Request.Create().WithPath(new RegexMatcher(@"^/v\d+\.\d+/\d+$")).UsingGet())
            .AtPriority(1)
            .RespondWith(Response.Create().WithCallback(request => Answer(request, senders)));

    private static ResponseMessage Answer(IRequestMessage request, IReadOnlyDictionary<string, string> senders)
    {
        var phoneNumberId = request.Path[(request.Path.LastIndexOf('/') + 1)..];
        var authorization = request.Headers?.TryGetValue("Authorization", out var values) == true ? values.ToString() : "";
        var token = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : "";
        var known = senders.Count == 0
            ? token.Length > 0
            : senders.TryGetValue(phoneNumberId, out var expected) &&
              CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(expected));
        if (!known)
            return StubResponses.Json(401, """{"error":{"message":"(#190) Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190,"fbtrace_id":"AStubTrace190"}}""");
        return StubResponses.Json(200, JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["id"] = phoneNumberId,
            ["display_phone_number"] = $"+1 555-{phoneNumberId[^Math.Min(4, phoneNumberId.Length)..]}",
            ["verified_name"] = $"Stub Business {phoneNumberId}",
            ["quality_rating"] = "GREEN",
        }, StubJson.Options));
    }
}
