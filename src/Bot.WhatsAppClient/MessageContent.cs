using System.Globalization;

namespace Bot.WhatsAppClient;

/// <summary>
/// What a message says, as Graph's request members (<see cref="SendMessageRequest"/>); the recipient and the callback
/// data are added per send (<see cref="MessageBody.For"/>). Checks what WhatsApp would refuse for any recipient.
/// </summary>
internal static class MessageContent
{
    private const int MaxTextBodyLength = 4096;
    private const int MaxInteractiveBodyLength = 1024;
    private const int MaxCaptionLength = 1024;

    /// <exception cref="ArgumentException">WhatsApp would refuse it (a body too long, no buttons, a file by both id and link).</exception>
    public static SendMessageRequest Build(OutgoingMessage message) => message switch
    {
        TextMessage text => new SendMessageRequest
        {
            Type = "text",
            Text = new TextContent { PreviewUrl = false, Body = ValidBody(text.Body) },
        },
        TemplateMessage template => new SendMessageRequest { Type = "template", Template = BuildTemplate(template) },
        ButtonsMessage buttons => new SendMessageRequest { Type = "interactive", Interactive = BuildButtons(buttons) },
        MediaMessage media => BuildMedia(media),
        _ => throw new ArgumentException($"Unsupported message type {message.GetType().Name}.", nameof(message)),
    };

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
                Index = index.ToString(CultureInfo.InvariantCulture),
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
            Type = message.Media.Type,
            Image = message.Media.Kind == MediaKind.Image ? content : null,
            Document = message.Media.Kind == MediaKind.Document ? content : null,
            Video = message.Media.Kind == MediaKind.Video ? content : null,
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
}
