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

    // The only answers about one recipient (docs/whatsapp.md): undeliverable, the sender itself, outside the window,
    // marketing cap or opt-out, Meta's experiment group, a message type or file that one user cannot get. Every other
    // definite error answers the same for every employee, so it never fails one of them; codes Meta adds later included.
    private static readonly FrozenSet<int> RecipientCodes = FrozenSet.Create(131026, 131021, 131047, 131049, 131050, 130472, 131051, 131052, 131053);

    // Code 100 is a bad parameter of that one message, except with this subcode: the phone number id does not exist or
    // the token cannot see it.
    private const int InvalidParameter = 100;
    private const int UnknownObjectSubcode = 33;

    // Socket errors raised while connecting: the request never left this machine.
    private static readonly FrozenSet<SocketError> NotSentSocketErrors = FrozenSet.Create(
        SocketError.ConnectionRefused, SocketError.HostNotFound, SocketError.NetworkUnreachable, SocketError.HostUnreachable);

    private const int MaxErrorLength = 200;

    /// <summary>Classifies an answer that Meta (or something in front of it) sent back.</summary>
    public static SendResult FromAnswer(int status, byte[] body, RetryConditionHeaderValue? retryAfterHeader, string recipient, DateTimeOffset now)
    {
        if (status is >= 200 and < 300)
        {
            var (messageId, waId) = SendAnswer.Read(body);
            return string.IsNullOrEmpty(messageId)
                ? new SendResult(SendOutcome.Unknown, ErrorCode: status, Error: $"HTTP {status} without a message id")
                : SendResult.Accepted(messageId) with { WaId = waId };
        }

        var retryAfter = ParseRetryAfter(retryAfterHeader, now);
        var error = ParseGraphError(body);
        if (error?.Code is not int code)
        {
            return status switch
            {
                429 => new SendResult(SendOutcome.Retryable, ErrorCode: 429, Error: "HTTP 429 Too Many Requests", RetryAfter: retryAfter),
                // Not Meta's answer (Meta always sends a Graph error): a proxy, or a wrong base URL or version.
                401 or 403 or 404 => new SendResult(SendOutcome.StopTheLine, ErrorCode: status, Error: $"HTTP {status} without a Graph error: check WhatsApp:BaseUrl, ApiVersion and the token"),
                // Nothing says it is about the recipient: the next request would most likely get the same.
                >= 400 and < 500 => new SendResult(SendOutcome.StopTheLine, ErrorCode: status, Error: $"HTTP {status} without a Graph error"),
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

        // No connection (refused, unreachable, not resolved, or not made within ConnectTimeout): nothing was written.
        if (cause is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } ||
            cause is HttpRequestException && FindSocketError(cause) is { } socketError && NotSentSocketErrors.Contains(socketError))
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
        _ when RateLimitCodes.Contains(code) || httpStatus == 429 => SendOutcome.Retryable,
        // A 5xx proves nothing, whatever its code: the message may have been taken before the failure.
        _ when httpStatus >= 500 => SendOutcome.Unknown,
        _ when TemporaryCodes.Contains(code) => SendOutcome.Retryable,
        _ when RecipientCodes.Contains(code) => SendOutcome.Permanent,
        InvalidParameter when subcode != UnknownObjectSubcode => SendOutcome.Permanent,
        >= 132000 and <= 132999 => SendOutcome.TemplateRefused,
        _ when httpStatus is >= 400 and < 500 => SendOutcome.StopTheLine,
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

    internal static GraphError? ParseGraphError(string? content) =>
        string.IsNullOrWhiteSpace(content) ? null : ParseGraphError(System.Text.Encoding.UTF8.GetBytes(content));

    internal static GraphError? ParseGraphError(ReadOnlySpan<byte> content)
    {
        if (content.Trim(" \t\r\n"u8).IsEmpty)
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
