using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using WireMock;

namespace Bot.Tools.WhatsAppStub;

internal static partial class StubJson
{
    // Phone numbers start with '+'; keep it readable instead of \u002B.
    public static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [GeneratedRegex(@"^/v\d+\.\d+/[^/]+/messages$")]
    private static partial Regex MessagesPath();

    public static bool IsMessagesPath(string path) => MessagesPath().IsMatch(path);

    /// <summary>
    /// The phone number id in <c>/{version}/{phoneNumberId}/messages</c>; empty for any other path. The segment is
    /// taken as sent (ids are digits), so a path cannot inject anything into /stub/received's JSON beyond a key.
    /// </summary>
    public static string PhoneNumberIdOf(string path)
    {
        if (!IsMessagesPath(path)) return "";
        var afterVersion = path.IndexOf('/', 1) + 1;
        return path[afterVersion..path.IndexOf('/', afterVersion)];
    }

    /// <summary>The top-level <c>to</c> of a send; null when absent or not JSON.</summary>
    public static string? ReadTo(IRequestMessage request) => ReadSend(request).To;

    /// <summary>Stops at <c>to</c>: the counting middleware reads every send and needs nothing else.</summary>
    public static string? ReadTo(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0) return null;
        try
        {
            var json = new Utf8JsonReader(bytes);
            while (json.Read())
            {
                if (json.TokenType != JsonTokenType.PropertyName || json.CurrentDepth != 1) continue;
                // `recipient` is a BSUID, sent instead of `to` to a user whose number WhatsApp withholds.
                var isTo = json.ValueTextEquals("to"u8) || json.ValueTextEquals("recipient"u8);
                json.Read();
                if (isTo && json.TokenType == JsonTokenType.String) return json.GetString();
                json.TrySkip();
            }
        }
        catch (JsonException)
        {
            // A body that is not JSON: counted under "(none)", like a send without a recipient.
        }

        return null;
    }

    public static SendFields ReadSend(IRequestMessage request) =>
        ReadSend(request.BodyAsBytes ?? (request.Body is { } body ? Encoding.UTF8.GetBytes(body) : []));

    /// <summary>The top-level <c>to</c>, <c>type</c> and <c>biz_opaque_callback_data</c> of a send; nulls when absent or not JSON.</summary>
    public static SendFields ReadSend(ReadOnlySpan<byte> bytes)
    {
        string? to = null, type = null, callbackData = null;
        if (bytes.Length == 0) return new SendFields(to, type, callbackData);
        try
        {
            var json = new Utf8JsonReader(bytes);
            while (json.Read())
            {
                if (json.TokenType != JsonTokenType.PropertyName || json.CurrentDepth != 1) continue;
                var field = json.ValueTextEquals("to"u8) || json.ValueTextEquals("recipient"u8) ? 1 : json.ValueTextEquals("type"u8) ? 2 : json.ValueTextEquals("biz_opaque_callback_data"u8) ? 3 : 0;
                json.Read();
                if (field != 0 && json.TokenType == JsonTokenType.String)
                {
                    var value = json.GetString();
                    _ = field switch { 1 => to = value, 2 => type = value, _ => callbackData = value };
                }
                else
                {
                    json.TrySkip();
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: no recipient, answered 400 like a send without one.
        }

        return new SendFields(to, type, callbackData);
    }
}

/// <summary>What the stub reads from a send's body.</summary>
internal readonly record struct SendFields(string? To, string? Type, string? CallbackData);
