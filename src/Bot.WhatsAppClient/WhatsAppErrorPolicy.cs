using System.Collections.Frozen;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Refit;

namespace Bot.WhatsAppClient;

/// <summary>
/// The one place that turns a Graph answer or a transport failure into a <see cref="SendOutcome"/>
/// (the error-code table in shared/WHATSAPP.md). The distinction that matters most is Retryable vs
/// Unknown: the Cloud API has no idempotency key, so re-sending a request that Meta may have
/// accepted sends the employee a second message.
/// </summary>
internal static class WhatsAppErrorPolicy
{
    // Meta answered with these, so the message was not accepted and can be sent again after a back-off.
    private static readonly FrozenSet<int> RetryableCodes = FrozenSet.Create(130429, 131056, 4, 80007, 131016, 2, 131000);

    // Hammering on makes these worse (spam limit) or nothing succeeds until a human acts (token, account).
    private static readonly FrozenSet<int> StopTheLineCodes = FrozenSet.Create(131048, 190, 368);

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
                : SendResult.Accepted(messageId);
        }

        var retryAfter = ParseRetryAfter(response.Headers?.RetryAfter, now);
        var error = ParseGraphError((response.Error as ApiException)?.Content);
        if (error?.Code is not int code)
        {
            return status switch
            {
                429 => new SendResult(SendOutcome.Retryable, ErrorCode: 429, Error: "HTTP 429 Too Many Requests", RetryAfter: retryAfter),
                >= 400 and < 500 => new SendResult(SendOutcome.Permanent, ErrorCode: status, Error: $"HTTP {status}"),
                // A 5xx from a proxy or a crashed backend says nothing about whether the message went out.
                _ => new SendResult(SendOutcome.Unknown, ErrorCode: status, Error: $"HTTP {status} without a Graph error"),
            };
        }

        var outcome = OutcomeFor(code, status);
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

    internal static SendOutcome OutcomeFor(int code, int httpStatus) => code switch
    {
        _ when StopTheLineCodes.Contains(code) => SendOutcome.StopTheLine,
        _ when RetryableCodes.Contains(code) => SendOutcome.Retryable,
        _ when PermanentCodes.Contains(code) => SendOutcome.Permanent,
        >= 132000 and <= 132015 => SendOutcome.Permanent,
        _ when httpStatus == 429 => SendOutcome.Retryable,
        _ when httpStatus is >= 400 and < 500 => SendOutcome.Permanent,
        _ => SendOutcome.Unknown,
    };

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
