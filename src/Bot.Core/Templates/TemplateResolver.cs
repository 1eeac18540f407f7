namespace Bot.Core.Templates;

/// <summary>
/// Which variant of a template an employee gets: the one in their own language (exactly, then by its primary subtag:
/// <c>de-DE</c> → <c>de</c>, then another variant of that language), else the one in the employer's language, else the only or first approved variant. Only
/// approved variants are chosen; null when the template has none. Pure: the send path calls it per employee with the
/// variants it read once per pass.
/// </summary>
public static class TemplateResolver
{
    /// <param name="variants">The catalog's variants of one template name (any order; the first approved wins the last step).</param>
    /// <param name="employeeLanguage">The employee's <c>language</c> attribute (BCP 47), if any.</param>
    /// <param name="employerLanguage">The employer's language (<c>Employers:&lt;id&gt;:Language</c>), if any.</param>
    public static TemplateInfo? Resolve(IReadOnlyList<TemplateInfo> variants, string? employeeLanguage, string? employerLanguage)
    {
        var approved = variants.Where(v => v.IsApproved).ToList();
        if (approved.Count == 0) return null;
        return ByLanguage(approved, employeeLanguage) ?? ByLanguage(approved, employerLanguage) ?? approved[0];
    }

    /// <summary>Graph writes <c>en_US</c>, BCP 47 <c>en-US</c>: compared as the same, case aside.</summary>
    public static string Normalize(string language) => language.Trim().Replace('-', '_').ToLowerInvariant();

    private static TemplateInfo? ByLanguage(List<TemplateInfo> approved, string? language)
    {
        if (string.IsNullOrWhiteSpace(language)) return null;
        var wanted = Normalize(language);
        var primary = wanted.Split('_')[0];
        // en-GB with only en_US in the catalog: the same language beats the employer's.
        return approved.FirstOrDefault(v => Normalize(v.Language) == wanted)
               ?? approved.FirstOrDefault(v => Normalize(v.Language) == primary)
               ?? approved.FirstOrDefault(v => Normalize(v.Language).Split('_')[0] == primary);
    }
}
