using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Bot.Tools.WhatsAppStub.World;
using WireMock;
using WireMock.Types;
using WireMock.Util;

namespace Bot.Tools.WhatsAppStub;

/// <summary>
/// The accepted send, answered from code: the same JSON as the Handlebars template in send-message.json, with a
/// wamid as long as Meta's (58 characters), so Redis measured against the stub holds production-sized records.
/// </summary>
public static class AcceptedSend
{
    // Per process, so wamids stay unique across restarts of the stub against the same Redis.
    private static readonly uint Salt = (uint)Random.Shared.Next();
    private static long counter;

    // '+' as is, not \u002B: the same bytes Meta sends.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="waIds">Numbers (without '+') whose wa_id differs from the number.</param>
    /// <param name="world">In world mode, told about each accepted send so it can post its statuses.</param>
    internal static IResponseMessage Answer(IRequestMessage request, CodeAnswer answer, IReadOnlyDictionary<string, string> waIds, StubWorld? world)
    {
        // Outside world mode only `to` matters, and the reader stops there.
        var send = world is null ? new SendFields(StubJson.ReadTo(request), null, null) : StubJson.ReadSend(request);
        if (send.To is not { Length: > 0 } to)
        {
            return StubResponses.Json(400,
                """{"error":{"message":"(#100) The parameter to is required.","type":"OAuthException","code":100,"fbtrace_id":"AStubTrace100"}}""");
        }

        var number = to.TrimStart('+');
        var waId = waIds.Count == 0 ? number : waIds.GetValueOrDefault(number, number);
        var messageId = MessageId(to);
        if (world is not null && answer.StatusCode is >= 200 and < 300)
        {
            world.Accepted(StubJson.PhoneNumberIdOf(request.Path), waId, messageId, send, answeredAfter: answer.Delay);
        }

        return new ResponseMessage
        {
            StatusCode = answer.StatusCode,
            Headers = answer.Headers.ToDictionary(h => h.Key, h => new WireMockList<string>(h.Value)),
            BodyData = new BodyData { BodyAsString = Body(to, waId, messageId, answer.MessageStatus), DetectedBodyType = BodyType.String },
        };
    }

    /// <summary>Cloud API's answer to an accepted send to <paramref name="to"/>, with a fresh wamid.</summary>
    public static string Body(string to, string messageStatus = "accepted") => Body(to, to.TrimStart('+'), MessageId(to), messageStatus);

    private static string Body(string to, string waId, string messageId, string messageStatus)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("messaging_product", "whatsapp");
            json.WriteStartArray("contacts");
            json.WriteStartObject();
            json.WriteString("input", to);
            json.WriteString("wa_id", waId);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteStartArray("messages");
            json.WriteStartObject();
            json.WriteString("id", messageId);
            json.WriteString("message_status", messageStatus);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string MessageId(string to)
    {
        var id = Interlocked.Increment(ref counter);
        // 36 ASCII bytes → exactly 48 base64 characters, no padding.
        var raw = Encoding.ASCII.GetBytes($"{to.TrimStart('+'),-15}{Salt:X8}{id:X13}"[..36]);
        return "wamid.HBgL" + Convert.ToBase64String(raw);
    }
}
