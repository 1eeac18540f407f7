using System.Text.Json;
using System.Text.Json.Serialization;
using Bot.Core.Employees;
using Bot.Webhook.Employers;
using Microsoft.AspNetCore.Http.HttpResults;
using nietras.SeparatedValues;

namespace Bot.Webhook.Employees;

public sealed record ImportRow(
    string? EmployeeId, string? Phone, string? Name, string? Department = null, string? Location = null, string? Language = null,
    string? TimeZone = null, List<string?>? Tags = null);

/// <summary>A row that was not applied: its number among the data rows, why, and for CSV the line it starts on
/// and the fields at fault.</summary>
public sealed record ImportRejection(
    int Row, string Error,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Line = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Fields = null);

public sealed record ImportResult(int Created, int Updated, int Unchanged, IReadOnlyList<ImportRejection> Rejected);

/// <summary>
/// Bulk upsert from a JSON array or CSV. Every row is applied or reported; one bad row never loses the others.
/// A row replaces the employee, as <c>PUT</c> does.
/// </summary>
public static class EmployeeImport
{
    public const int MaxRows = 100_000;

    /// <summary>The CSV columns, in the order a file without a header line has them.</summary>
    public static readonly string[] Columns = ["employeeId", "phone", "name", "department", "location", "language", "timeZone", "tags"];

    internal static async Task<Results<Ok<ImportResult>, ValidationProblem>> ImportAsync(
        HttpRequest request, Employer employer, EmployeeStore employees, CancellationToken cancellationToken)
    {
        List<Input>? rows;
        try
        {
            if (request.ContentType?.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase) == true)
            {
                var (csvRows, problem) = await ReadCsvAsync(request.Body, cancellationToken);
                if (problem is not null) return Invalid(problem);
                rows = csvRows;
            }
            else
            {
                var json = await JsonSerializer.DeserializeAsync<List<ImportRow>>(request.Body, JsonSerializerOptions.Web, cancellationToken);
                rows = json?.Select(r => new Input(r, null, null)).ToList();
            }
        }
        catch (JsonException ex)
        {
            return Invalid($"The body is not a JSON array of {{employeeId, phone, name, …}} rows: {ex.Message}");
        }
        if (rows is null || rows.Count == 0) return Invalid("Send at least one row, as a JSON array or as text/csv.");
        if (rows.Count > MaxRows) return Invalid($"At most {MaxRows} rows per import.");
        // Like a row of the wrong type ([1]), a null row means the body is not what the client meant to send.
        if (rows.FindIndex(r => r.Row is null) is >= 0 and var nullAt)
            return Invalid($"Row {nullAt + 1} is null; each row is an object {{employeeId, phone, name, …}}.");

