using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bot.Dispatch;
using Bot.Hosting;
using Bot.Webhook.Observability;
using Bot.WhatsAppClient;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Bot.Webhook.Webhook;

/// <summary>
/// Where WhatsApp calls in: the verification handshake and the signed event POSTs. A POST is answered as soon as
/// its body is in the inbox (one XADD); <see cref="InboxWorker"/> applies it and <see cref="ReplySender"/> answers.
/// </summary>
public static partial class WebhookApi
{
    public static IHostApplicationBuilder AddWhatsAppWebhook(this IHostApplicationBuilder builder)
    {
        // The client validates the sender settings; the webhook also needs these two, checked at start-up.
        builder.Services.AddOptions<WhatsAppOptions>()
            .Validate(o => !string.IsNullOrWhiteSpace(o.AppSecret), "WhatsApp:AppSecret is required: the app secret that signs webhook POSTs (X-Hub-Signature-256).")
            .Validate(o => !string.IsNullOrWhiteSpace(o.VerifyToken), "WhatsApp:VerifyToken is required: the token Meta sends in the webhook verification request.")
            .ValidateOnStart();
        builder.Services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<WebhookInbox>();
        builder.Services.AddSingleton<ReplyOutbox>();
        builder.Services.AddSingleton<WebhookEventLog>();
        builder.Services.AddSingleton<StatusUpdates>();
        builder.Services.AddSingleton<StatusUserIds>();
        builder.Services.AddSingleton<BotConversation>();
        builder.Services.AddSingleton<SystemMessages>();
        builder.Services.AddSingleton<AcknowledgementTaps>();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<WebhookMetrics>();
        builder.Services.AddHealthChecks().AddCheck<InboxHealthCheck>("inbox", tags: [ReadinessChecks.ReadyTag]);
        // Replies count against the sender's cap: with the dispatcher in this process, it is the same limiter.
        builder.Services.TryAddSingleton<SendRateLimiter>();
        builder.Services.AddHostedService<InboxWorker>();
        builder.Services.AddHostedService<ReplySender>();
        return builder;
    }

    public static RouteGroupBuilder MapWebhook(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/webhook").WithTags("WhatsApp webhook");
        group.MapGet("/", Verify);
        group.MapPost("/", ReceiveAsync).RequireWhatsAppSignature();
        return group;
    }

    private static Results<ContentHttpResult, ProblemHttpResult> Verify(
        [FromQuery(Name = "hub.mode")] string? mode,
        [FromQuery(Name = "hub.verify_token")] string? token,
        [FromQuery(Name = "hub.challenge")] string? challenge,
        IOptions<WhatsAppOptions> options)
    {
        if (mode == "subscribe" && !string.IsNullOrEmpty(challenge) && token is not null &&
            CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(options.Value.VerifyToken)))
        {
            // Echoed as received: Meta compares strings, and a challenge is not necessarily a number.
            return TypedResults.Text(challenge, "text/plain");
        }
        return TypedResults.Problem(title: "Verification failed", detail: "Unknown verify token or mode.", statusCode: StatusCodes.Status403Forbidden);
    }

    /// <summary>
    /// Answers 200 once the body is durably in the inbox — within milliseconds whatever it holds (up to 1,000 messages
    /// and statuses) and however slow WhatsApp is; Meta retries a POST it does not get a quick 200 for. When Redis
    /// cannot take it, 503, so that Meta delivers it again.
    /// </summary>
    private static async Task<Results<Ok, ProblemHttpResult>> ReceiveAsync(
        HttpContext context, WebhookInbox inbox, WebhookMetrics metrics, ILoggerFactory loggers)
    {
        var body = context.VerifiedBody();
        WebhookPayload payload;
        try
        {
            // Parsed here too: a body the workers could not read is refused now, not retried for days.
            payload = WebhookPayload.Parse(body.Span);
        }
        catch (JsonException)
        {
            return TypedResults.Problem(title: "Invalid payload",
                detail: "The body is not a WhatsApp webhook payload (JSON of the documented shape).",
                statusCode: StatusCodes.Status400BadRequest);
        }

        var logger = loggers.CreateLogger(typeof(WebhookApi));
        var errors = payload.Errors.ToList();
        foreach (var error in errors) LogWebhookError(logger, error.Code, error.Title);
        var statuses = payload.Statuses.ToList();
        var messages = payload.Messages.Count();
        // Counted as received (a redelivery counts again): the figure is what WhatsApp reports, not what changed.
        metrics.Errors(errors.Count);
        foreach (var status in statuses) metrics.Status(status.Status);
        metrics.Messages(messages);
        if (statuses.Count == 0 && messages == 0 && Templates.TemplateChange.Parse(body.Span).Count == 0) return TypedResults.Ok();

        try
        {
            await inbox.AppendAsync(body);
        }
        catch (RedisException ex)
        {
            LogInboxUnavailable(logger, ex);
            return TypedResults.Problem(title: "Inbox unavailable",
                detail: "The event could not be stored; WhatsApp will deliver it again.",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        return TypedResults.Ok();
    }

    [LoggerMessage(LogLevel.Error, "Webhook POST not stored: the inbox (Redis) is unavailable")]
    private static partial void LogInboxUnavailable(ILogger logger, Exception ex);

    [LoggerMessage(LogLevel.Warning, "WhatsApp reported error {Code}: {Title}")]
    private static partial void LogWebhookError(ILogger logger, int? code, string? title);
}
