namespace Bot.Core.Templates;

/// <summary>
/// The send path's question before a template send: may this template go out now? A variant PAUSED or DISABLED (by a
/// webhook or a sync) answers with the pause reason, so the announcement pauses instead of failing everyone; a sender
/// without a catalog (no WABA id) or a template the catalog does not know answers null, and the send goes as before.
/// </summary>
public sealed class TemplateAvailability(TemplateCatalog catalog)
{
    /// <returns>Null when the template may be sent; otherwise the reason to pause the announcement.</returns>
    public async Task<string?> StoppedReasonAsync(string senderId, string name, string language) =>
        await catalog.GetAsync(senderId, name, language) is { } variant && TemplateStatus.StopsSends(variant.Status)
            ? Reason(variant.Name, variant.Status)
            : null;

    /// <summary>The reason shown on a paused announcement; <see cref="IsTemplateReason"/> recognises it to resume.</summary>
    public static string Reason(string name, string status) => $"{ReasonPrefix}{name} is {status}";

    public static bool IsTemplateReason(string? reason) => reason?.StartsWith(ReasonPrefix, StringComparison.Ordinal) == true;

    private const string ReasonPrefix = "template ";
}
