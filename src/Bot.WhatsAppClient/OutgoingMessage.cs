namespace Bot.WhatsAppClient;

/// <summary>A message to send to one WhatsApp user.</summary>
/// <param name="To">Recipient in E.164 with a leading '+'.</param>
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
public sealed record TemplateMessage(
    string To,
    string Name,
    string LanguageCode,
    IReadOnlyList<string> BodyParameters,
    string? CallbackData = null) : OutgoingMessage(To, CallbackData);
