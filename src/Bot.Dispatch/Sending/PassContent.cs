using Bot.Core.Announcements;
using Bot.Core.Media;
using Bot.Core.Templates;
using Bot.WhatsAppClient;

namespace Bot.Dispatch;

/// <summary>
/// What a pass sends besides its text, read once per pass: which variant of the announcement's template and of the
/// employer's fallback template each employee gets (their language, else the employer's, else the first approved), and
/// the file the announcement carries.
/// </summary>
public sealed record PassContent(TemplateLanguages? Template, TemplateLanguages? Fallback, MediaRef? Media)
{
    public static readonly PassContent None = new(null, null, null);
}

/// <summary>Reads a pass's <see cref="PassContent"/> from the sender's template catalog and the announcement's attachment.</summary>
public sealed class PassContentReader(TemplateCatalog catalog, MediaStore media, SenderDirectory senders)
{
    public async Task<PassContent> ReadAsync(Announcement announcement, Sender sender, FallbackTemplate? fallback)
    {
        var hasCatalog = sender.WabaId is not null;
        var employerLanguage = senders.LanguageOf(announcement.EmployerId);
        var template = announcement.Template is { } t
            ? await TemplateLanguages.ReadAsync(catalog, sender.Id, hasCatalog, t.Name, t.Language, employerLanguage)
            : null;
        var fallbackLanguages = fallback is not null && announcement.Message is not null
            ? await TemplateLanguages.ReadAsync(catalog, sender.Id, hasCatalog, fallback.Name, null, employerLanguage)
            : null;
        var file = announcement.Message is null ? null : ToRef(await media.AttachmentOfAsync(announcement.Id));
        return new PassContent(template, fallbackLanguages, file);
    }

    public static MediaRef? ToRef(MediaAttachment? attachment) => attachment is null
        ? null
        : new MediaRef(Enum.Parse<MediaKind>(attachment.Kind, ignoreCase: true), attachment.Id, attachment.Link, attachment.FileName);
}
