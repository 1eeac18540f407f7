using System.Text.RegularExpressions;
using Bot.Core.Employees;

namespace Bot.Webhook.Webhook;

/// <summary>
/// Who sent an inbound message: their WhatsApp id (<c>from</c>, or the contact's <c>wa_id</c>) when WhatsApp shares
/// the number, their business-scoped user id (BSUID: <c>from_user_id</c> or the contact's <c>user_id</c>), and their
/// username. A user with a username may come with the BSUID alone.
/// </summary>
public sealed partial record InboundAuthor(string? WaId, string? UserId, string? Username)
{
    /// <summary>Longer than any WhatsApp username; a longer value is not stored.</summary>
    public const int MaxUsernameLength = 64;

    /// <summary>One person's messages are handled in order under this key.</summary>
    public string Key => WaId ?? "bsuid:" + UserId;

    /// <summary>Where a reply goes: the number when WhatsApp shared it, else the BSUID (the Cloud API's <c>recipient</c>).</summary>
    public string ReplyTo => WaId is { } waId ? "+" + waId : UserId!;

    /// <summary>The author of <paramref name="message"/>; null when it names neither a valid WhatsApp id nor a valid BSUID.</summary>
    public static InboundAuthor? Of(WebhookMessage message, IReadOnlyList<WebhookContact> contacts)
    {
        var contact = contacts.FirstOrDefault(c => c.WaId is not null && c.WaId == message.From)
            ?? contacts.FirstOrDefault(c => c.UserId is not null && c.UserId == message.FromUserId)
            ?? (contacts.Count == 1 ? contacts[0] : null);
        var waId = Valid(message.From) ?? (message.From is null ? Valid(contact?.WaId) : null);
        var userId = message.FromUserId ?? contact?.UserId;
        if (!WhatsAppUserIds.IsValid(userId)) userId = null;
        if (waId is null && userId is null) return null;
        var username = contact?.Profile?.Username is { Length: > 0 and <= MaxUsernameLength } name ? name : null;
        return new InboundAuthor(waId, userId, username);
    }

    /// <summary>A WhatsApp id: the sender's number in international format without '+'.</summary>
    public static string? Valid(string? waId) => waId is not null && WaIdFormat().IsMatch(waId) ? waId : null;

    [GeneratedRegex("^[1-9][0-9]{6,14}$")]
    private static partial Regex WaIdFormat();
}
