using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bot.Webhook.Observability;
using Bot.WhatsAppClient;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Bot.Webhook.Webhook;

/// <summary>Where WhatsApp calls in: the verification handshake and the signed event POSTs.</summary>
public static partial class WebhookApi
{
    /// <summary>
    /// Deeper than any Meta payload (about 8 levels) and far below what could exhaust the stack: a signed but
    /// absurdly nested body is a 400, not a 500.
    /// </summary>
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { MaxDepth = 64 };

    public static IHostApplicationBuilder AddWhatsAppWebhook(this IHostApplicationBuilder builder)
    {
        // The client validates the sender settings; the webhook also needs these two, checked at start-up.
        builder.Services.AddOptions<WhatsAppOptions>()
            .Validate(o => !string.IsNullOrWhiteSpace(o.AppSecret), "WhatsApp:AppSecret is required: the app secret that signs webhook POSTs (X-Hub-Signature-256).")
            .Validate(o => !string.IsNullOrWhiteSpace(o.VerifyToken), "WhatsApp:VerifyToken is required: the token Meta sends in the webhook verification request.")
            .ValidateOnStart();
        builder.Services.AddSingleton<WebhookEventLog>();
        builder.Services.AddSingleton<StatusUpdates>();
        builder.Services.AddSingleton<BotConversation>();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<WebhookMetrics>();
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
    /// Answers 200 once every event is recorded; a failure (Redis down) is a 500 so that Meta redelivers, and
    /// events not yet processed have their dedupe claims released for that redelivery.
    /// </summary>
    private static async Task<Results<Ok, ProblemHttpResult>> ReceiveAsync(
        HttpContext context, StatusUpdates statusUpdates, BotConversation conversation, WebhookMetrics metrics, ILoggerFactory loggers)
    {
        WhatsAppWebhookPayload? payload;
        try
        {
            payload = JsonSerializer.Deserialize<WhatsAppWebhookPayload>(context.VerifiedBody().Span, Json);
        }
        catch (JsonException)
        {
            return TypedResults.Problem(title: "Invalid payload",
                detail: "The body is not a WhatsApp webhook payload (JSON of the documented shape).",
                statusCode: StatusCodes.Status400BadRequest);
        }

        var values = (payload?.Entry ?? []).OfType<WebhookEntry>()
            .SelectMany(e => (e.Changes ?? []).OfType<WebhookChange>())
            .Where(c => c.Field == "messages")
            .Select(c => c.Value).OfType<WebhookValue>()
            .ToList();
        var logger = loggers.CreateLogger(typeof(WebhookApi));
        var errors = values.SelectMany(v => (v.Errors ?? []).OfType<WebhookError>()).ToList();
        foreach (var error in errors) LogWebhookError(logger, error.Code, error.Title);
        List<WebhookStatus> statuses = [.. values.SelectMany(v => (v.Statuses ?? []).OfType<WebhookStatus>())];
        List<WebhookMessage> messages = [.. values.SelectMany(v => (v.Messages ?? []).OfType<WebhookMessage>())];
        // Counted as received (a redelivery counts again): the figure is what WhatsApp reports, not what changed.
        metrics.Errors(errors.Count);
        foreach (var status in statuses) metrics.Status(status.Status);
        metrics.Messages(messages.Count);

        // Neither waits for the caller: once events are claimed, they are finished even if Meta hangs up.
        await statusUpdates.ApplyAsync(statuses);
        await conversation.HandleAsync(messages);
        return TypedResults.Ok();
    }

    [LoggerMessage(LogLevel.Warning, "WhatsApp reported error {Code}: {Title}")]
    private static partial void LogWebhookError(ILogger logger, int? code, string? title);
}
