using Bot.WhatsAppClient;

namespace Bot.Tests.WhatsApp;

public sealed class PhoneMaskTests
{
    [Theory]
    [InlineData("+15551234567", "+1555****567")]
    [InlineData("+16505551234", "+1650****234")]
    [InlineData("+441234567890", "+4412*****890")]
    [InlineData("+1234567", "***")]
    [InlineData("+123456789", "+1234**789")]
    [InlineData("", "***")]
    [InlineData(null, "***")]
    public void KeepsOnlyPrefixAndLastThreeDigits(string? phone, string expected) =>
        Assert.Equal(expected, PhoneMask.Mask(phone));
}
