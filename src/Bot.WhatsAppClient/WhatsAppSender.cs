using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bot.WhatsAppClient;

/// <summary>Sends one message, once. Retries and rate limiting belong to the dispatcher.</summary>
/// <remarks>
/// The send is the hot path of every fan-out, so it bypasses Refit: the body comes prepared (<see cref="MessageBody"/>),
/// the request is a plain POST of its bytes (<see cref="HttpMessageInvoker"/>) through the same handlers (the sender's
/// token, the answer's timeout), and the answer is read for its two fields (<see cref="SendAnswer"/>). Refit stays the client for
/// everything else (<see cref="IWhatsAppApi"/>).
/// </remarks>
internal sealed partial class WhatsAppSender(
    IWhatsAppApi api,
    IHttpMessageHandlerFactory handlers,
    SenderDirectory senders,
    IOptionsMonitor<WhatsAppOptions> options,
    ILogger<WhatsAppSender> logger) : IWhatsAppSender
{
    /// <summary>The named client <see cref="SendAsync"/> posts with: the same handlers as <see cref="IWhatsAppApi"/>'s.</summary>
    public const string MessagesClient = "WhatsApp.Messages";

    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };

    // An invoker, not an HttpClient: the client's own timeout and cancellation sources would be a second and third
    // timer per send, and AnswerTimeoutHandler already bounds the request, its write and its answer (body included).
    private readonly HttpMessageInvoker http = new(handlers.CreateHandler(MessagesClient), disposeHandler: false);
    private readonly ConcurrentDictionary<string, (string BaseUrl, string Version, Uri Uri)> messageUris = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Token, AuthenticationHeaderValue Header)> tokens = new(StringComparer.Ordinal);

    public async Task<SendResult> SendAsync(Sender from, OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        var body = message is PreparedMessage prepared ? prepared.Body : MessageBody.Of(message);
        if ((body.Refusal ?? MessageBody.RecipientRefusal(message.To)) is { } refusal)
        {
            // Refused before any request: definitely not sent, and the caller's claim must not be stranded by a throw.
            LogNotBuilt(PhoneMask.Mask(message.To), refusal);
            return new SendResult(SendOutcome.Permanent, Error: $"Not sent: {refusal}");
        }
        if (logger.IsEnabled(LogLevel.Debug)) LogSending(body.Type, PhoneMask.Mask(message.To), from.Id);

        SendResult result;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, MessagesUri(from)) { Content = new AnswerTimeoutHandler.TimedBody(body.For(message.To, message.CallbackData)) };
            request.Content.Headers.ContentType = Json;
            request.Headers.Authorization = Authorization(from.Id);
            using var response = await http.SendAsync(request, cancellationToken);
            var answer = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
            result = WhatsAppErrorPolicy.FromAnswer((int)response.StatusCode, answer, response.Headers.RetryAfter, message.To, DateTimeOffset.UtcNow);
        }
        catch (Exception ex)
        {
            // The request may already be out when it was cancelled or timed out, so the policy reports Unknown rather
            // than letting the dispatcher assume "not sent"; only a connection never made is "not sent".
            result = WhatsAppErrorPolicy.FromException(ex, cancellationToken.IsCancellationRequested);
        }

        if (logger.IsEnabled(LogLevel.Debug))
        {
            if (result.Outcome is SendOutcome.Unknown or SendOutcome.StopTheLine)
                LogNeedsAttention(PhoneMask.Mask(message.To), result.Outcome, result.ErrorCode, result.Error);
            else
                LogSent(PhoneMask.Mask(message.To), result.Outcome, result.ErrorCode, result.MessageId);
        }
        return result;
    }

    /// <summary><c>{BaseUrl}/{version}/{phone-number-id}/messages</c>, made once per number and version.</summary>
    private Uri MessagesUri(Sender from)
    {
        var (baseUrl, version) = (options.CurrentValue.BaseUrl, options.CurrentValue.ApiVersion);
        if (messageUris.TryGetValue(from.PhoneNumberId, out var known) && known.BaseUrl == baseUrl && known.Version == version) return known.Uri;
        var uri = new Uri($"{baseUrl.TrimEnd('/')}/{version}/{from.PhoneNumberId}/messages");
        messageUris[from.PhoneNumberId] = (baseUrl, version, uri);
        return uri;
    }

    /// <summary>The sender's token as a header, made again only when the token changes (rotated after a 190).</summary>
    private AuthenticationHeaderValue Authorization(string senderId)
    {
        var token = senders.AccessTokenOf(senderId);
        if (tokens.TryGetValue(senderId, out var known) && ReferenceEquals(known.Token, token)) return known.Header;
        var header = new AuthenticationHeaderValue("Bearer", token);
        tokens[senderId] = (token, header);
        return header;
    }

    public async Task<SendOutcome> ProbeAsync(Sender from, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await api.ReadPhoneNumberAsync(options.CurrentValue.ApiVersion, from.PhoneNumberId, "id", from.Id, cancellationToken);
            return response.StatusCode switch
            {
                null => SendOutcome.Unknown,
                _ when response.IsSuccessStatusCode => SendOutcome.Accepted,
                var status when (int)status >= 500 => SendOutcome.Unknown,
                _ => SendOutcome.StopTheLine,
            };
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return SendOutcome.Unknown;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "WhatsApp message to {Recipient} not sent: {Reason}")]
    private partial void LogNotBuilt(string recipient, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sending WhatsApp {Type} message to {Recipient} from sender {Sender}")]
    private partial void LogSending(string type, string recipient, string sender);

    [LoggerMessage(Level = LogLevel.Debug, Message = "WhatsApp send to {Recipient}: {Outcome} (code {ErrorCode}, id {MessageId})")]
    private partial void LogSent(string recipient, SendOutcome outcome, int? errorCode, string? messageId);

    // Debug, as every per-message line: an outage makes one per request, and the dispatcher logs the pause it causes once.
    [LoggerMessage(Level = LogLevel.Debug, Message = "WhatsApp send to {Recipient}: {Outcome} (code {ErrorCode}): {Error}")]
    private partial void LogNeedsAttention(string recipient, SendOutcome outcome, int? errorCode, string? error);
}
