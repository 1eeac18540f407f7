using System.Text.Json;

namespace Bot.WhatsAppClient;

/// <summary>
/// The two fields of an accepted send's answer the dispatcher needs — <c>messages[0].id</c> (the wamid) and
/// <c>contacts[0].wa_id</c> — read straight from its UTF-8 bytes (Utf8JsonReader), without materializing the rest.
/// </summary>
internal static class SendAnswer
{
    public static (string? MessageId, string? WaId) Read(ReadOnlySpan<byte> json)
    {
        string? messageId = null, waId = null;
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return (null, null);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("messages"u8)) messageId = FirstOf(ref reader, "id"u8);
                else if (reader.ValueTextEquals("contacts"u8)) waId = FirstOf(ref reader, "wa_id"u8);
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: no message id, which makes the send unknown.
            return (null, null);
        }
        return (messageId, waId);
    }

    /// <summary>The string <paramref name="field"/> of the array's first object; the reader ends on the array's end.</summary>
    private static string? FirstOf(ref Utf8JsonReader reader, ReadOnlySpan<byte> field)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return null;
        }
        string? value = null;
        var first = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (first && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var wanted = reader.ValueTextEquals(field);
                    reader.Read();
                    if (wanted && reader.TokenType == JsonTokenType.String) value = reader.GetString();
                    else reader.Skip();
                }
            }
            else reader.Skip();
            first = false;
        }
        return value;
    }
}
