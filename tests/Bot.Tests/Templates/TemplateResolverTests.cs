using Bot.Core.Templates;

namespace Bot.Tests.Templates;

public sealed class TemplateResolverTests
{
    private static TemplateInfo Variant(string language, string status = TemplateStatus.Approved) =>
        new("1", "announcement_notice", language, status, "UTILITY", "GREEN", 1, TemplateHeader.None, false);

    private static readonly TemplateInfo[] Catalog = [Variant("en_US"), Variant("de"), Variant("fr", TemplateStatus.Paused), Variant("pt_BR")];

    [Theory]
    [InlineData("de-DE", "de")] // primary subtag
    [InlineData("de", "de")] // exact
    [InlineData("en-US", "en_US")] // exact, BCP 47 against Graph's code
    [InlineData("en-GB", "en_US")] // another variant of the same language
    [InlineData("fr", "pt_BR")] // French is paused: the employer's language
    [InlineData(null, "pt_BR")] // no language: the employer's
    public void EachEmployeeGetsTheVariantOfTheirLanguageElseTheEmployers(string? employeeLanguage, string expected) =>
        Assert.Equal(expected, TemplateResolver.Resolve(Catalog, employeeLanguage, employerLanguage: "pt-BR")!.Language);

    [Theory]
    [InlineData("fr")]
    [InlineData(null)]
    public void WithoutAMatchAndWithoutAnEmployerLanguageTheFirstApprovedVariantGoes(string? employeeLanguage) =>
        Assert.Equal("en_US", TemplateResolver.Resolve([Variant("fr", TemplateStatus.Disabled), .. Catalog], employeeLanguage, employerLanguage: null)!.Language);

    [Fact]
    public void TheOnlyVariantGoesWhateverTheLanguages() =>
        Assert.Equal("de", TemplateResolver.Resolve([Variant("de")], "fr", "en")!.Language);

    [Fact]
    public void ATemplateWithoutAnApprovedVariantResolvesToNothing() =>
        Assert.Null(TemplateResolver.Resolve([Variant("de", TemplateStatus.Paused), Variant("en", TemplateStatus.Disabled)], "de", "en"));
}
