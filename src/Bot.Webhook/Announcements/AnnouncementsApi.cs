using System.Text.Json;
using Bot.Core;
using Bot.Core.Acknowledgements;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.Core.Media;
using Bot.Core.Redis;
using Bot.Dispatch;
using Bot.Webhook.Templates;
using Bot.Webhook.Api;
using Bot.Webhook.Employers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Bot.Webhook.Announcements;

public static partial class AnnouncementsApi
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>The values of <c>?state=</c>: "pending" (no delivery record yet) and every delivery state.</summary>
    private static readonly string[] DeliveryStateFilter = ["pending", .. DeliveryStates.All.Select(s => s.Name())];

    public static IHostApplicationBuilder AddAnnouncementsApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AnnouncementPreview>();
        builder.Services.AddApiOptions();
        // A retry's pass must end before the first pass's delivery records expire: the API needs the dispatcher's
        // retention and age (validated where the dispatcher runs).
        builder.Services.AddOptions<DispatcherOptions>().BindConfiguration(DispatcherOptions.SectionName);
        return builder;
    }

    public static RouteGroupBuilder MapAnnouncements(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/announcements").RequireEmployer().WithTags("Announcements");
        group.MapPost("/", CreateAsync)
            .WithSummary("Create an announcement")
            .WithDescription("A text `message` or a `template`, to all employees, to `employeeIds` or to an `audience` ({departments, locations, tags}: AND across the lists, OR within one; resolved when sending starts), now, at `sendAt` (ISO 8601 with offset) or at `sendAtLocal` (a wall-clock time without offset, in each employee's time zone; at once where it has passed); `recurrence: {rule, timeZone}` repeats it by an RFC 5545 RRULE, each occurrence an announcement with `seriesId`; `urgent: true` goes before the other announcements sharing the WhatsApp number and ignores the employer's quiet hours; `acknowledgement: {required: true, remindAfter?: \"PT4H\", maxReminders?: 0..5}` adds a \"Got it\" button and reminds who has not tapped it. 202 when created; a retry with the same `Idempotency-Key` returns the same announcement with 200, and the key reused for a different announcement is 422.");
        group.MapPost("/preview", PreviewAsync)
            .WithSummary("Preview an announcement without creating it")
            .WithDescription("Same body as create. `targeted`: employees it would go to; `outsideWindow`: active ones outside WhatsApp's 24-hour window (they get the employer's fallback template, or without one a text WhatsApp fails with 131047); `overMessagingLimit`: business-initiated messages that do not fit the portfolio's messaging limit now (they wait, status `waiting_for_limit`); `estimatedCompletion`.");
        group.MapGet("/{id}", GetAsync)
            .WithSummary("Get an announcement with its counts")
            .WithDescription($"Each delivery is counted once, in its latest state: once completed, {string.Join(" + ", DeliveryStates.CountFields.Skip(1))} = targeted.");
        group.MapGet("/", ListAsync).WithSummary("List announcements").WithDescription("Newest first, optionally filtered by `status`; paged like employees.");
        group.MapDelete("/{id}", CancelAsync).WithSummary("Cancel a scheduled announcement, or a recurring series")
            .WithDescription("204 while scheduled, 409 once sending began. With a series' id (its first occurrence's): 204, and every occurrence not yet started is cancelled and no further one is created.");
        group.MapPost("/{id}/resume", ResumeAsync)
            .WithSummary("Resume a paused announcement now")
            .WithDescription("After an error about the sender (token, account, spam limit) dispatching pauses and the announcement shows `paused` with a `reason` and `resumesAt`; once the cause is fixed, this resumes it at once. 202; 409 when it is not paused.");
        group.MapPost("/{id}/retry", RetryAsync)
            .WithSummary("Retry failed or unknown deliveries once more")
            .WithDescription("`{\"states\": [\"failed\"] | [\"unknown\"] | both, \"errors\"?: [\"131026\", …]}`: each chosen delivery gets exactly one more attempt (its `attempts` goes up by one), also when the request is repeated or sent twice at once; honours `Idempotency-Key`. `unknown` is retried only when named: those employees may already have the message. 202 `{retrying}`; 409 while the announcement is scheduled or dispatching; 400 naming the field.");
        group.MapGet("/{id}/deliveries", DeliveriesAsync)
            .WithSummary("List an announcement's deliveries")
            .WithDescription($"One row per targeted employee, optionally filtered by `state` ({string.Join(", ", DeliveryStateFilter)}).");
        group.MapAcknowledgements();
        group.MapGet("/{id}/deliveries.csv", DeliveryExport.ExportAsync)
            .Produces(StatusCodes.Status200OK, contentType: DeliveryExport.ContentType)
            .WithSummary("Export an announcement's deliveries as CSV")
            .WithDescription($"Streamed, one row per targeted employee: `{string.Join(",", DeliveryExport.Header)}`. A cell starting with =, +, - or @ is prefixed with ' so a spreadsheet shows it as text.");
        group.MapSeries();

        // The original proof of concept's route, kept working for its callers.
        routes.MapPost("/send_announcement/", SendAnnouncementAsync).RequireEmployer().WithTags("Announcements")
            .WithSummary("Send a text announcement now (proof-of-concept route)")
            .WithDescription("The original proof of concept's request; its `id` is the idempotency key. Always 202.");
        return group;
    }

    private static async Task<Results<Accepted<AnnouncementAccepted>, Ok<AnnouncementAccepted>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateAnnouncementRequest request, Employer employer, AnnouncementStore announcements, EmployeeStore employees, AnnouncementPreview preview,
        SeriesStore series, TemplateChecks checks, MediaStore media, TimeProvider time, IOptions<ApiOptions> api,
        [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey)
    {
        var errors = AnnouncementValidation.Validate(request, time.GetUtcNow(), out var sendAt, out var template, out var employeeIds, out var audience);
        var acknowledgement = AcknowledgementValidation.Validate(request.Acknowledgement, request.Message, errors);
        var (sendAtLocal, recurrence) = SeriesApi.Validate(request.SendAt, request.SendAtLocal, request.Recurrence, time.GetUtcNow(), errors, ref sendAt);
        if (AnnouncementValidation.ValidateIdempotencyKey(idempotencyKey) is { } keyError) errors[IdempotencyKeyHeader] = [keyError];
        if (errors.Count == 0 && employeeIds is not null && await UnknownEmployeesAsync(employer.Id, employeeIds, employees) is { } unknown)
            errors["employeeIds"] = [unknown];
        MediaAttachment? file = null;
        if (errors.Count == 0) (template, file) = await checks.CheckAsync(employer.Id, request, template, sendAt ?? time.GetUtcNow(), recurrence is not null, errors);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var draft = new NewAnnouncement(employer.Id, request.Message, template, sendAt, employeeIds, audience, request.Urgent, acknowledgement, sendAtLocal);
        var id = idempotencyKey is null ? AnnouncementStore.NewId() : await announcements.IdForKeyAsync(employer.Id, idempotencyKey, api.Value.IdempotencyRetention);
        return await StoreAsync(draft, id, announcements, preview, accepted: a => TypedResults.Accepted($"/api/announcements/{a.Id}", a),
            recurrence is not null ? () => SeriesApi.CreateAsync(draft, recurrence, id, keyed: idempotencyKey is not null, series, announcements, preview.SenderOf(employer.Id), time.GetUtcNow())
            : file is not null ? () => TemplateChecks.CreateWithMediaAsync(draft, file, id, announcements, media, preview.SenderOf(employer.Id))
            : null);
    }

    private static async Task<Results<Ok<PreviewResponse>, ValidationProblem>> PreviewAsync(
        CreateAnnouncementRequest request, Employer employer, EmployeeStore employees, AnnouncementPreview preview, TimeProvider time)
    {
        var errors = AnnouncementValidation.Validate(request, time.GetUtcNow(), out var sendAt, out var template, out var employeeIds, out var audience);
        AcknowledgementValidation.Validate(request.Acknowledgement, request.Message, errors);
        SeriesApi.Validate(request.SendAt, request.SendAtLocal, request.Recurrence, time.GetUtcNow(), errors, ref sendAt);
        if (errors.Count == 0 && employeeIds is not null && await UnknownEmployeesAsync(employer.Id, employeeIds, employees) is { } unknown)
            errors["employeeIds"] = [unknown];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        return TypedResults.Ok(await preview.PreviewAsync(employer.Id, template, sendAt, employeeIds, audience));
    }

    private static async Task<Results<Accepted<AnnouncementAccepted>, Ok<AnnouncementAccepted>, ValidationProblem, ProblemHttpResult>> SendAnnouncementAsync(
        SendAnnouncementRequest request, Employer employer, AnnouncementStore announcements, AnnouncementPreview preview, IOptions<ApiOptions> api)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Id) || AnnouncementValidation.ValidateIdempotencyKey(request.Id) is not null)
            errors["id"] = [$"id identifies the announcement: 1-{AnnouncementValidation.MaxIdempotencyKeyLength} printable characters."];
        if (AnnouncementValidation.ValidateMessage(request.Message) is { } messageError) errors["message"] = [messageError];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        // Its own key space: a PoC id never collides with an Idempotency-Key of the new API.
        var draft = new NewAnnouncement(employer.Id, request.Message, null, null, null);
        var accepted = (Func<AnnouncementAccepted, Accepted<AnnouncementAccepted>>)(a => TypedResults.Accepted($"/api/announcements/{a.Id}", a));
        var id = await announcements.IdForKeyAsync(employer.Id, $"send_announcement:{request.Id}", api.Value.IdempotencyRetention);
        var result = await StoreAsync(draft, id, announcements, preview, accepted);
        // The PoC always answered 202, also when it had seen the id before.
        return result.Result is Ok<AnnouncementAccepted> { Value: { } replay } ? accepted(replay) : result;
    }

    private static async Task<Results<Accepted<AnnouncementAccepted>, Ok<AnnouncementAccepted>, ValidationProblem, ProblemHttpResult>> StoreAsync(
        NewAnnouncement draft, string newId, AnnouncementStore announcements, AnnouncementPreview preview,
        Func<AnnouncementAccepted, Accepted<AnnouncementAccepted>> accepted, Func<Task<(CreateOutcome Outcome, string Id)>>? create = null)
    {
        var (outcome, id) = create is not null ? await create() : await announcements.CreateAsync(newId, draft, preview.SenderOf(draft.EmployerId));
        if (outcome == CreateOutcome.KeyReusedWithOtherRequest)
            return TypedResults.Problem(
                title: "Idempotency key reused",
                detail: "This idempotency key was already used for a different announcement. Use a new key for a new announcement.",
                statusCode: StatusCodes.Status422UnprocessableEntity);
        // Only a replayed series cancelled before its first occurrence was created has none.
        if (await announcements.GetAsync(id) is not { } stored)
            return TypedResults.Problem(title: "Series cancelled", detail: "This recurring announcement was cancelled.", statusCode: StatusCodes.Status409Conflict);
        var figures = await preview.PreviewAsync(draft.EmployerId, draft.Template, draft.SendAt, draft.EmployeeIds, draft.Audience);
        var body = new AnnouncementAccepted(stored.Id, stored.Status, stored.SendAt,
            figures.Targeted, figures.OutsideWindow, figures.OverMessagingLimit, figures.EstimatedCompletion);
        return outcome == CreateOutcome.Created ? accepted(body) : TypedResults.Ok(body);
    }

    private static async Task<Results<Ok<AnnouncementResponse>, NotFound>> GetAsync(string id, Employer employer, AnnouncementStore announcements, MediaStore media) =>
        Ids.IsValid(id) && await announcements.GetAsync(employer.Id, id) is { } a
            ? TypedResults.Ok(AnnouncementResponse.From(a) with { Media = await media.AttachmentOfAsync(id) })
            : TypedResults.NotFound();

    private static async Task<Results<Ok<Page<AnnouncementResponse>>, ValidationProblem>> ListAsync(
        Employer employer, AnnouncementStore announcements, string? status, string? cursor, int? limit)
    {
        if (!Paging.TryLimit(limit, out var take, out var errors)) return TypedResults.ValidationProblem(errors);
        if (status is not null && !AnnouncementStatus.All.Contains(status))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["status"] = [$"status is one of {string.Join(", ", AnnouncementStatus.All)}."] });
        var (items, next) = await announcements.ListAsync(employer.Id, status, string.IsNullOrEmpty(cursor) ? null : cursor, take);
        return TypedResults.Ok(new Page<AnnouncementResponse>([.. items.Select(AnnouncementResponse.From)], next));
    }

    private static async Task<Results<Accepted, NotFound, ProblemHttpResult>> ResumeAsync(string id, Employer employer, AnnouncementStore announcements)
    {
        if (!Ids.IsValid(id) || await announcements.GetAsync(employer.Id, id) is null) return TypedResults.NotFound();
        return await announcements.ResumeNowAsync(employer.Id, id)
            ? TypedResults.Accepted($"/api/announcements/{id}")
            : TypedResults.Problem(
                title: "Not paused",
                detail: "Only a paused announcement can be resumed.",
                statusCode: StatusCodes.Status409Conflict);
    }

    private static async Task<Results<NoContent, NotFound, ProblemHttpResult>> CancelAsync(string id, Employer employer, AnnouncementStore announcements, SeriesStore series)
    {
        if (!Ids.IsValid(id)) return TypedResults.NotFound();
        // A series' id (its first occurrence's): every occurrence not yet started, and all later ones.
        if (await series.GetAsync(employer.Id, id) is { } recurring)
        {
            await series.CancelAsync(recurring);
            return TypedResults.NoContent();
        }
        return await announcements.CancelAsync(employer.Id, id) switch
        {
            CancelOutcome.Cancelled => TypedResults.NoContent(),
            CancelOutcome.NotFound => TypedResults.NotFound(),
            _ => TypedResults.Problem(
                title: "Too late to cancel",
                detail: "Only a scheduled announcement can be cancelled; this one is already being sent or has finished.",
                statusCode: StatusCodes.Status409Conflict),
        };
    }

    private static async Task<Results<Ok<Page<DeliveryResponse>>, NotFound, ValidationProblem>> DeliveriesAsync(
        string id, Employer employer, AnnouncementStore announcements, DeliveryStore deliveries, AcknowledgementStore acknowledgements,
        string? state, string? cursor, int? limit)
    {
        if (!Ids.IsValid(id) || await announcements.GetAsync(employer.Id, id) is null) return TypedResults.NotFound();
        if (!Paging.TryLimit(limit, out var take, out var errors)) return TypedResults.ValidationProblem(errors);
        if (state is not null && !DeliveryStateFilter.Contains(state))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["state"] = [$"state is one of {string.Join(", ", DeliveryStateFilter)}."] });
        if (!Paging.TryOffset(cursor, out var offset, out var cursorErrors)) return TypedResults.ValidationProblem(cursorErrors);

        // Pages walk the announcement's target list; with a state filter a page may need several reads.
        var items = new List<DeliveryResponse>(take);
        while (items.Count < take)
        {
            var ids = await announcements.TargetsAsync(id, offset, offset + Paging.MaxLimit - 1);
            if (ids.Length == 0) return TypedResults.Ok(new Page<DeliveryResponse>(items, null));
            var records = await deliveries.GetManyAsync(id, ids);
            var (acknowledged, reminders) = await AcknowledgementsOfAsync(acknowledgements, id, ids);
            var attempts = await deliveries.AttemptsAsync(id, ids, records);
            var languages = await deliveries.LanguagesAsync(id, ids);
            for (var i = 0; i < ids.Length && items.Count < take; i++)
            {
                offset++;
                var item = records[i] is { } r
                    ? new DeliveryResponse(ids[i], r.State.Name(), r.Form, r.MessageId, r.Error, r.UpdatedAt, acknowledged[i], reminders[i], attempts[i], languages[i])
                    : new DeliveryResponse(ids[i], "pending", null, null, null, null, Attempts: attempts[i]);
                if (state is null || item.State == state) items.Add(item);
            }
        }
        return TypedResults.Ok(new Page<DeliveryResponse>(items, offset.ToString()));
    }

    /// <summary>Tap times and reminder counts of a page: two HMGETs, of hashes that are empty for an announcement without acknowledgement.</summary>
    private static async Task<(DateTimeOffset?[] Acknowledged, int[] Reminders)> AcknowledgementsOfAsync(
        AcknowledgementStore acknowledgements, string id, string[] ids)
    {
        var acknowledged = acknowledgements.AcknowledgedAtAsync(id, ids);
        var reminders = acknowledgements.RemindersAsync(id, ids);
        await Task.WhenAll(acknowledged, reminders);
        return (acknowledged.Result, reminders.Result);
    }

    /// <summary>Explicit audiences must name existing employees: a typo should fail loudly, not reach nobody.</summary>
    private static async Task<string?> UnknownEmployeesAsync(string employerId, List<string> employeeIds, EmployeeStore employees)
    {
        var unknown = new List<string>();
        foreach (var chunk in employeeIds.Chunk(1000))
        {
            var found = await employees.GetManyAsync(employerId, chunk);
            unknown.AddRange(chunk.Where((_, i) => found[i] is null or { Status: EmployeeStatus.Removed }));
        }
        return unknown.Count == 0 ? null
            : $"Unknown employee ids: {string.Join(", ", unknown.Take(10))}{(unknown.Count > 10 ? $" and {unknown.Count - 10} more" : "")}.";
    }
}
