using System.Text.Json.Serialization;
using Bot.Core;
using Bot.Core.Employees;
using Bot.Webhook.Api;
using Bot.Webhook.Employers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Bot.Webhook.Employees;

/// <summary>A PUT replaces the employee: a name or attribute left out is cleared.</summary>
public sealed record PutEmployeeRequest(
    string? Phone, string? Name, string? Department = null, string? Location = null, string? Language = null, string? TimeZone = null,
    List<string?>? Tags = null);

/// <param name="Username">Their WhatsApp username, when a message of theirs carried one.</param>
/// <param name="WhatsAppUserIds">Portfolio → business-scoped user id (BSUID); only on <c>GET /api/employees/{id}</c>.</param>
/// <param name="PhoneChangedAt">When WhatsApp reported the employee's move to a new number (<c>user_changed_number</c>).</param>
/// <param name="PhoneChangedBy"><c>whatsapp</c> when the phone was changed by that report.</param>
/// <param name="PhoneChangeRefused">A number WhatsApp reported the employee moved to that another employee holds: not taken.</param>
public sealed record EmployeeResponse(
    string EmployeeId, string Phone, string? Name, string Status, DateTimeOffset UpdatedAt,
    string? Department, string? Location, string? Language, string? TimeZone, IReadOnlyList<string> Tags, string? Username = null,
    [property: JsonPropertyName("whatsappUserIds")] IReadOnlyDictionary<string, string>? WhatsAppUserIds = null,
    DateTimeOffset? PhoneChangedAt = null, string? PhoneChangedBy = null, RefusedPhoneChange? PhoneChangeRefused = null)
{
    public static EmployeeResponse From(Employee e) => new(e.EmployeeId, e.Phone, e.Name, e.Status, e.UpdatedAt,
        e.Attributes.Department, e.Attributes.Location, e.Attributes.Language, e.Attributes.TimeZone, e.Attributes.TagList, e.Username);

    /// <summary>The employee with how WhatsApp knows them (BSUIDs, number changes).</summary>
    public static EmployeeResponse From(Employee e, WhatsAppIdentity identity) => From(e) with
    {
        WhatsAppUserIds = identity.UserIds,
        PhoneChangedAt = identity.PhoneChangedAt,
        PhoneChangedBy = identity.PhoneChangedBy,
        PhoneChangeRefused = identity.PhoneChangeRefused,
    };
}

public sealed record JoinCodeResponse(string Code, DateTimeOffset ExpiresAt);

public static class EmployeesApi
{
    public const int MaxNameLength = 200;

    public static RouteGroupBuilder MapEmployees(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/employees").RequireEmployer().WithTags("Employees");
        group.MapPut("/{employeeId}", PutAsync)
            .WithSummary("Create or update an employee")
            .WithDescription("Employees are known by the employer's stable id. The phone is given in international format and stored as E.164; `department`, `location`, `language` (BCP 47), `timeZone` (IANA) and `tags` are optional, and what is left out is cleared. 201 when created, 200 when updated, 400 naming a bad field, 409 when another employee has the number.");
        group.MapGet("/{employeeId}", GetAsync).WithSummary("Get an employee");
        group.MapGet("/", ListAsync)
            .WithSummary("List employees")
            .WithDescription("Pages of at most `limit` (1-500, default 50) in id order; pass `nextCursor` as `cursor` for the next page. `department`, `location` and `tag` filter by exact match (all given filters must match).");
        group.MapDelete("/{employeeId}", DeleteAsync).WithSummary("Remove an employee");
        group.MapPost("/import", EmployeeImport.ImportAsync)
            .Accepts<List<ImportRow>>("application/json", "text/csv")
            .WithSummary("Import employees (CSV or JSON)")
            .WithDescription("Upserts every row of CSV (columns by header name in any order: `employeeId,phone,name,department,location,language,timeZone,tags`, tags `;`-separated; without a header the columns are in that order) or a JSON array of rows; rejected rows are listed with their row number (and CSV line and field) and the others are applied.");
        group.MapPost("/{employeeId}/join-code", CreateJoinCodeAsync)
            .WithSummary("Issue a join code")
            .WithDescription("A single-use code, valid 24 h, that the employee sends as `JOIN <code>` from the WhatsApp number to link.");
        return group;
    }

