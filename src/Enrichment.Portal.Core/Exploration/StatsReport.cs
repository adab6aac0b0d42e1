using System.Text.Json;
using System.Text.Json.Serialization;

namespace Enrichment.Portal.Core.Exploration;

/// <summary>A column in the API.md shape: <c>targetSignal</c> is a number (AUC or correlation), its kind beside it.</summary>
public sealed record ColumnReport
{
    public required string Name { get; init; }
    public required string Type { get; init; }
    public string? DuckDbType { get; init; }
    public double Completeness { get; init; }
    public long NonNull { get; init; }
    public long Distinct { get; init; }
    public JsonElement? Min { get; init; }
    public JsonElement? Max { get; init; }
    public double? Mean { get; init; }
    public double? Stddev { get; init; }
    public Quartiles? Quartiles { get; init; }
    public double? OutlierShare { get; init; }
    public IReadOnlyList<TopValue> TopValues { get; init; } = [];
    public IReadOnlyList<HistogramBin> Histogram { get; init; } = [];
    public double? TargetSignal { get; init; }
    /// <summary><c>auc</c> or <c>correlation</c>.</summary>
    public string? TargetSignalKind { get; init; }
    public long RejectedRecords { get; init; }
    public IReadOnlyList<string> Warnings { get; init; } = [];

    [JsonIgnore] public bool IsNumeric => Mean is not null;
    [JsonIgnore] public bool PossibleLeak => Warnings.Contains(ColumnWarnings.PossibleLeak);
}

/// <summary>A column's rank by its single-column signal.</summary>
public sealed record RankReport(string Column, string Kind, double Value, bool PossibleLeak);

/// <summary>
/// <c>GET /api/v1/datasets/{id}/stats</c>: <see cref="DatasetStats"/> in the API.md shape, as cached per dataset version.
/// </summary>
public sealed record StatsReport
{
    public required string DatasetId { get; init; }
    public required string DatasetName { get; init; }
    public long Rows { get; init; }
    public IReadOnlyList<ColumnReport> Columns { get; init; } = [];
    public IReadOnlyList<RankReport> TargetRanking { get; init; } = [];
    public string? Target { get; init; }
    public string? TargetKind { get; init; }
    public string? TargetPositive { get; init; }
    public bool Exact { get; init; }
    public long ElapsedMs { get; init; }
    public DateTimeOffset ComputedAt { get; init; }
    /// <summary>True when this answer came from the cache.</summary>
    public bool Cached { get; init; }
    /// <summary>Batches whose rejected rows were counted into <see cref="ColumnReport.RejectedRecords"/>.</summary>
    public int BatchCount { get; init; }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static StatsReport From(string datasetId, string datasetName, int batches, DatasetStats s, DateTimeOffset computedAt)
    {
        var leaks = s.Columns.Where(c => c.Warnings.Contains(ColumnWarnings.PossibleLeak)).Select(c => c.Name).ToHashSet();
        return new StatsReport
        {
            DatasetId = datasetId,
            DatasetName = datasetName,
            Rows = s.Rows,
            Columns = s.Columns.Select(c => new ColumnReport
            {
                Name = c.Name, Type = c.Type, DuckDbType = c.DuckDbType, Completeness = c.Completeness, NonNull = c.NonNull,
                Distinct = c.Distinct, Min = Element(c.Min), Max = Element(c.Max), Mean = Finite(c.Mean), Stddev = Finite(c.Stddev),
                Quartiles = c.Quartiles, OutlierShare = Finite(c.OutlierShare), TopValues = c.TopValues, Histogram = c.Histogram,
                TargetSignal = Finite(c.TargetSignal?.Value), TargetSignalKind = c.TargetSignal?.Kind, RejectedRecords = c.RejectedRecords,
                Warnings = c.Warnings,
            }).ToList(),
            TargetRanking = s.TargetRanking.Select(r => new RankReport(r.Column, r.Signal.Kind, r.Signal.Value, leaks.Contains(r.Column))).ToList(),
            Target = s.Target, TargetKind = s.TargetKind, TargetPositive = s.TargetPositive, Exact = s.Exact, ElapsedMs = s.ElapsedMs,
            ComputedAt = computedAt, BatchCount = batches,
        };
    }

    private static double? Finite(double? v) => v is { } d && (double.IsNaN(d) || double.IsInfinity(d)) ? null : v;

    private static JsonElement? Element(object? value) => value switch
    {
        null => null,
        double d when double.IsNaN(d) || double.IsInfinity(d) => null,
        _ => JsonSerializer.SerializeToElement(value, value.GetType(), Json),
    };
}
