using System.Collections.Frozen;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Refit;

namespace Bot.WhatsAppClient;

/// <summary>
/// The one place that turns a Graph answer or a transport failure into a <see cref="SendOutcome"/>
/// (the error table in docs/whatsapp.md). The distinction that matters most is Retryable vs
/// Unknown: the Cloud API has no idempotency key, so re-sending a request that Meta may have
/// accepted sends the employee a second message.
/// </summary>
internal static class WhatsAppErrorPolicy
{
    // Rate limits: Meta refused the message before taking it, whatever the HTTP status, so it can be sent again.
    private static readonly FrozenSet<int> RateLimitCodes = FrozenSet.Create(130429, 131056, 4, 80007);

    // Temporary errors: not accepted when answered as a 4xx; on a 5xx they may come from a backend that failed
    // after taking the message, which proves nothing.
    private static readonly FrozenSet<int> TemporaryCodes = FrozenSet.Create(131016, 2, 131000);

    // Hammering on makes these worse (spam limit), or nothing succeeds until a human acts: the token, the account,
    // the phone number id, payment, permissions. About the sender, not the recipient, so never a per-employee failure.
    private static readonly FrozenSet<int> StopTheLineCodes = FrozenSet.Create(131048, 190, 368, 33, 131031, 131042, 133010, 10, 200);

    // Code 100 with this subcode: the phone number id does not exist or the token cannot see it.
    private const int UnknownObjectSubcode = 33;

    private static readonly FrozenSet<int> PermanentCodes = FrozenSet.Create(131026, 131047, 131049, 131050, 100);

    // Socket errors raised while connecting: the request never left this machine.
    private static readonly FrozenSet<SocketError> NotSentSocketErrors = FrozenSet.Create(
        SocketError.ConnectionRefused, SocketError.HostNotFound, SocketError.NetworkUnreachable, SocketError.HostUnreachable);

    private const int MaxErrorLength = 200;

    /// <summary>Classifies an answer that Meta (or something in front of it) sent back.</summary>
    public static SendResult FromResponse(IApiResponse<SendMessageResponse> response, string recipient, DateTimeOffset now)
    {
        if (response.StatusCode is not { } statusCode)
            return new SendResult(SendOutcome.Unknown, Error: "No HTTP response");

        var status = (int)statusCode;
        if (response.IsSuccessStatusCode)
        {
            var messageId = response.Content?.Messages?.FirstOrDefault()?.Id;
            return string.IsNullOrEmpty(messageId)
                ? new SendResult(SendOutcome.Unknown, ErrorCode: status, Error: $"HTTP {status} without a message id")
                : SendResult.Accepted(messageId) with { WaId = response.Content?.Contacts?.FirstOrDefault()?.WaId };
        }

        var retryAfter = ParseRetryAfter(response.Headers?.RetryAfter, now);
        var error = ParseGraphError((response.Error as ApiException)?.Content);
        if (error?.Code is not int code)
        {
            return status switch
            {
                429 => new SendResult(SendOutcome.Retryable, ErrorCode: 429, Error: "HTTP 429 Too Many Requests", RetryAfter: retryAfter),
                // Not Meta's answer (Meta always sends a Graph error): a proxy, or a wrong base URL or version.
                401 or 403 or 404 => new SendResult(SendOutcome.StopTheLine, ErrorCode: status, Error: $"HTTP {status} without a Graph error: check WhatsApp:BaseUrl, ApiVersion and the token"),
                >= 400 and < 500 => new SendResult(SendOutcome.Permanent, ErrorCode: status, Error: $"HTTP {status}"),
                // A 5xx from a proxy or a crashed backend says nothing about whether the message went out.
                _ => new SendResult(SendOutcome.Unknown, ErrorCode: status, Error: $"HTTP {status} without a Graph error"),
            };
        }

        var outcome = OutcomeFor(code, status, error.ErrorSubcode);
        return new SendResult(
            outcome,
            ErrorCode: code,
            Error: Describe(code, error, recipient),
            RetryAfter: outcome == SendOutcome.Retryable ? retryAfter : null);
    }

