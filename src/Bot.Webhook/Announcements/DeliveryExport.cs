using System.Globalization;
using Bot.Core;
using Bot.Core.Acknowledgements;
using Bot.Core.Announcements;
using Bot.Core.Deliveries;
using Bot.Core.Employees;
using Bot.Webhook.Employers;
using Microsoft.AspNetCore.Http.HttpResults;
using nietras.SeparatedValues;

namespace Bot.Webhook.Announcements;

/// <summary>
/// <c>GET /api/announcements/{id}/deliveries.csv</c>: one line per target, written while the targets are read page
/// by page, so a 100,000-employee announcement costs a page of memory, not the whole file (bench scenario 9).
/// </summary>
public static class DeliveryExport
{
    public const string ContentType = "text/csv; charset=utf-8";

    public static readonly string[] Header =
        ["employeeId", "name", "department", "location", "state", "form", "error", "messageId", "sentAt", "deliveredAt", "readAt", "acknowledgedAt", "attempts", "language"];

    /// <summary>Targets read (and lines flushed to the client) per step: one LRANGE, one MGET, one pipelined HMGET batch and one HMGET of the taps.</summary>
    private const int PageSize = 500;

    internal static async Task<Results<PushStreamHttpResult, NotFound>> ExportAsync(
        string id, Employer employer, AnnouncementStore announcements, EmployeeStore employees, DeliveryStore deliveries,
        AcknowledgementStore acknowledgements, HttpContext http)
    {
        if (!Ids.IsValid(id) || await announcements.GetAsync(employer.Id, id) is null) return TypedResults.NotFound();
        return TypedResults.Stream(
            body => WriteAsync(body, employer.Id, id, announcements, employees, deliveries, acknowledgements, http.RequestAborted),
            ContentType, $"deliveries-{id}.csv");
    }

    private static async Task WriteAsync(Stream body, string employerId, string id,
        AnnouncementStore announcements, EmployeeStore employees, DeliveryStore deliveries, AcknowledgementStore acknowledgements,
        CancellationToken cancellationToken)
    {
        // Async all the way (Kestrel forbids synchronous writes): rows are disposed, the header written and the
        // writer flushed and disposed asynchronously.
        await using var writer = Sep.New(',').Writer(o => o with { Escape = true }).To(body, leaveOpen: true);
        writer.Header.Add(Header);
        await writer.Header.WriteAsync(cancellationToken);
        for (long offset = 0; ; offset += PageSize)
        {
            var ids = await announcements.TargetsAsync(id, offset, offset + PageSize - 1);
            if (ids.Length == 0) break;
            var records = deliveries.GetManyAsync(id, ids);
            var people = employees.GetManyAsync(employerId, ids);
            var acknowledged = acknowledgements.AcknowledgedAtAsync(id, ids);
            await Task.WhenAll(records, people, acknowledged);
            var attempts = await deliveries.AttemptsAsync(id, ids, records.Result);
            var languages = await deliveries.LanguagesAsync(id, ids);
            for (var i = 0; i < ids.Length; i++)
                await WriteLineAsync(writer, ToLine(ids[i], people.Result[i], records.Result[i], acknowledged.Result[i], attempts[i]) with { Language = languages[i] });
            await writer.FlushAsync(cancellationToken);
        }
    }

    /// <summary>One exported line, before escaping.</summary>
    private sealed record Line(
        string EmployeeId, string? Name, string? Department, string? Location, string State, string? Form, string? Error, string? MessageId,
        DateTimeOffset? SentAt, DateTimeOffset? DeliveredAt, DateTimeOffset? ReadAt, DateTimeOffset? AcknowledgedAt, int Attempts)
    {
        /// <summary>The template variant's language it was sent as; empty for text.</summary>
        public string? Language { get; init; }
    }

    /// <summary>
    /// What the delivery record knows: its state with the time it reached it (a record keeps one timestamp, so
    /// a delivered one shows deliveredAt but not when it was sent).
    /// </summary>
    private static Line ToLine(string employeeId, Employee? employee, DeliveryRecord? record, DateTimeOffset? acknowledgedAt, int attempts) => new(
        employeeId, employee?.Name, employee?.Attributes.Department, employee?.Attributes.Location,
        record?.State.Name() ?? "pending",
        record?.Form,
        record?.Error, record?.MessageId,
        SentAt: record is { State: DeliveryState.Sent } ? record.UpdatedAt : null,
        DeliveredAt: record is { State: DeliveryState.Delivered } ? record.UpdatedAt : null,
        ReadAt: record is { State: DeliveryState.Read } ? record.UpdatedAt : null,
        AcknowledgedAt: acknowledgedAt,
        Attempts: attempts);

    private static ValueTask WriteLineAsync(SepWriter writer, Line line)
    {
        // A ref struct: filled here, outside the async caller, and handed back as the ValueTask that writes it.
        var row = writer.NewRow();
        row["employeeId"].Set(Cell(line.EmployeeId));
        row["name"].Set(Cell(line.Name));
        row["department"].Set(Cell(line.Department));
        row["location"].Set(Cell(line.Location));
        row["state"].Set(line.State);
        row["form"].Set(Cell(line.Form));
        row["error"].Set(Cell(line.Error));
        row["messageId"].Set(Cell(line.MessageId));
        row["sentAt"].Set(Time(line.SentAt));
        row["deliveredAt"].Set(Time(line.DeliveredAt));
        row["readAt"].Set(Time(line.ReadAt));
        row["acknowledgedAt"].Set(Time(line.AcknowledgedAt));
        row["attempts"].Set(line.Attempts.ToString(CultureInfo.InvariantCulture));
        row["language"].Set(Cell(line.Language));
        return row.DisposeAsync();
    }

    /// <summary>
    /// A spreadsheet runs a cell that starts with = + - or @ as a formula (CSV injection); a leading ' makes it
    /// text. Names and departments come from employers' HR files, so any of them may start that way.
    /// </summary>
    internal static string Cell(string? value) =>
        value is [('=' or '+' or '-' or '@'), ..] ? "'" + value : value ?? "";

    private static string Time(DateTimeOffset? at) =>
        at?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) ?? "";
}
