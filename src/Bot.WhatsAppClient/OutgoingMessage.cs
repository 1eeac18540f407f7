namespace Bot.WhatsAppClient;

/// <summary>A message to send to one WhatsApp user.</summary>
/// <param name="To">Recipient in E.164 with a leading '+', or their business-scoped user id (BSUID) when WhatsApp withholds their number.</param>
/// <param name="CallbackData">Opaque data echoed back in status webhooks as <c>biz_opaque_callback_data</c>.</param>
public abstract record OutgoingMessage(string To, string? CallbackData);

/// <summary>A free-form text message (only deliverable inside the 24-hour customer-service window).</summary>
/// <param name="To">Recipient in E.164 with a leading '+'.</param>
/// <param name="Body">Message text, at most 4096 characters.</param>
/// <param name="CallbackData">Opaque data echoed back in status webhooks.</param>
public sealed record TextMessage(string To, string Body, string? CallbackData = null) : OutgoingMessage(To, CallbackData);

/// <summary>A pre-approved template message (required outside the 24-hour window).</summary>
/// <param name="To">Recipient in E.164 with a leading '+'.</param>
/// <param name="Name">Template name, e.g. <c>shift_notice</c>.</param>
/// <param name="LanguageCode">Template language code, e.g. <c>en_US</c>.</param>
/// <param name="BodyParameters">Positional body parameters, in order.</param>
/// <param name="CallbackData">Opaque data echoed back in status webhooks.</param>
/// <param name="QuickReplyPayloads">Payloads of the template's quick-reply buttons, by button index (the tap echoes one back as <c>button.payload</c>); none when null.</param>
/// <param name="HeaderMedia">The file of the template's media header (image, document or video); null when it has none.</param>
public sealed record TemplateMessage(
    string To,
    string Name,
    string LanguageCode,
    IReadOnlyList<string> BodyParameters,
    string? CallbackData = null,
    IReadOnlyList<string>? QuickReplyPayloads = null,
    MediaRef? HeaderMedia = null) : OutgoingMessage(To, CallbackData);

/// <summary>A text with up to three quick-reply buttons (an interactive message: only inside the 24-hour window).</summary>
/// <param name="To">Recipient in E.164 with a leading '+'.</param>
/// <param name="Body">Message text, at most 1024 characters.</param>
/// <param name="Buttons">One to three buttons; a tap comes back as <c>interactive.button_reply</c> with the button's id.</param>
/// <param name="CallbackData">Opaque data echoed back in status webhooks.</param>
public sealed record ButtonsMessage(string To, string Body, IReadOnlyList<ReplyButton> Buttons, string? CallbackData = null)
    : OutgoingMessage(To, CallbackData);

/// <summary>A quick-reply button.</summary>
/// <param name="Id">Echoed back when tapped, at most 256 characters.</param>
/// <param name="Title">What the user sees, at most 20 characters.</param>
public sealed record ReplyButton(string Id, string Title);
