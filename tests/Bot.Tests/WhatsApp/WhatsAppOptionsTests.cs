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

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<WhatsAppOptions>>().Value);

        Assert.Contains(nameof(WhatsAppOptions.PhoneNumberId), error.Message);
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
