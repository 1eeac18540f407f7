using System.Net.Http.Headers;
using Bot.WhatsAppClient;

namespace Bot.Tests.WhatsApp;

public sealed class WhatsAppErrorPolicyTests
{
    [Theory]
    [InlineData(130429, 429)]
    [InlineData(131056, 400)]
    [InlineData(4, 400)]
    [InlineData(80007, 400)]
    [InlineData(130429, 503)]
    [InlineData(131016, 400)]
    [InlineData(2, 400)]
    [InlineData(131000, 400)]
    public void RateLimitsAndTemporaryErrorsThatProveNonAcceptanceAreRetryable(int code, int status) =>
        Assert.Equal(SendOutcome.Retryable, WhatsAppErrorPolicy.OutcomeFor(code, status));

    [Theory]
    [InlineData(131016, 503)]
    [InlineData(2, 503)]
    [InlineData(131000, 500)]
    public void TemporaryErrorsOnAServerErrorAreUnknownNotRetried(int code, int status) =>
        Assert.Equal(SendOutcome.Unknown, WhatsAppErrorPolicy.OutcomeFor(code, status));

    [Theory]
    [InlineData(0, 401)]
    [InlineData(1, 400)]
    [InlineData(131005, 403)]
    [InlineData(131008, 400)]
    [InlineData(131037, 400)]
    [InlineData(131057, 400)]
    [InlineData(135000, 400)]
    [InlineData(999999, 400)]
    [InlineData(131048, 400)]
    [InlineData(190, 401)]
    [InlineData(368, 403)]
    [InlineData(33, 400)]
    [InlineData(131031, 403)]
    [InlineData(131042, 400)]
    [InlineData(133010, 400)]
    [InlineData(10, 403)]
    [InlineData(200, 403)]
    public void EveryDefiniteErrorNotAboutTheRecipientStopsTheLine(int code, int status) =>
        Assert.Equal(SendOutcome.StopTheLine, WhatsAppErrorPolicy.OutcomeFor(code, status));

    [Fact]
    public void AnUnknownPhoneNumberIdStopsTheLineWhileOtherBadParametersArePermanent()
    {
        Assert.Equal(SendOutcome.StopTheLine, WhatsAppErrorPolicy.OutcomeFor(100, 400, subcode: 33));
        Assert.Equal(SendOutcome.Permanent, WhatsAppErrorPolicy.OutcomeFor(100, 400, subcode: 2018001));
    }

    [Theory]
    [InlineData(131026, 400)]
    [InlineData(131021, 400)]
    [InlineData(131047, 400)]
    [InlineData(131049, 400)]
    [InlineData(131050, 400)]
    [InlineData(130472, 400)]
    [InlineData(131051, 400)]
    [InlineData(131052, 400)]
    [InlineData(131053, 400)]
    [InlineData(100, 400)]
    public void OnlyTheRecipientCodesFailAnEmployee(int code, int status) =>
        Assert.Equal(SendOutcome.Permanent, WhatsAppErrorPolicy.OutcomeFor(code, status));

    [Theory]
    [InlineData(132000)]
    [InlineData(132001)]
    [InlineData(132012)]
    [InlineData(132015)]
    [InlineData(132016)]
    public void TemplateProblemsPauseTheAnnouncementNotAnEmployee(int code) =>
        Assert.Equal(SendOutcome.TemplateRefused, WhatsAppErrorPolicy.OutcomeFor(code, 400));

    [Theory]
    [InlineData(1, 500)]
    [InlineData(131026, 500)]
    [InlineData(190, 503)]
    [InlineData(132015, 502)]
    public void AServerErrorIsUnknownWhateverItsCode(int code, int status) =>
        Assert.Equal(SendOutcome.Unknown, WhatsAppErrorPolicy.OutcomeFor(code, status));

    [Fact]
    public void RetryAfterAcceptsAnHttpDate()
    {
        var now = new DateTimeOffset(2025, 6, 9, 12, 0, 0, TimeSpan.Zero);
        var header = new RetryConditionHeaderValue(now.AddSeconds(30));

        Assert.Equal(TimeSpan.FromSeconds(30), WhatsAppErrorPolicy.ParseRetryAfter(header, now));
    }

    [Fact]
    public void RetryAfterInThePastMeansNow()
    {
        var now = new DateTimeOffset(2025, 6, 9, 12, 0, 0, TimeSpan.Zero);

        Assert.Equal(TimeSpan.Zero, WhatsAppErrorPolicy.ParseRetryAfter(new RetryConditionHeaderValue(now.AddMinutes(-1)), now));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("<html>Bad gateway</html>")]
    [InlineData("""{"error":"nope"}""")]
    public void GarbledErrorBodiesAreIgnored(string? body) =>
        Assert.Null(WhatsAppErrorPolicy.ParseGraphError(body));

    [Fact]
    public void ResetMidRequestIsUnknown()
    {
        var reset = new HttpRequestException("The response ended prematurely.", new IOException("Connection reset by peer"));

        Assert.Equal(SendOutcome.Unknown, WhatsAppErrorPolicy.FromException(reset, callerCancelled: false).Outcome);
    }

    [Fact]
    public void UnresolvableHostIsRetryable()
    {
        var dns = new HttpRequestException("Name or service not known", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound));

        Assert.Equal(SendOutcome.Retryable, WhatsAppErrorPolicy.FromException(dns, callerCancelled: false).Outcome);
    }
}
