using System.Globalization;

namespace Bot.Tests.Webhook;

/// <summary>
/// Meta's webhook payloads for users with a username (WHATSAPP.md "Usernames and business-scoped user ids"): the
/// contact's <c>user_id</c> (BSUID) and <c>profile.username</c>, with <c>wa_id</c>/<c>from</c> only when WhatsApp
/// shares the number; and the <c>system</c> messages about a changed number or BSUID.
/// </summary>
public static class MetaUsers
{
    private static long counter;

    /// <summary>A fresh BSUID in Meta's format (country code, a period, digits).</summary>
    public static string NewUserId() =>
        "US." + (13491208655302741918UL + (ulong)Interlocked.Increment(ref counter) * 7919UL + (ulong)Random.Shared.Next()).ToString(CultureInfo.InvariantCulture);

    /// <summary>A text from <paramref name="userId"/>; with <paramref name="phone"/> null the number is withheld (no <c>wa_id</c>, no <c>from</c>).</summary>
    public static byte[] Text(string? phone, string userId, string body, DateTimeOffset? at = null, string? username = null) =>
        Message(phone, userId, username, at, new Dictionary<string, object?> { ["type"] = "text", ["text"] = new { body } });

    /// <summary>A tapped reply button (<c>interactive.button_reply</c>) with the number withheld.</summary>
    public static byte[] ButtonReply(string userId, string buttonId) =>
        Message(null, userId, null, null, new Dictionary<string, object?>
        {
            ["type"] = "interactive",
            ["interactive"] = new { type = "button_reply", button_reply = new { id = buttonId, title = "Got it" } },
        });

    /// <summary>
    /// <c>user_changed_number</c> from the old number (system messages carry no contacts array); with
    /// <paramref name="legacy"/> the older <c>customer_changed_number</c> with <c>new_wa_id</c>.
    /// </summary>
    public static byte[] ChangedNumber(string oldPhone, string newPhone, bool legacy = false)
    {
        var system = new Dictionary<string, object?>
        {
            ["body"] = $"User A changed from {Meta.WaId(oldPhone)} to {Meta.WaId(newPhone)}",
            [legacy ? "new_wa_id" : "wa_id"] = Meta.WaId(newPhone),
            ["type"] = legacy ? "customer_changed_number" : "user_changed_number",
        };
        return Meta.Envelope(new Dictionary<string, object?>
        {
            ["messages"] = new[] { new { from = Meta.WaId(oldPhone), id = Meta.NewMessageId(), timestamp = Seconds(DateTimeOffset.UtcNow), type = "system", system } },
        });
    }

    /// <summary>A status of a message sent to an employee, naming their BSUID.</summary>
    public static object Status(string messageId, string status, string phone, string callbackData, string userId) =>
        new Dictionary<string, object?>
        {
            ["id"] = messageId,
            ["status"] = status,
            ["timestamp"] = Seconds(DateTimeOffset.UtcNow),
            ["recipient_id"] = Meta.WaId(phone),
            ["recipient_user_id"] = userId,
            ["biz_opaque_callback_data"] = callbackData,
        };

    private static byte[] Message(string? phone, string userId, string? username, DateTimeOffset? at, Dictionary<string, object?> content)
    {
        var contact = new Dictionary<string, object?> { ["profile"] = new { name = "Sheena Nelson", username }, ["user_id"] = userId };
        var message = new Dictionary<string, object?> { ["id"] = Meta.NewMessageId(), ["timestamp"] = Seconds(at ?? DateTimeOffset.UtcNow) };
        if (phone is not null)
        {
            contact["wa_id"] = Meta.WaId(phone);
            message["from"] = Meta.WaId(phone);
        }
        foreach (var (k, v) in content) message[k] = v;
        return Meta.Envelope(new Dictionary<string, object?> { ["contacts"] = new[] { contact }, ["messages"] = new[] { message } });
    }

    private static string Seconds(DateTimeOffset at) => at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
}
