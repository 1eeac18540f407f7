using Bot.WhatsAppClient;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Bot.Tests.WhatsApp;

public sealed class WhatsAppOptionsTests
{
    [Fact]
    public void MissingPhoneNumberIdFailsNamingTheKey()
    {
        using var services = WhatsAppTestHost.Build("https://graph.example.test", new Dictionary<string, string?> { ["WhatsApp:PhoneNumberId"] = null });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<MessagingOptions>>().Value);

        Assert.Contains("WhatsApp:PhoneNumberId is required", error.Message);
    }

    [Theory]
    [InlineData("Senders:b:PhoneNumberId", null, "Senders:b:PhoneNumberId is required")]
    [InlineData("Senders:b:AccessToken", null, "Senders:b:AccessToken is required")]
    [InlineData("Senders:b:MessagesPerSecond", "1001", "Senders:b:MessagesPerSecond is between 1 and 1000")]
    [InlineData("Senders:b:PhoneNumberId", WhatsAppTestHost.PhoneNumberId, "PhoneNumberId is the same number as sender")]
    [InlineData("Employers:acme:Sender", "nobody", "Employers:acme:Sender names 'nobody'")]
    [InlineData("Employers:acme:FallbackTemplate:Name", "notice", "Employers:acme:FallbackTemplate needs both Name and Language")]
    [InlineData("Portfolios:b:MessagingLimit", "1000", "Portfolios:b:MessagingLimit is one of WhatsApp's tiers")]
    [InlineData("WhatsApp:CustomerServiceWindow", "00:00:00", "WhatsApp:CustomerServiceWindow must be positive")]
    public void WrongSenderSettingsFailNamingTheKey(string key, string? value, string message)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Senders:b:PhoneNumberId"] = "200000000000002",
            ["Senders:b:AccessToken"] = "token-b",
            ["Employers:acme:Sender"] = "b",
            [key] = value,
        };
        using var services = WhatsAppTestHost.Build("https://graph.example.test", settings);

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<MessagingOptions>>().Value);

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void EmployersPickTheirSenderAndTheRestUseDefault()
    {
        using var services = WhatsAppTestHost.Build("https://graph.example.test", new Dictionary<string, string?>
        {
            ["Senders:b:PhoneNumberId"] = "200000000000002",
            ["Senders:b:AccessToken"] = "token-b",
            ["Senders:b:MessagesPerSecond"] = "20",
            ["Senders:b:Portfolio"] = "shared",
            ["Portfolios:shared:MessagingLimit"] = "250",
            ["Employers:acme:Sender"] = "b",
            ["Employers:acme:FallbackTemplate:Name"] = "announcement",
            ["Employers:acme:FallbackTemplate:Language"] = "en_US",
        });
        var senders = services.GetRequiredService<SenderDirectory>();

        Assert.Equal(new Sender("b", "200000000000002", 20, "shared"), senders.ForEmployer("acme"));
        Assert.Equal(Sender.Default, senders.ForEmployer("globex").Id);
        Assert.Equal(WhatsAppTestHost.PhoneNumberId, senders.ForEmployer("globex").PhoneNumberId);
        Assert.Equal("b", senders.FindByPhoneNumberId("200000000000002")!.Id);
        Assert.Null(senders.FindByPhoneNumberId("999"));
        Assert.Equal(new FallbackTemplate("announcement", "en_US"), senders.FallbackTemplateOf("acme"));
        Assert.Null(senders.FallbackTemplateOf("globex"));
        Assert.Equal(new Portfolio("shared", 250, TimeSpan.FromDays(1)), senders.PortfolioOf(senders.ForEmployer("acme")));
        Assert.False(senders.PortfolioOf(senders.ForEmployer("globex")).IsLimited);

        // An announcement of an employer this process does not know yet goes from the sender it was created under, not
        // the default number; a known employer's goes from its sender now.
        Assert.Equal("b", senders.ForEmployer("made-a-moment-ago", createdUnder: "b").Id);
        Assert.Equal("b", senders.ForEmployer("acme", createdUnder: Sender.Default).Id);
        Assert.Equal(Sender.Default, senders.ForEmployer("made-a-moment-ago", createdUnder: null).Id);
        Assert.Equal(Sender.Default, senders.ForEmployer("made-a-moment-ago", createdUnder: "removed").Id);
    }

    [Theory]
    [InlineData("WhatsApp:ApiVersion", "23.0")]
    [InlineData("WhatsApp:BaseUrl", "not a url")]
    [InlineData("WhatsApp:MessagesPerSecond", "0")]
    [InlineData("WhatsApp:Timeout", "00:10:00")]
    public void OutOfRangeSettingsFailNamingTheKey(string key, string value)
    {
        using var services = WhatsAppTestHost.Build("https://graph.example.test", new Dictionary<string, string?> { [key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<WhatsAppOptions>>().Value);

        Assert.Contains(key.Split(':')[1], error.Message);
    }

    [Fact]
    public void DefaultsMatchMetasPublicEndpoint()
    {
        using var services = WhatsAppTestHost.Build("https://graph.facebook.com");

        var options = services.GetRequiredService<IOptions<WhatsAppOptions>>().Value;

        Assert.Equal("v23.0", options.ApiVersion);
        Assert.Equal(80, options.MessagesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Timeout);
    }
}