    /// <summary>Classifies a failure to get any answer.</summary>
    public static SendResult FromException(Exception exception, bool callerCancelled)
    {
        // Refit wraps what HttpClient throws in an ApiRequestException.
        var cause = exception is ApiRequestException { InnerException: { } inner } ? inner : exception;

        if (cause is HttpRequestException && FindSocketError(cause) is { } socketError && NotSentSocketErrors.Contains(socketError))
            return new SendResult(SendOutcome.Retryable, Error: Truncate($"Not sent: {cause.Message}"));

        // Everything else may have failed after the request was written, so Meta may have accepted it.
        var error = cause switch
        {
            _ when callerCancelled => "Cancelled; the request may have been sent",
            OperationCanceledException or TimeoutException => "Timed out; the request may have been sent",
            _ => Truncate($"{cause.GetType().Name}: {cause.Message}; the request may have been sent"),
        };
        return new SendResult(SendOutcome.Unknown, Error: error);
    }

    internal static SendOutcome OutcomeFor(int code, int httpStatus, int? subcode = null) => code switch
    {
        _ when StopTheLineCodes.Contains(code) => SendOutcome.StopTheLine,
        100 when subcode == UnknownObjectSubcode => SendOutcome.StopTheLine,
        _ when RateLimitCodes.Contains(code) => SendOutcome.Retryable,
        _ when TemporaryCodes.Contains(code) => httpStatus >= 500 ? SendOutcome.Unknown : SendOutcome.Retryable,
        _ when PermanentCodes.Contains(code) => SendOutcome.Permanent,
        >= 132000 and <= 132015 => SendOutcome.Permanent,
        _ when httpStatus == 429 => SendOutcome.Retryable,
        _ when httpStatus is >= 400 and < 500 => SendOutcome.Permanent,
        _ => SendOutcome.Unknown,
    };

    internal static TimeSpan RetryDelay(SendResult result, int attempt, TimeSpan baseDelay, TimeSpan maxDelay)
    {
        if (result.RetryAfter is { } retryAfter) return retryAfter < maxDelay ? retryAfter : maxDelay;
        // Pair rate limit (same recipient): Meta asks for 4^n seconds; everything else backs off 2^n with jitter.
        var factor = result.ErrorCode == 131056 ? Math.Pow(4, attempt) : Math.Pow(2, attempt - 1);
        var delay = baseDelay * factor * (0.8 + Random.Shared.NextDouble() * 0.4);
        return delay < maxDelay ? delay : maxDelay;
    }

    internal static TimeSpan? ParseRetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date > now ? date - now : TimeSpan.Zero,
        _ => null,
    };

    internal static GraphError? ParseGraphError(string? content)
    {
        if (string.IsNullOrWhiteSpace(content))
            return null;

        try
        {
            return JsonSerializer.Deserialize<GraphErrorEnvelope>(content, WhatsAppJson.Options)?.Error;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Describe(int code, GraphError error, string recipient)
    {
        var message = string.IsNullOrWhiteSpace(error.Message) ? "Graph error" : error.Message;
        if (!message.StartsWith("(#", StringComparison.Ordinal))
            message = $"(#{code}) {message}";

        var details = error.ErrorData?.Details;
        if (!string.IsNullOrWhiteSpace(details) && details != error.Message)
            message = $"{message}: {details}";

        // Meta's texts may echo the recipient; results end up in logs and the database.
        var masked = PhoneMask.Mask(recipient);
        if (recipient.Length > 0)
            message = message.Replace(recipient, masked, StringComparison.Ordinal);
        var digits = recipient.TrimStart('+');
        if (digits.Length > 0)
            message = message.Replace(digits, masked, StringComparison.Ordinal);

        return Truncate(message);
    }

    private static SocketError? FindSocketError(Exception exception)
    {
        for (var e = exception.InnerException; e is not null; e = e.InnerException)
        {
            if (e is SocketException socketException)
                return socketException.SocketErrorCode;
        }

        return null;
    }

    private static string Truncate(string text) => text.Length <= MaxErrorLength ? text : string.Concat(text.AsSpan(0, MaxErrorLength - 1), "…");
}
