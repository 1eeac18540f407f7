using System.Text.Json;
using Bot.Core;
using Bot.Core.Announcements;
using Bot.Core.Redis;
using Bot.Dispatch;
using Bot.Webhook.Api;
using Bot.Webhook.Employers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Bot.Webhook.Announcements;

/// <summary>POST /api/announcements/{id}/retry: one more attempt for the chosen deliveries.</summary>
public static partial class AnnouncementsApi
{
    private static async Task<Results<Accepted<RetryResponse>, NotFound, ValidationProblem, ProblemHttpResult>> RetryAsync(
        string id, RetryRequest? request, Employer employer, AnnouncementRetry retry, IdempotencyStore idempotency,
        IOptions<DispatcherOptions> dispatcher, IOptions<ApiOptions> api, HttpContext http, [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey)
    {
        if (!Ids.IsValid(id)) return TypedResults.NotFound();
        var errors = new Dictionary<string, string[]>();
        var choice = RetryValidation.Validate(request, errors);
        if (AnnouncementValidation.ValidateIdempotencyKey(idempotencyKey) is { } keyError) errors[IdempotencyKeyHeader] = [keyError];
        if (choice is null || errors.Count > 0) return TypedResults.ValidationProblem(errors);

        // The same key again answers what the first request answered, and acts on nothing.
        var fingerprint = $"retry\n{id}\n{JsonSerializer.Serialize(request)}";
        if (idempotencyKey is not null)
        {
            var replay = await idempotency.TakeAsync(employer.Id, idempotencyKey, fingerprint);
            // A repeat changes nothing, so the audit has the first request only.
            if (replay is IdempotentReplay.Answered) http.Items[Admin.EmployerAuditFilter.ReplayItem] = true;
            switch (replay)
            {
                case IdempotentReplay.Answered { Status: StatusCodes.Status202Accepted } answered:
                    return TypedResults.Accepted($"/api/announcements/{id}", JsonSerializer.Deserialize<RetryResponse>(answered.Body, JsonSerializerOptions.Web));
                case IdempotentReplay.Answered { Status: StatusCodes.Status404NotFound }:
                    return TypedResults.NotFound();
                case IdempotentReplay.Answered answered:
                    return RetryRefused(answered.Body);
                case IdempotentReplay.UnderWay:
                    return TypedResults.Problem(title: "Request under way",
                        detail: "A request with this idempotency key is still being processed; send it again in a moment.",
                        statusCode: StatusCodes.Status409Conflict);
                case IdempotentReplay.OtherRequest:
                    return TypedResults.Problem(title: "Idempotency key reused",
                        detail: "This idempotency key was already used for a different request. Use a new key for a new request.",
                        statusCode: StatusCodes.Status422UnprocessableEntity);
            }
        }

        var (outcome, retrying) = await retry.RetryAsync(employer.Id, id, choice, dispatcher.Value.DeliveryRetention, dispatcher.Value.MaxDispatchAge);
        var refusal = outcome switch
        {
            RetryOutcome.Dispatching => "The announcement is scheduled or being sent; retry once it has finished.",
            RetryOutcome.Finishing => "The announcement is finishing (its dispatcher is folding its records or sending a reminder); retry in a moment.",
            RetryOutcome.TooOld => "Its delivery records would expire before a retry could finish (Dispatcher:DeliveryRetention); it can no longer be retried.",
            _ => null,
        };
        if (idempotencyKey is not null)
        {
            // Done (or not this employer's): remembered. Refused while busy: nothing happened, so the same key may try again.
            if (outcome is RetryOutcome.Retrying or RetryOutcome.NotFound or RetryOutcome.TooOld)
            {
                var (status, body) = outcome switch
                {
                    RetryOutcome.Retrying => (StatusCodes.Status202Accepted, JsonSerializer.Serialize(new RetryResponse(retrying), JsonSerializerOptions.Web)),
                    RetryOutcome.NotFound => (StatusCodes.Status404NotFound, ""),
                    _ => (StatusCodes.Status409Conflict, refusal!),
                };
                await idempotency.AnswerAsync(employer.Id, idempotencyKey, fingerprint, status, body, api.Value.IdempotencyRetention);
            }
            else await idempotency.ReleaseAsync(employer.Id, idempotencyKey, fingerprint);
        }
        return outcome switch
        {
            RetryOutcome.Retrying => TypedResults.Accepted($"/api/announcements/{id}", new RetryResponse(retrying)),
            RetryOutcome.NotFound => TypedResults.NotFound(),
            _ => RetryRefused(refusal!),
        };
    }

    private static ProblemHttpResult RetryRefused(string detail) =>
        TypedResults.Problem(title: "Cannot retry now", detail: detail, statusCode: StatusCodes.Status409Conflict);
}
