using System.Collections;
using System.Globalization;
using Enrichment.Portal.Core.Query;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Exploration;

/// <summary>One column being profiled: the SQL it contributes and the figures gathered so far.</summary>
internal sealed class ColumnPlan(string name, string duckDbType, FieldType fieldType, bool present)
{
    public string Name { get; } = name;
    public string DuckDbType { get; } = duckDbType;
    public FieldType FieldType { get; } = fieldType;
    public bool Present { get; } = present;
    public string Quoted { get; } = LockedDownDatabase.Identifier(name);
    public bool IsNumeric => Present && DuckDbTypes.IsNumeric(DuckDbType);
    private bool IsComplex => DuckDbTypes.ToFieldType(DuckDbType).Type is FieldType.Array or FieldType.Map or FieldType.Object;
    /// <summary>DATE or TIMESTAMP* in the Parquet data (the schema type is not trusted for SQL).</summary>
    public bool IsTemporal => Present && (DuckDbType.Equals("DATE", StringComparison.OrdinalIgnoreCase) || IsTimestamp);
    private bool IsTimestamp => DuckDbType.StartsWith("TIMESTAMP", StringComparison.OrdinalIgnoreCase);

    public long NonNull { get; private set; }
    public long Distinct { get; private set; }
    public object? MinValue { get; private set; }
    public object? MaxValue { get; private set; }
    public double? Mean { get; private set; }
    public double? Stddev { get; private set; }
    public Quartiles? Quartiles { get; private set; }
    public double? OutlierShare { get; set; }
    public double? ExtremeShare { get; set; }
    public IReadOnlyList<TopValue> TopValues { get; set; } = [];
    public IReadOnlyList<HistogramBin> Histogram { get; set; } = [];
    public TargetSignal? Signal { get; set; }

    /// <summary>Aggregates of the single statistics scan, read back in the same order by <see cref="ReadAggregates"/>.</summary>
    public IEnumerable<string> AggregateExpressions(bool exact)
    {
        var q = Quoted;
        var distinctOf = IsComplex ? $"CAST({q} AS VARCHAR)" : q;
        yield return $"count({q})";
        yield return exact ? $"count(DISTINCT {distinctOf})" : $"approx_count_distinct({distinctOf})";
        if (IsNumeric)
        {
            yield return $"min({q})::DOUBLE";
            yield return $"max({q})::DOUBLE";
            yield return $"avg({q}::DOUBLE)";
            yield return $"stddev_samp({q}::DOUBLE)";
            yield return exact ? $"quantile_cont({q}::DOUBLE, [0.25, 0.5, 0.75])" : $"approx_quantile({q}::DOUBLE, [0.25, 0.5, 0.75])";
        }
        else if (IsComplex)
        {
            yield return "NULL";
            yield return "NULL";
        }
        else if (IsTimestamp)
        {
            yield return $"strftime(min({q})::TIMESTAMP, '%Y-%m-%dT%H:%M:%S')";
            yield return $"strftime(max({q})::TIMESTAMP, '%Y-%m-%dT%H:%M:%S')";
        }
        else
        {
            yield return $"CAST(min({q}) AS VARCHAR)";
            yield return $"CAST(max({q}) AS VARCHAR)";
        }
    }

    public int ReadAggregates(object?[] values, int offset)
    {
        NonNull = Convert.ToInt64(values[offset++], CultureInfo.InvariantCulture);
        Distinct = Convert.ToInt64(values[offset++] ?? 0L, CultureInfo.InvariantCulture);
        if (IsNumeric)
        {
            MinValue = values[offset++] as double?;
            MaxValue = values[offset++] as double?;
            Mean = values[offset++] as double?;
            Stddev = values[offset++] as double?;
            if (values[offset++] is IList { Count: 3 } q && q[0] is double q1 && q[1] is double q2 && q[2] is double q3)
                Quartiles = new Quartiles(q1, q2, q3);
        }
        else
        {
            MinValue = values[offset++] as string;
            MaxValue = values[offset++] as string;
        }
        return offset;
    }

    /// <summary>Counts beyond the Tukey fences and beyond mean ± 4 sd (two expressions).</summary>
    public IEnumerable<string> OutlierExpressions()
    {
        var (q1, q3) = (Quartiles!.Q1, Quartiles.Q3);
        var iqr = q3 - q1;
        var x = $"{Quoted}::DOUBLE";
        yield return $"count(*) FILTER (WHERE {x} < {DatasetStatistics.D(q1 - 1.5 * iqr)} OR {x} > {DatasetStatistics.D(q3 + 1.5 * iqr)})";
        yield return Stddev is double sd && sd > 0 && Mean is double mean
            ? $"count(*) FILTER (WHERE abs({x} - {DatasetStatistics.D(mean)}) > {DatasetStatistics.D(4 * sd)})"
            : "0";
    }

    public ColumnStats ToStats(long rows, StatsOptions options)
    {
        var warnings = new List<string>();
        var completeness = rows == 0 ? 0 : (double)NonNull / rows;
        var rejected = Rejected(options.RejectedByField);
        if (rejected > 0) warnings.Add(ColumnWarnings.RejectedRecords);
        if (!Present) warnings.Add(ColumnWarnings.MissingColumn);
        if (Signal is { } s && s.Value >= (s.Kind == "auc" ? options.LeakAuc : options.LeakCorrelation))
            warnings.Add(ColumnWarnings.PossibleLeak);
        if (Present && Distinct <= 1) warnings.Add(ColumnWarnings.Constant);
        if (NonNull >= 20 && FieldType is FieldType.String or FieldType.Integer && (double)Distinct / NonNull >= options.IdLikeDistinctShare)
            warnings.Add(ColumnWarnings.IdLike);
        if (completeness < options.HighMissingBelow) warnings.Add(ColumnWarnings.HighMissing);
        var maxZ = Stddev is double sd && sd > 0 && Mean is double mean && MinValue is double min && MaxValue is double max
            ? Math.Max(max - mean, mean - min) / sd
            : 0;
        if (ExtremeShare is double extreme && extreme > options.ExtremeShareWarning || maxZ >= options.ExtremeZWarning)
            warnings.Add(ColumnWarnings.Outliers);

        return new ColumnStats
        {
            Name = Name,
            Type = JsonName(FieldType),
            DuckDbType = DuckDbType,
            Completeness = Math.Round(completeness, 6),
            NonNull = NonNull,
            Distinct = Distinct,
            Min = MinValue,
            Max = MaxValue,
            Mean = Mean,
            Stddev = Stddev,
            Quartiles = Quartiles,
            OutlierShare = OutlierShare is double o ? Math.Round(o, 6) : null,
            ExtremeShare = ExtremeShare is double e ? Math.Round(e, 6) : null,
            TopValues = TopValues,
            Histogram = Histogram,
            TargetSignal = Signal,
            RejectedRecords = rejected,
            Warnings = warnings,
        };
    }

    private long Rejected(IReadOnlyDictionary<string, long>? map)
    {
        if (map is null) return 0;
        if (map.TryGetValue(Name, out var exact)) return exact;
        return map.Where(kv => string.Equals(kv.Key, Name, StringComparison.OrdinalIgnoreCase)).Sum(kv => kv.Value);
    }

    private static string JsonName(FieldType type) => type switch
    {
        FieldType.DateTime => "datetime",
        _ => type.ToString().ToLowerInvariant(),
    };
}
