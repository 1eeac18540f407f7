using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Bot.WhatsAppClient;

/// <summary>
/// A message's request body, serialized once for any number of recipients: everything but the recipient and the
/// callback data, which <see cref="For"/> splices in as UTF-8 bytes. A fan-out serializes its text (or each template
/// variant) once, not once per employee.
/// </summary>
public sealed partial class MessageBody
{
    private static readonly byte[] ToMember = "{\"to\":\""u8.ToArray();
    private static readonly byte[] RecipientMember = "{\"recipient\":\""u8.ToArray();
    private static readonly byte[] CallbackMember = ",\"biz_opaque_callback_data\":\""u8.ToArray();
    private static readonly SearchValues<char> NeedsEscaping = SearchValues.Create("\"\\\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f");

    /// <summary>The body's members other than the recipient and the callback data, without the braces: <c>"messaging_product":…</c>.</summary>
    private readonly byte[] members;

    private MessageBody(OutgoingMessage source, string type, byte[] members, string? refusal) =>
        (Source, Type, this.members, Refusal) = (source, type, members, refusal);

    /// <summary>The message it was made from (its recipient and callback data are not part of the body).</summary>
    public OutgoingMessage Source { get; }

    /// <summary>Graph's message type: <c>text</c>, <c>template</c>, <c>interactive</c>, <c>image</c>, <c>document</c>, <c>video</c>.</summary>
    public string Type { get; }

    /// <summary>Why WhatsApp would refuse the message for anyone (a text too long, a template without a name): it is not sent.</summary>
    public string? Refusal { get; }

    /// <summary>Serializes <paramref name="message"/> without its recipient and callback data; an invalid one gets a <see cref="Refusal"/>.</summary>
    public static MessageBody Of(OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        SendMessageRequest request;
        try
        {
            request = MessageContent.Build(message);
        }
        catch (ArgumentException ex)
        {
            return new MessageBody(message, "", [], ex.Message);
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(request, WhatsAppJson.Options);
        return new MessageBody(message, request.Type, json[1..^1], null);
    }

    /// <summary>Why <paramref name="to"/> cannot be sent to: it must be E.164 with its '+' (without it Meta prepends the sender's
    /// country code, which can reach the wrong person) or a business-scoped user id. Null when it can.</summary>
    public static string? RecipientRefusal(string? to) =>
        to is not null && (E164().IsMatch(to) || BusinessScopedUserId().IsMatch(to))
            ? null
            : $"Recipient {PhoneMask.Mask(to)} is not E.164 with a leading '+' nor a business-scoped user id.";

    /// <summary>
    /// The request body for one recipient: <c>to</c> (or <c>recipient</c> for a business-scoped user id, whose number
    /// WhatsApp withholds), this body's members, and <c>biz_opaque_callback_data</c> when there is any. One array of
    /// exactly its size. <paramref name="to"/> must have passed <see cref="RecipientRefusal"/>.
    /// </summary>
    public byte[] For(string to, string? callbackData)
    {
        var member = to.StartsWith('+') ? ToMember : RecipientMember;
        // A recipient is '+' and digits, or letters, digits and dots: nothing to escape.
        byte[]? escaped = callbackData is not null && callbackData.AsSpan().ContainsAny(NeedsEscaping)
            ? JsonEncodedText.Encode(callbackData, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).EncodedUtf8Bytes.ToArray()
            : null;
        var callbackLength = callbackData is null ? 0 : CallbackMember.Length + (escaped?.Length ?? Encoding.UTF8.GetByteCount(callbackData)) + 1;
        var body = new byte[member.Length + to.Length + 2 + members.Length + callbackLength + 1];

        var span = body.AsSpan();
        member.CopyTo(span);
        var at = member.Length + Encoding.ASCII.GetBytes(to, span[member.Length..]);
        span[at++] = (byte)'"';
        span[at++] = (byte)',';
        members.CopyTo(span[at..]);
        at += members.Length;
        if (callbackData is not null)
        {
            CallbackMember.CopyTo(span[at..]);
            at += CallbackMember.Length;
            if (escaped is not null) escaped.CopyTo(span[at..]);
            at += escaped?.Length ?? Encoding.UTF8.GetBytes(callbackData, span[at..]);
            span[at++] = (byte)'"';
        }
        span[at] = (byte)'}';
        return body;
    }

    [GeneratedRegex(@"^\+[1-9][0-9]{6,14}$")]
    private static partial Regex E164();

    [GeneratedRegex(@"^[A-Z]{2}(\.[A-Za-z0-9]{1,128}){1,2}$")]
    private static partial Regex BusinessScopedUserId();
}

/// <summary>
/// A message whose body was prepared once (<see cref="MessageBody"/>) and goes to <paramref name="To"/>: what a fan-out
/// sends to each employee.
/// </summary>
/// <param name="To">Recipient in E.164 with a leading '+', or their business-scoped user id.</param>
/// <param name="Body">The body shared by every recipient.</param>
/// <param name="CallbackData">Opaque data echoed back in status webhooks.</param>
public sealed record PreparedMessage(string To, MessageBody Body, string? CallbackData) : OutgoingMessage(To, CallbackData);