    private static async Task<Results<Created<EmployeeResponse>, Ok<EmployeeResponse>, ValidationProblem, ProblemHttpResult>> PutAsync(
        string employeeId, PutEmployeeRequest request, Employer employer, EmployeeStore employees)
    {
        // Every bad field is named at once, the attributes' with the phone's.
        TryValidate(employeeId, request.Phone, request.Name, out var phone, out var errors);
        var attributes = EmployeeAttributeRules.Validate(request.Department, request.Location, request.Language, request.TimeZone, request.Tags, errors);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);
        var (result, holder) = await employees.UpsertAsync(employer.Id, employeeId, phone, request.Name, attributes);
        if (result == UpsertResult.PhoneConflict)
            return TypedResults.Problem(
                title: "Phone number already in use",
                detail: $"This phone number belongs to employee '{holder}'. Change or remove that employee first.",
                statusCode: StatusCodes.Status409Conflict);
        var employee = EmployeeResponse.From((await employees.GetAsync(employer.Id, employeeId))!);
        return result == UpsertResult.Created
            ? TypedResults.Created($"/api/employees/{Uri.EscapeDataString(employeeId)}", employee)
            : TypedResults.Ok(employee);
    }

    private static async Task<Results<Ok<EmployeeResponse>, NotFound>> GetAsync(
        string employeeId, Employer employer, EmployeeStore employees, PhoneChanges phoneChanges) =>
        Ids.IsValid(employeeId) && await employees.GetAsync(employer.Id, employeeId) is { } e
            ? TypedResults.Ok(EmployeeResponse.From(e, await phoneChanges.IdentityAsync(employer.Id, employeeId)))
            : TypedResults.NotFound();

    private static async Task<Results<Ok<Page<EmployeeResponse>>, ValidationProblem>> ListAsync(
        Employer employer, EmployeeStore employees, string? cursor, int? limit, string? department, string? location, string? tag)
    {
        if (!Paging.TryLimit(limit, out var take, out var errors)) return TypedResults.ValidationProblem(errors);
        // An empty filter (?department=) is no filter, as a form with an empty field sends it.
        static IReadOnlyList<string>? Only(string? value) => string.IsNullOrWhiteSpace(value) ? null : [value.Trim()];
        var filter = new AudienceFilter(Only(department), Only(location), Only(tag));
        var (items, next) = await employees.ListAsync(employer.Id, string.IsNullOrEmpty(cursor) ? null : cursor, take,
            filter is { Departments: null, Locations: null, Tags: null } ? null : filter);
        return TypedResults.Ok(new Page<EmployeeResponse>([.. items.Select(EmployeeResponse.From)], next));
    }

    private static async Task<Results<NoContent, NotFound>> DeleteAsync(string employeeId, Employer employer, EmployeeStore employees) =>
        Ids.IsValid(employeeId) && await employees.RemoveAsync(employer.Id, employeeId)
            ? TypedResults.NoContent()
            : TypedResults.NotFound();

    /// <summary>A one-time code the employee sends as "JOIN &lt;code&gt;" from the number to link (e.g. a new phone).</summary>
    private static async Task<Results<Created<JoinCodeResponse>, NotFound>> CreateJoinCodeAsync(
        string employeeId, Employer employer, EmployeeStore employees, JoinCodeStore joinCodes)
    {
        if (!Ids.IsValid(employeeId) || await employees.GetAsync(employer.Id, employeeId) is not { Status: not EmployeeStatus.Removed })
            return TypedResults.NotFound();
        var code = await joinCodes.IssueAsync(employer.Id, employeeId);
        return TypedResults.Created((string?)null, new JoinCodeResponse(code.Code, code.ExpiresAt));
    }

    /// <summary>Checks an employee as given; on success <paramref name="phone"/> is the number in E.164.</summary>
    internal static bool TryValidate(string? employeeId, string? input, string? name, out string phone, out Dictionary<string, string[]> errors)
    {
        errors = [];
        if (!Ids.IsValid(employeeId))
            errors["employeeId"] = ["An employee id is 1-64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit."];
        if (!PhoneNormalizer.TryNormalize(input, out phone, out var phoneError)) errors["phone"] = [phoneError];
        if (name is { Length: > MaxNameLength }) errors["name"] = [$"name is at most {MaxNameLength} characters."];
        return errors.Count == 0;
    }
}