        int created = 0, updated = 0, unchanged = 0;
        var rejected = new List<ImportRejection>();
        var valid = new List<(int Row, string EmployeeId, string Phone, string? Name, EmployeeAttributes Attributes)>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var (row, line, shape) = rows[i];
            EmployeesApi.TryValidate(row.EmployeeId, row.Phone, row.Name, out var phone, out var errors);
            if (shape is not null) errors["row"] = [shape];
            var attributes = EmployeeAttributeRules.Validate(row.Department, row.Location, row.Language, row.TimeZone, row.Tags, errors);
            if (errors.Count == 0) valid.Add((i + 1, row.EmployeeId!, phone, row.Name, attributes));
            else rejected.Add(new ImportRejection(i + 1, string.Join(" ", errors.Values.SelectMany(v => v)), line, [.. errors.Keys]));
        }
        // Upserts of a chunk are issued together and so pipelined; Redis runs them in row order, so two rows with
        // one phone end the same way as one after the other.
        foreach (var chunk in valid.Chunk(500))
        {
            var results = await Task.WhenAll(chunk.Select(r => employees.UpsertAsync(employer.Id, r.EmployeeId, r.Phone, r.Name, r.Attributes)));
            for (var i = 0; i < chunk.Length; i++)
            {
                switch (results[i].Result)
                {
                    case UpsertResult.Created: created++; break;
                    case UpsertResult.Updated: updated++; break;
                    case UpsertResult.Unchanged: unchanged++; break;
                    default:
                        rejected.Add(new ImportRejection(chunk[i].Row, $"Phone number already belongs to employee '{results[i].ConflictingEmployeeId}'.",
                            rows[chunk[i].Row - 1].Line, ["phone"]));
                        break;
                }
            }
        }
        rejected.Sort((a, b) => a.Row.CompareTo(b.Row));
        return TypedResults.Ok(new ImportResult(created, updated, unchanged, rejected));
    }

    /// <summary>One row as read: for CSV the line it starts on, and what is wrong with its shape (too many fields).</summary>
    private sealed record Input(ImportRow Row, int? Line, string? Shape);

    private static ValidationProblem Invalid(string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [message] });

    /// <summary>
    /// Reads CSV with Sep (RFC 4180 quoting: commas, quotes and line breaks inside quoted fields; a UTF-8 BOM is
    /// skipped by the decoder). A first line naming <c>employeeId</c> is the header and columns are found by name,
    /// in any order; without one, the columns are <see cref="Columns"/> in that order. Each row keeps the line it
    /// starts on, so a rejection points at the file as the employer sees it.
    /// </summary>
    private static async Task<(List<Input> Rows, string? Problem)> ReadCsvAsync(Stream body, CancellationToken cancellationToken)
    {
        // The separator is fixed: Sep would otherwise guess it from the first line, and tags are ';'-separated.
        using var reader = await Sep.New(',')
            .Reader(o => o with { HasHeader = false, Unescape = true, Trim = SepTrim.All, DisableColCountCheck = true })
            .FromAsync(body, cancellationToken);
        var rows = new List<Input>();
        int[]? map = null; // column index → index into Columns
        await foreach (var record in reader.WithCancellation(cancellationToken))
        {
            var cells = new string[record.ColCount];
            for (var i = 0; i < cells.Length; i++) cells[i] = record[i].ToString();
            if (cells.All(c => c.Length == 0)) continue; // a blank line
            // Sep numbers the lines of its first row from 2; every later row's LineNumberFrom is the 1-based line.
            var line = record.RowIndex == 0 ? 1 : record.LineNumberFrom;
            if (map is null)
            {
                if (cells.Any(c => c.Equals("employeeId", StringComparison.OrdinalIgnoreCase)))
                {
                    if (HeaderProblem(cells, out map) is { } problem) return ([], $"Line {line}: {problem}");
                    continue;
                }
                map = [.. Enumerable.Range(0, Columns.Length)];
            }
            // More fields than columns is most often an unquoted comma ("Smith, John"): taking the first ones would
            // store the wrong data, so the row is rejected and says why.
            var shape = cells.Length > map.Length
                ? $"Line {line} has {cells.Length} fields but there are {map.Length} columns; quote a value that holds a comma."
                : null;
            rows.Add(new Input(ToRow(cells, map), line, shape));
            if (rows.Count > MaxRows) break;
        }
        return (rows, null);
    }

    private static string? HeaderProblem(string[] header, out int[] map)
    {
        map = new int[header.Length];
        for (var i = 0; i < header.Length; i++)
        {
            // A spreadsheet's trailing empty columns ("employeeId,phone,,") carry nothing: skipped, not refused.
            if (header[i].Length == 0)
            {
                map[i] = -1;
                continue;
            }
            var column = Array.FindIndex(Columns, c => c.Equals(header[i], StringComparison.OrdinalIgnoreCase));
            // A misspelt column would otherwise be dropped without a word, and its data with it.
            if (column < 0) return $"unknown column '{header[i]}'; the columns are {string.Join(",", Columns)}.";
            if (map.Take(i).Contains(column)) return $"column '{header[i]}' appears twice.";
            map[i] = column;
        }
        if (!map.Contains(1)) return "the header has no 'phone' column.";
        return null;
    }

    private static ImportRow ToRow(string[] cells, int[] map)
    {
        var values = new string?[Columns.Length];
        for (var i = 0; i < cells.Length && i < map.Length; i++)
            if (map[i] >= 0) values[map[i]] = cells[i].Length > 0 ? cells[i] : null;
        return new ImportRow(values[0], values[1], values[2], values[3], values[4], values[5], values[6],
            values[7]?.Split(EmployeeAttributeRules.TagSeparator, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList<string?>());
    }
}
