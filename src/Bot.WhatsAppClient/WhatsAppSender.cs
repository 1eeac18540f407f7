using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.WhatsAppClient;

/// <summary>Sends one message, once. Retries and rate limiting belong to the dispatcher.</summary>
internal sealed partial class WhatsAppSender(
    IWhatsAppApi api,
    IOptionsMonitor<WhatsAppOptions> options,
    ILogger<WhatsAppSender> logger) : IWhatsAppSender
{
    private const int MaxTextBodyLength = 4096;
    private const int MaxInteractiveBodyLength = 1024;
    private const int MaxCaptionLength = 1024;

    public async Task<SendResult> SendAsync(Sender from, OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        var settings = options.CurrentValue;
        var recipient = PhoneMask.Mask(message.To);
        SendMessageRequest request;
        try
        {
            request = BuildRequest(message);
        }
        catch (ArgumentException ex)
        {
            // Refused before any request: definitely not sent, and the caller's claim must not be stranded by a throw.
            LogNotBuilt(recipient, ex.Message);
            return new SendResult(SendOutcome.Permanent, Error: $"Not sent: {ex.Message}");
        }
        LogSending(request.Type, recipient, from.Id);

        SendResult result;
        try
        {
            using var response = await api.SendMessageAsync(settings.ApiVersion, from.PhoneNumberId, request, from.Id, cancellationToken);
            result = response.HasRequestError(out var requestError)
                ? WhatsAppErrorPolicy.FromException(requestError, cancellationToken.IsCancellationRequested)
                : WhatsAppErrorPolicy.FromResponse(response, message.To, DateTimeOffset.UtcNow);
        }
        catch (Exception ex)
        {
            // Refit rethrows OperationCanceledException when the caller cancelled. The request may
            // already be out, so report Unknown instead of letting the dispatcher assume "not sent".
            result = WhatsAppErrorPolicy.FromException(ex, cancellationToken.IsCancellationRequested);
        }

        if (result.Outcome is SendOutcome.Unknown or SendOutcome.StopTheLine)
            LogNeedsAttention(recipient, result.Outcome, result.ErrorCode, result.Error);
        else
            LogSent(recipient, result.Outcome, result.ErrorCode, result.MessageId);

        return result;
    }

    public async Task<SendOutcome> ProbeAsync(Sender from, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await api.ReadPhoneNumberAsync(options.CurrentValue.ApiVersion, from.PhoneNumberId, "id", from.Id, cancellationToken);
            return response.StatusCode switch
            {
                null => SendOutcome.Unknown,
                _ when response.IsSuccessStatusCode => SendOutcome.Accepted,
                var status when (int)status >= 500 => SendOutcome.Unknown,
                _ => SendOutcome.StopTheLine,
            };
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return SendOutcome.Unknown;
        }
    }

    internal static SendMessageRequest BuildRequest(OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        // Without the '+' Meta prepends the sender's country code, which can reach the wrong person. A business-scoped
        // user id (a user whose number WhatsApp withholds) goes in `recipient`, without `to`.
        var userId = message.To is not null && BusinessScopedUserId().IsMatch(message.To);
        if (message.To is null || !userId && !E164().IsMatch(message.To))
            throw new ArgumentException($"Recipient {PhoneMask.Mask(message.To)} is not E.164 with a leading '+' nor a business-scoped user id.", nameof(message));
        var (to, recipient) = userId ? (null, message.To) : (message.To, (string?)null);

        return message switch
        {
            TextMessage text => new SendMessageRequest
            {
                To = to,
                Recipient = recipient,
                Type = "text",
                Text = new TextContent { PreviewUrl = false, Body = ValidBody(text.Body) },
                BizOpaqueCallbackData = text.CallbackData,
            },
            TemplateMessage template => new SendMessageRequest
            {
                To = to,
                Recipient = recipient,
                Type = "template",
                Template = BuildTemplate(template),
                BizOpaqueCallbackData = template.CallbackData,
            },
            ButtonsMessage buttons => new SendMessageRequest
            {
                To = to,
                Recipient = recipient,
                Type = "interactive",
                Interactive = BuildButtons(buttons),
                BizOpaqueCallbackData = buttons.CallbackData,
            },
            MediaMessage media => BuildMedia(media),
            _ => throw new ArgumentException($"Unsupported message type {message.GetType().Name}.", nameof(message)),
        };
    }

    private static string ValidBody(string body)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(body, nameof(TextMessage.Body));
        if (body.Length > MaxTextBodyLength)
            throw new ArgumentException($"Text body is {body.Length} characters; WhatsApp allows {MaxTextBodyLength}.", nameof(TextMessage.Body));
        return body;
    }

    private static TemplateContent BuildTemplate(TemplateMessage template)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(template.Name, nameof(TemplateMessage.Name));
        ArgumentException.ThrowIfNullOrWhiteSpace(template.LanguageCode, nameof(TemplateMessage.LanguageCode));

        var parameters = template.BodyParameters ?? [];
        List<TemplateComponent> components = [];
        if (template.HeaderMedia is { } header)
            components.Add(new TemplateComponent { Type = "header", Parameters = [MediaParameter(header)] });
        if (parameters.Count > 0)
            components.Add(new TemplateComponent { Type = "body", Parameters = [.. parameters.Select(p => new TemplateParameter { Type = "text", Text = p })] });
        // A quick-reply button's payload is set per send, so a tap says which message it answers.
        foreach (var (payload, index) in (template.QuickReplyPayloads ?? []).Select((p, i) => (p, i)))
        {
            components.Add(new TemplateComponent
            {
                Type = "button",
                SubType = "quick_reply",
                Index = index.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Parameters = [new TemplateParameter { Type = "payload", Payload = payload }],
            });
        }
        return new TemplateContent
        {
            Name = template.Name,
            Language = new TemplateLanguage { Code = template.LanguageCode },
            Components = components.Count == 0 ? null : components,
        };
    }

    private static SendMessageRequest BuildMedia(MediaMessage message)
    {
        if (message.Caption is { Length: > MaxCaptionLength })
            throw new ArgumentException($"Caption is {message.Caption.Length} characters; WhatsApp allows {MaxCaptionLength}.", nameof(MediaMessage.Caption));
        var content = Content(message.Media, message.Caption);
        return new SendMessageRequest
        {
            To = message.To,
            Type = message.Media.Type,
            Image = message.Media.Kind == MediaKind.Image ? content : null,
            Document = message.Media.Kind == MediaKind.Document ? content : null,
            Video = message.Media.Kind == MediaKind.Video ? content : null,
            BizOpaqueCallbackData = message.CallbackData,
        };
    }

    private static TemplateParameter MediaParameter(MediaRef media)
    {
        var content = Content(media, caption: null);
        return new TemplateParameter
        {
            Type = media.Type,
            Image = media.Kind == MediaKind.Image ? content : null,
            Document = media.Kind == MediaKind.Document ? content : null,
            Video = media.Kind == MediaKind.Video ? content : null,
        };
    }

    private static MediaContent Content(MediaRef media, string? caption)
    {
        if (string.IsNullOrEmpty(media.Id) == string.IsNullOrEmpty(media.Link))
            throw new ArgumentException("A file is sent by its media id or by a link: exactly one of them.", nameof(media));
        // A file name only means something for a document; WhatsApp refuses it on an image or a video.
        return new MediaContent { Id = media.Id, Link = media.Link, Caption = caption, Filename = media.Kind == MediaKind.Document ? media.FileName : null };
    }

    private static InteractiveContent BuildButtons(ButtonsMessage message)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(message.Body, nameof(ButtonsMessage.Body));
        if (message.Body.Length > MaxInteractiveBodyLength)
            throw new ArgumentException($"Interactive body is {message.Body.Length} characters; WhatsApp allows {MaxInteractiveBodyLength}.", nameof(ButtonsMessage.Body));
        if (message.Buttons is not { Count: >= 1 and <= 3 })
            throw new ArgumentException("An interactive message has one to three buttons.", nameof(ButtonsMessage.Buttons));
        return new InteractiveContent
        {
            Body = new InteractiveBody { Text = message.Body },
            Action = new InteractiveAction
            {
                Buttons = [.. message.Buttons.Select(b => new InteractiveButton { Reply = new InteractiveReply { Id = b.Id, Title = b.Title } })],
            },
        };
    }

    [GeneratedRegex(@"^\+[1-9][0-9]{6,14}$")]
    private static partial Regex E164();

    [GeneratedRegex(@"^[A-Z]{2}(\.[A-Za-z0-9]{1,128}){1,2}$")]
    private static partial Regex BusinessScopedUserId();

    [LoggerMessage(Level = LogLevel.Warning, Message = "WhatsApp message to {Recipient} not sent: {Reason}")]
    private partial void LogNotBuilt(string recipient, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sending WhatsApp {Type} message to {Recipient} from sender {Sender}")]
    private partial void LogSending(string type, string recipient, string sender);

    [LoggerMessage(Level = LogLevel.Debug, Message = "WhatsApp send to {Recipient}: {Outcome} (code {ErrorCode}, id {MessageId})")]
    private partial void LogSent(string recipient, SendOutcome outcome, int? errorCode, string? messageId);

    // Debug, as every per-message line: an outage makes one per request, and the dispatcher logs the pause it causes once.
    [LoggerMessage(Level = LogLevel.Debug, Message = "WhatsApp send to {Recipient}: {Outcome} (code {ErrorCode}): {Error}")]
    private partial void LogNeedsAttention(string recipient, SendOutcome outcome, int? errorCode, string? error);
}
