using Bot.Core;
using Bot.Core.Acknowledgements;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.Webhook.Api;
using Bot.Webhook.Employers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bot.Webhook.Announcements;

/// <summary><c>GET /api/announcements/{id}/unacknowledged</c>: who still has to tap "Got it".</summary>
public static class AcknowledgementsApi
{
    public static RouteGroupBuilder MapAcknowledgements(this RouteGroupBuilder group)
    {
        group.MapGet("/{id}/unacknowledged", UnacknowledgedAsync)
            .WithSummary("List the targets who have not acknowledged an announcement")
            .WithDescription("For an announcement with `acknowledgement`: one row per target without a \"Got it\" tap, in target order, with name, " +
                "department, location, delivery `state` and `reminders` sent; `department` filters (exact). Paged like deliveries. 409 when the announcement does not ask for acknowledgement.");
        return group;
    }

    internal static async Task<Results<Ok<Page<UnacknowledgedResponse>>, NotFound, ValidationProblem, ProblemHttpResult>> UnacknowledgedAsync(
        string id, Employer employer, AnnouncementStore announcements, EmployeeStore employees, DeliveryStore deliveries,
        AcknowledgementStore acknowledgements, string? department, string? cursor, int? limit)
    {
        if (!Ids.IsValid(id) || await announcements.GetAsync(employer.Id, id) is not { } announcement) return TypedResults.NotFound();
        if (announcement.Acknowledgement is null)
            return TypedResults.Problem(title: "No acknowledgement asked",
                detail: "This announcement does not ask its employees to acknowledge it.", statusCode: StatusCodes.Status409Conflict);
        if (!Paging.TryLimit(limit, out var take, out var errors)) return TypedResults.ValidationProblem(errors);
        if (!Paging.TryOffset(cursor, out var offset, out var cursorErrors)) return TypedResults.ValidationProblem(cursorErrors);

        var items = new List<UnacknowledgedResponse>(take);
        while (items.Count < take)
        {
            var ids = await announcements.TargetsAsync(id, offset, offset + Paging.MaxLimit - 1);
            if (ids.Length == 0) return TypedResults.Ok(new Page<UnacknowledgedResponse>(items, null));
            var acknowledged = await acknowledgements.AcknowledgedAtAsync(id, ids);
            // Only the page's unacknowledged targets are looked up further.
            string[] open = [.. ids.Where((_, i) => acknowledged[i] is null)];
            var people = employees.GetManyAsync(employer.Id, open);
            var records = deliveries.GetManyAsync(id, open);
            var reminders = acknowledgements.RemindersAsync(id, open);
            await Task.WhenAll(people, records, reminders);
            var next = 0;
            for (var i = 0; i < ids.Length && items.Count < take; i++)
            {
                offset++;
                if (acknowledged[i] is not null) continue;
                var (person, record, sent) = (people.Result[next], records.Result[next], reminders.Result[next]);
                next++;
                if (department is not null && person?.Attributes.Department != department) continue;
                items.Add(new UnacknowledgedResponse(ids[i], person?.Name, person?.Attributes.Department, person?.Attributes.Location,
                    record?.State.Name() ?? "pending", sent));
            }
        }
        return TypedResults.Ok(new Page<UnacknowledgedResponse>(items, offset.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }
}
