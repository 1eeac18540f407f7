using System.Text.RegularExpressions;
using Bot.Core;
using Bot.Core.Tenants;
using Bot.Webhook.Api;
using Bot.Webhook.Employers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bot.Webhook.Admin;

public sealed record AuditEntryView(DateTimeOffset At, string Actor, string Action, string Target, string? EmployerId);

public static partial class AuditApi
{
    public static RouteGroupBuilder MapAdminAudit(this RouteGroupBuilder group)
    {
        group.MapGet("/audit", (TenantStore store, string? employerId, string? cursor, int? limit) =>
                employerId is not null && !Ids.IsValid(employerId)
                    ? Task.FromResult<Results<Ok<Page<AuditEntryView>>, ValidationProblem>>(TypedResults.ValidationProblem(
                        new Dictionary<string, string[]> { ["employerId"] = ["employerId is an employer's id."] }))
                    : ReadAsync(store, employerId, cursor, limit))
            .WithSummary("Read the audit trail")
            .WithDescription("Every operator change and every employer write, newest first, with its actor (`admin` or `key:<keyId>`); `employerId` keeps one employer's.");
        return group;
    }

    public static IEndpointRouteBuilder MapEmployerAudit(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/audit", (Employer employer, TenantStore store, string? cursor, int? limit) => ReadAsync(store, employer.Id, cursor, limit))
            .RequireEmployer().WithTags("Employer")
            .WithSummary("Read your account's audit trail")
            .WithDescription("Your writes (announcements, employees) and the operator's changes to your account (settings, keys), newest first.");
        return routes;
    }

    private static async Task<Results<Ok<Page<AuditEntryView>>, ValidationProblem>> ReadAsync(TenantStore store, string? employerId, string? cursor, int? limit)
    {
        if (!Paging.TryLimit(limit, out var take, out var errors)) return TypedResults.ValidationProblem(errors);
        if (cursor is { Length: > 0 } && !StreamId().IsMatch(cursor))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["cursor"] = ["cursor is the nextCursor of a previous page."] });
        var (items, next) = await store.ReadAuditAsync(employerId, string.IsNullOrEmpty(cursor) ? null : cursor, take);
        return TypedResults.Ok(new Page<AuditEntryView>([.. items.Select(e => new AuditEntryView(e.At, e.Actor, e.Action, e.Target, e.EmployerId))], next));
    }

    [GeneratedRegex("^[0-9]{1,20}-[0-9]{1,20}$")]
    private static partial Regex StreamId();
}

/// <summary>
/// Puts every successful employer write into the audit trail, with the key that made it: one filter on every employer
/// endpoint (<see cref="EmployerAuthenticationExtensions.RequireEmployer{TBuilder}"/>), so a new write endpoint is audited
/// without a line of its own. Reads and previews are not writes.
/// </summary>
public sealed class EmployerAuditFilter(TenantStore store) : IEndpointFilter
{
    /// <summary>The action names of the known writes; any other write is named by its method and route.</summary>
    private static readonly Dictionary<string, string> Actions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["POST /api/announcements"] = "announcement.create",
        ["POST /send_announcement"] = "announcement.create",
        ["DELETE /api/announcements/{id}"] = "announcement.cancel",
        ["POST /api/announcements/{id}/resume"] = "announcement.resume",
        ["POST /api/announcements/{id}/retry"] = "announcement.retry",
        ["PUT /api/employees/{employeeId}"] = "employee.put",
        ["DELETE /api/employees/{employeeId}"] = "employee.delete",
        ["POST /api/employees/import"] = "employee.import",
        ["POST /api/employees/{employeeId}/join-code"] = "employee.join-code",
    };

    /// <summary>Set in <see cref="HttpContext.Items"/> by a handler that answered a repeated request from its stored answer: it changed nothing.</summary>
    public const string ReplayItem = "audit:replay";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var result = await next(context);
        var http = context.HttpContext;
        var method = http.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)) return result;
        if (http.GetEndpoint() is not RouteEndpoint { RoutePattern: var pattern } || (pattern.RawText ?? "").EndsWith("/preview", StringComparison.Ordinal)) return result;
        // A handler declared as Results<…> returns the union; the status and value are on the result inside.
        var inner = result;
        while (inner is INestedHttpResult nested) inner = nested.Result;
        var status = inner is IStatusCodeHttpResult { StatusCode: { } code } ? code : http.Response.StatusCode;
        if (status is < 200 or >= 300 || http.Items.ContainsKey(ReplayItem) || http.User.FindFirst(Employer.ClaimType)?.Value is not { } employerId) return result;

        var route = "/" + (pattern.RawText ?? "").Trim('/');
        var action = Actions.GetValueOrDefault($"{method} {route}") ?? $"{method.ToLowerInvariant()} {route}";
        var target = pattern.Parameters.Select(p => http.GetRouteValue(p.Name) as string).FirstOrDefault(v => v is not null)
            ?? (inner is IValueHttpResult { Value: { } value } ? value.GetType().GetProperty("Id")?.GetValue(value) as string : null)
            ?? "";
        var keyId = http.User.FindFirst(Employer.KeyClaimType)?.Value ?? EmployerDirectory.ConfigurationKeyId;
        await store.AuditAsync(new AuditEvent(AuditActor.Key(keyId), action, target, employerId));
        return result;
    }
}
