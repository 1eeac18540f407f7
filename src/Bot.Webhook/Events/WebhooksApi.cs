using System.Text.Json.Serialization;
using Bot.Core.Events;
using Bot.Webhook.Employers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Bot.Webhook.Events;

public sealed record WebhookRequest(string? Url, string[]? Events);

public sealed record WebhookEndpoint(
    string Url,
    IReadOnlyList<string> Events,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Secret = null);

public sealed record WebhookAttempts(IReadOnlyList<EventAttempt> Items);

public sealed record ReplayRequest(DateTimeOffset? Since);

public sealed record ReplayAccepted(long Replayed);

/// <summary>
/// <c>/api/webhooks</c>: the employer's endpoint for events out (docs/events.md) — register, read, delete, rotate its
/// secret, list attempts, replay failed events.
/// </summary>
public static class WebhooksApi
{
    private static readonly string[] AttemptStatuses = ["delivered", "retrying", "failed"];

    public static IHostApplicationBuilder AddEventsOut(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<EventsOptions>().BindConfiguration(EventsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<WebhookSecrets>();
        builder.Services.AddSingleton<EventDelivery>();
        builder.Services.AddHttpClient<EventSender>(EventSender.HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)
            // No per-request log scopes or messages: an event is a request, and the attempts log records each one.
            .RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(sp =>
            {
                var options = sp.GetRequiredService<IOptionsMonitor<EventsOptions>>();
                return EndpointUrls.Handler(() => options.CurrentValue);
            });
        builder.Services.AddHostedService<EventDeliveryService>();
        return builder;
    }

    public static RouteGroupBuilder MapWebhooks(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/webhooks").RequireEmployer().WithTags("Webhooks");
        group.MapPut("/", PutAsync)
            .WithSummary("Register or change the endpoint events are sent to")
            .WithDescription($"`{{url, events?}}`: `url` https (http only to a loopback address when `Webhooks:AllowHttp`), not a private or local address; `events` any of {string.Join(", ", EndpointStore.EventTypes)} (none: all). 200 `{{url, events, secret}}` — the `whsec_…` secret only when the endpoint is created. Events are signed per Standard Webhooks.");
        group.MapGet("/", GetAsync).WithSummary("The endpoint events are sent to").WithDescription("200 `{url, events}` (never the secret); 404 when none is registered.");
        group.MapDelete("/", DeleteAsync).WithSummary("Stop sending events").WithDescription("204; 404 when none is registered.");
        group.MapPost("/rotate-secret", RotateAsync).WithSummary("Replace the signing secret")
            .WithDescription("200 `{url, events, secret}` with the new secret, shown once; events are signed with it from now on.");
        group.MapGet("/attempts", AttemptsAsync).WithSummary("Recent delivery attempts")
            .WithDescription("Newest first, each `{eventId, type, at, attempt, statusCode, error, outcome}`. `?status=failed`: the events given up after `Webhooks:RetryFor`, kept for replay (one row each, its last attempt); `delivered` or `retrying`: attempts with that outcome. `limit` 1–200 (50).");
        group.MapPost("/replay", ReplayAsync).WithSummary("Send failed events again")
            .WithDescription("`{since?}`: the failed events given up at or after `since` (all without it) are sent again, each with a fresh retry budget and its same `webhook-id`. 202 `{replayed}`.");
        return group;
    }

    private static async Task<Results<Ok<WebhookEndpoint>, ValidationProblem>> PutAsync(WebhookRequest request, Employer employer,
        EndpointStore endpoints, WebhookSecrets secrets, IOptionsMonitor<EventsOptions> options, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (await EndpointUrls.CheckAsync(request.Url, options.CurrentValue, cancellationToken) is { } urlError) errors["url"] = [urlError];
        var events = (request.Events ?? []).Distinct().ToArray();
        if (events.Except(EndpointStore.EventTypes).ToArray() is { Length: > 0 } unknown)
            errors["events"] = [$"Unknown event type(s): {string.Join(", ", unknown)}. Known: {string.Join(", ", EndpointStore.EventTypes)}."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var existing = await endpoints.GetAsync(employer.Id);
        string? secret = existing is null ? WebhookSecrets.New() : null;
        await endpoints.SaveAsync(employer.Id, new EventEndpoint(request.Url!, events, existing?.Secret ?? secrets.Protect(secret!)));
        return TypedResults.Ok(new WebhookEndpoint(request.Url!, Effective(events), secret));
    }

    private static async Task<Results<Ok<WebhookEndpoint>, NotFound>> GetAsync(Employer employer, EndpointStore endpoints) =>
        await endpoints.GetAsync(employer.Id) is { } endpoint
            ? TypedResults.Ok(new WebhookEndpoint(endpoint.Url, Effective(endpoint.Events)))
            : TypedResults.NotFound();

    private static async Task<Results<NoContent, NotFound>> DeleteAsync(Employer employer, EndpointStore endpoints) =>
        await endpoints.DeleteAsync(employer.Id) ? TypedResults.NoContent() : TypedResults.NotFound();

    private static async Task<Results<Ok<WebhookEndpoint>, NotFound>> RotateAsync(Employer employer, EndpointStore endpoints, WebhookSecrets secrets)
    {
        if (await endpoints.GetAsync(employer.Id) is not { } endpoint) return TypedResults.NotFound();
        var secret = WebhookSecrets.New();
        await endpoints.SaveAsync(employer.Id, endpoint with { Secret = secrets.Protect(secret) });
        return TypedResults.Ok(new WebhookEndpoint(endpoint.Url, Effective(endpoint.Events), secret));
    }

    private static async Task<Results<Ok<WebhookAttempts>, ValidationProblem>> AttemptsAsync(Employer employer, EventQueue queue, string? status, int? limit)
    {
        var errors = new Dictionary<string, string[]>();
        if (status is not null && !AttemptStatuses.Contains(status)) errors["status"] = [$"status is one of {string.Join(", ", AttemptStatuses)}."];
        if (limit is < 1 or > 200) errors["limit"] = ["limit is 1 to 200."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        var take = limit ?? 50;
        if (status == "failed")
        {
            var failed = await queue.FailedAsync(employer.Id, take);
            return TypedResults.Ok(new WebhookAttempts([.. failed.Select(f =>
                new EventAttempt(f.Event.Id, f.Event.Type, f.FailedAt, f.Event.Attempts, f.Event.LastStatusCode, f.Event.LastError, "failed"))]));
        }
        // The log holds the latest attempts of every outcome; a filter reads the whole (bounded) log.
        var attempts = await queue.AttemptsAsync(employer.Id, status is null ? take : 200);
        return TypedResults.Ok(new WebhookAttempts([.. attempts.Where(a => status is null || a.Outcome == status).Take(take)]));
    }

    private static async Task<Results<Accepted<ReplayAccepted>, NotFound>> ReplayAsync(ReplayRequest? request, Employer employer,
        EndpointStore endpoints, EventQueue queue, TimeProvider time)
    {
        if (await endpoints.GetAsync(employer.Id) is null) return TypedResults.NotFound();
        var replayed = await queue.ReplayAsync(employer.Id, request?.Since ?? DateTimeOffset.UnixEpoch, time.GetUtcNow());
        return TypedResults.Accepted("/api/webhooks/attempts", new ReplayAccepted(replayed));
    }

    private static IReadOnlyList<string> Effective(IReadOnlyList<string> events) => events.Count == 0 ? EndpointStore.EventTypes : events;
}
