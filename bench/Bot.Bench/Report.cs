using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bot.Bench;

public sealed record Metric(string Name, double Value, string Unit, string? Target = null, bool? Met = null);

public sealed record Check(string Name, bool Passed, string Detail);

/// <summary>What one scenario measured and checked, as printed in the table and written to the JSON file.</summary>
public sealed class ScenarioResult(string id, string title)
{
    public string Id { get; } = id;
    public string Title { get; } = title;
    public Dictionary<string, string> Settings { get; } = [];
    public List<Metric> Metrics { get; } = [];
    public List<Check> Checks { get; } = [];
    public List<string> Notes { get; } = [];
    public Dictionary<string, double> CommandsPerDelivery { get; set; } = [];
    public string LoadAverageBefore { get; set; } = "";
    public string LoadAverageAfter { get; set; } = "";
    public double Seconds { get; set; }

    /// <summary>Share of the machine's CPU (all cores) that processes other than the bench's used during the scenario.</summary>
    public double OthersCpuPercent { get; set; }

    public void Add(string name, double value, string unit, string? target = null, bool? met = null) =>
        Metrics.Add(new Metric(name, value, unit, target, met));

    public void Require(string name, bool passed, string detail) => Checks.Add(new Check(name, passed, detail));

    [JsonIgnore]
    public bool Correct => Checks.All(c => c.Passed);
}

public sealed record MachineInfo(int Cores, string CpuModel, string RedisVersion, string RedisArguments, string DotnetVersion, string Os);

public sealed record BenchReport(string Mode, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, MachineInfo Machine, IReadOnlyList<ScenarioResult> Scenarios);

public static class ReportWriter
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static async Task WriteJsonAsync(BenchReport report, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, Json));
    }

    public static string Table(BenchReport report)
    {
        var rows = new List<string[]> { new[] { "scenario", "metric", "value", "target", "" } };
        foreach (var s in report.Scenarios)
        {
            foreach (var m in s.Metrics)
                rows.Add([s.Id, m.Name, Format(m.Value, m.Unit), m.Target ?? "", m.Met switch { true => "ok", false => "MISSED", null => "" }]);
        }
        var widths = Enumerable.Range(0, 5).Select(i => rows.Max(r => r[i].Length)).ToArray();
        var sb = new StringBuilder();
        foreach (var (row, index) in rows.Select((r, i) => (r, i)))
        {
            sb.AppendLine(string.Join("  ", row.Select((cell, i) => i == 2 ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]))).TrimEnd());
            if (index == 0) sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        }
        foreach (var s in report.Scenarios)
            sb.AppendLine($"load [{s.Id}] {s.Seconds:N1} s; other processes used {s.OthersCpuPercent:N0}% of the machine's CPU; load average {s.LoadAverageBefore} → {s.LoadAverageAfter}");
        foreach (var s in report.Scenarios)
        {
            foreach (var c in s.Checks) sb.AppendLine($"check [{s.Id}] {c.Name}: {(c.Passed ? "ok" : "FAILED")} ({c.Detail})");
        }
        foreach (var s in report.Scenarios.Where(s => s.Notes.Count > 0))
        {
            foreach (var note in s.Notes) sb.AppendLine($"note [{s.Id}] {note}");
        }
        return sb.ToString();
    }

    public static string Format(double value, string unit)
    {
        var number = Math.Abs(value) >= 100 || value == Math.Floor(value)
            ? value.ToString("N0", CultureInfo.InvariantCulture)
            : value.ToString("N2", CultureInfo.InvariantCulture);
        return unit.Length == 0 ? number : $"{number} {unit}";
    }
}
