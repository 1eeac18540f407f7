namespace Bot.Core.Templates;

/// <summary>
/// The send path's per-pass view of one template: read once (<see cref="TemplateCatalog.VariantsAsync"/>), then asked
/// per employee which language code to send. A fixed language (the request named one, or the sender keeps no catalog)
/// is sent as is.
/// </summary>
public sealed class TemplateLanguages
{
    private readonly string? fixedLanguage;
    private readonly IReadOnlyList<TemplateInfo> variants;
    private readonly string? employerLanguage;

    private TemplateLanguages(string? fixedLanguage, IReadOnlyList<TemplateInfo> variants, string? employerLanguage)
    {
        this.fixedLanguage = fixedLanguage;
        this.variants = variants;
        this.employerLanguage = employerLanguage;
    }

    /// <param name="catalog">The catalogs.</param>
    /// <param name="senderId">The sender of the pass.</param>
    /// <param name="hasCatalog">The sender has a WABA id (<c>Sender.WabaId</c>): variants are chosen per employee.</param>
    /// <param name="name">The template (the announcement's, or the employer's fallback).</param>
    /// <param name="language">The language asked for; empty or null: each employee's.</param>
    /// <param name="employerLanguage">The employer's language (<c>SenderDirectory.LanguageOf</c>).</param>
    public static async Task<TemplateLanguages> ReadAsync(
        TemplateCatalog catalog, string senderId, bool hasCatalog, string name, string? language, string? employerLanguage)
    {
        // An announcement that named its language keeps it; the fallback template follows each employee's when a catalog exists.
        if (!hasCatalog) return new TemplateLanguages(language, [], null);
        return new TemplateLanguages(string.IsNullOrEmpty(language) ? null : language, await catalog.VariantsAsync(senderId, name), employerLanguage);
    }

    /// <summary>The language code to send to an employee; null when the template has no approved variant (pause, do not fail).</summary>
    public string? For(string? employeeLanguage) =>
        fixedLanguage ?? TemplateResolver.Resolve(variants, employeeLanguage, employerLanguage)?.Language;

    /// <summary>The media header (<see cref="TemplateHeader"/>) of the variant in <paramref name="language"/>; null when not in the catalog.</summary>
    public string? HeaderOf(string language) => variants.FirstOrDefault(v => v.Language == language)?.Header;
}
