using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Bot.Tools.WhatsAppStub.World;
using Microsoft.AspNetCore.Http;
using WireMock;
using WireMock.Types;
using WireMock.Util;

namespace Bot.Tools.WhatsAppStub;

/// <summary>
/// The fields a mapping file with <c>"Data": { "answer": "code" }</c> gives the code path: its status, headers and delay
/// (<c>Response.StatusCode</c>, <c>Response.Headers</c>, <c>Response.Delay</c>) and <c>Data.messageStatus</c>.
/// </summary>
internal sealed record CodeAnswer(Guid Guid, int StatusCode, IReadOnlyDictionary<string, string> Headers, TimeSpan Delay, string MessageStatus)
{
    public static CodeAnswer? TryRead(string mappingFile)
    {
        var root = JsonNode.Parse(File.ReadAllText(mappingFile), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        if (root?["Data"]?["answer"]?.GetValue<string>() != "code") return null;
        var response = root["Response"];
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Content-Type"] = "application/json" };
        if (response?["Headers"] is JsonObject fileHeaders)
        {
            foreach (var (name, value) in fileHeaders) headers[name] = value is JsonArray list ? string.Join(", ", list) : value?.ToString() ?? "";
        }

        return new CodeAnswer(
            Guid.Parse(root["Guid"]?.GetValue<string>() ?? throw new InvalidOperationException($"{mappingFile}: a code-answered mapping needs a Guid")),
            int.Parse(response?["StatusCode"]?.ToString() ?? "200", CultureInfo.InvariantCulture),
            headers,
            TimeSpan.FromMilliseconds(response?["Delay"]?.GetValue<int>() ?? 0),
            root["Data"]?["messageStatus"]?.GetValue<string>() ?? "accepted");
    }
}

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

internal static class StubResponses
{
    public static Task WriteAsync(HttpResponse response, int status, string body)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        return response.WriteAsync(body);
    }

    public static ResponseMessage Json(int status, string body) => new()
    {
        StatusCode = status,
        Headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/json") },
        BodyData = new BodyData { BodyAsString = body, DetectedBodyType = BodyType.String },
    };
}
