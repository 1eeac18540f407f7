using System.Text.Json;
using Bot.Core.Employees;
using Bot.Webhook.Employers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bot.Webhook.Employees;

public sealed record ImportRow(string? EmployeeId, string? Phone, string? Name);

public sealed record ImportRejection(int Row, string Error);

public sealed record ImportResult(int Created, int Updated, int Unchanged, IReadOnlyList<ImportRejection> Rejected);

/// <summary>
/// Bulk upsert from a JSON array or CSV (<c>employeeId,phone,name</c>, header optional). Every row is applied
/// or reported; one bad row never loses the others.
/// </summary>
public static class EmployeeImport
{
    public const int MaxRows = 100_000;

    internal static async Task<Results<Ok<ImportResult>, ValidationProblem>> ImportAsync(
        HttpRequest request, Employer employer, EmployeeStore employees, CancellationToken cancellationToken)
    {
        List<ImportRow>? rows;
        try
        {
            rows = request.ContentType?.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase) == true
                ? await ReadCsvAsync(request.Body, cancellationToken)
                : await JsonSerializer.DeserializeAsync<List<ImportRow>>(request.Body, JsonSerializerOptions.Web, cancellationToken);
        }
        catch (JsonException ex)
        {
            return Invalid($"The body is not a JSON array of {{employeeId, phone, name}} rows: {ex.Message}");
        }
        if (rows is null || rows.Count == 0) return Invalid("Send at least one row, as a JSON array or as text/csv.");
        if (rows.Count > MaxRows) return Invalid($"At most {MaxRows} rows per import.");
        // Like a row of the wrong type ([1]), a null row means the body is not what the client meant to send.
        if (rows.IndexOf(null!) is >= 0 and var nullAt)
            return Invalid($"Row {nullAt + 1} is null; each row is an object {{employeeId, phone, name}}.");

        int created = 0, updated = 0, unchanged = 0;
        var rejected = new List<ImportRejection>();
        var valid = new List<(int Row, string EmployeeId, string Phone, string? Name)>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            if (EmployeesApi.TryValidate(row.EmployeeId, row.Phone, row.Name, out var phone, out var errors))
                valid.Add((i + 1, row.EmployeeId!, phone, row.Name));
            else rejected.Add(new ImportRejection(i + 1, string.Join(" ", errors.Values.SelectMany(v => v))));
        }
        // Upserts of a chunk are issued together and so pipelined; Redis runs them in row order, so two rows with
        // one phone end the same way as one after the other.
        foreach (var chunk in valid.Chunk(500))
        {
            var results = await Task.WhenAll(chunk.Select(r => employees.UpsertAsync(employer.Id, r.EmployeeId, r.Phone, r.Name)));
            for (var i = 0; i < chunk.Length; i++)
            {
                switch (results[i].Result)
                {
                    case UpsertResult.Created: created++; break;
                    case UpsertResult.Updated: updated++; break;
                    case UpsertResult.Unchanged: unchanged++; break;
                    default: rejected.Add(new ImportRejection(chunk[i].Row, $"Phone number already belongs to employee '{results[i].ConflictingEmployeeId}'.")); break;
                }
            }
        }
        rejected.Sort((a, b) => a.Row.CompareTo(b.Row));
        return TypedResults.Ok(new ImportResult(created, updated, unchanged, rejected));
    }

    private static ValidationProblem Invalid(string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [message] });

    private static async Task<List<ImportRow>> ReadCsvAsync(Stream body, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(body);
        var rows = new List<ImportRow>();
        var first = true;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var fields = SplitCsvLine(line);
            if (first && fields[0].Trim().Equals("employeeId", StringComparison.OrdinalIgnoreCase))
            {
                first = false;
                continue;
            }
            first = false;
            rows.Add(new ImportRow(Field(fields, 0), Field(fields, 1), Field(fields, 2)));
            if (rows.Count > MaxRows) break;
        }
        return rows;

        static string? Field(List<string> fields, int i) =>
            i < fields.Count && fields[i].Trim() is { Length: > 0 } value ? value : null;
    }

    /// <summary>One CSV line (RFC 4180 quoting: "a, b" and "" for a quote inside quotes).</summary>
    internal static List<string> SplitCsvLine(string line)
    {
        var fields = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { current.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else current.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(current.ToString()); current.Clear(); }
            else current.Append(c);
        }
        fields.Add(current.ToString());
        return fields;
    }
}
