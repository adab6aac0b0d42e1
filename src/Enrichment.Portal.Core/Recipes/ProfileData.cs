using System.Globalization;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>
/// The training table of a profile-feature recipe, read with one DuckDB query: the key, the label and the feature
/// columns of the profile-like source, LEFT JOINed with per-profile event aggregates as of the cutoff (when an event
/// dataset is given). Only the needed columns are read.
/// </summary>
internal sealed class ProfileData
{
    private Table? _table;
    /// <summary>The rows as read (boxed values). Recipes that encode everything up front call <see cref="ReleaseTable"/> after
    /// encoding: on 1M x 50 rows it is ~50M small objects that every full GC would otherwise walk during the fits.</summary>
    public required Table Table
    {
        get => _table ?? throw new InvalidOperationException("The source table was released after encoding.");
        init => _table = value;
    }

    /// <summary>Drops the boxed source table (keys and labels stay available through <see cref="Labels"/>).</summary>
    public void ReleaseTable() => _table = null;
    public required string? KeyField { get; init; }
    /// <summary>Feature columns and their types (source fields, then event aggregates).</summary>
    public required IReadOnlyList<(string Name, FieldType Type)> FeatureColumns { get; init; }
    public required IReadOnlyList<SchemaField> InputFields { get; init; }
    public bool[]? Labels { get; init; }
    public EventColumns? EventColumns { get; init; }
    public IReadOnlyList<string> EventTypes { get; init; } = [];
    public DateTime? Cutoff { get; init; }
    public DateTime Reference { get; init; }
    /// <summary>Records of the source, the rows kept (one per profile when deduplicated), and how those were reduced.</summary>
    public required DataCounts Counts { get; init; }

    public const string LabelColumn = "__label";
    public const string KeyColumn = "__key";
    /// <summary>A column read beside the features (e.g. the treatment of the uplift recipe), not a feature.</summary>
    public const string ExtraColumn = "__extra";

    public static ProfileData Load(TrainingRun run, bool labelRequired, string? extraColumn = null)
    {
        var req = run.Request;
        if (req.SourceGlobs.Count == 0) throw new ModelTrainingException("The recipe needs a profile-like source (snapshot or dataset).");
        using var c = ModelLake.Open();
        var present = ModelLake.Describe(c, req.SourceGlobs).Select(x => x.Name).ToHashSet(StringComparer.Ordinal);
        var fields = (req.SourceFields ?? ModelLake.InferFields(c, req.SourceGlobs)).Where(f => present.Contains(f.Path)).ToArray();
        var keyField = req.KeyField ?? fields.FirstOrDefault(f => f.Identity is { Primary: true })?.Path;
        if (keyField is not null && !present.Contains(keyField)) throw new ModelTrainingException($"The key column '{keyField}' is not in the source.");
        if (req.Label is { } lab && !present.Contains(lab.Field)) throw new ModelTrainingException($"The label column '{lab.Field}' is not in the source.");

        var p = run.P;
        EventColumns? ev = null; IReadOnlyList<string> types = []; DateTime? cutoff = p.Date("cutoff");
        if (req.Events is { } events)
        {
            if (keyField is null) throw new ModelTrainingException("Event features need a key column on the source to join events to profiles (keyField or a primary identity).");
            if (cutoff is null) throw new ModelTrainingException("Parameter 'cutoff' is required when an event dataset is used: features are computed as of the cutoff.");
            ev = EventColumns.Resolve(c, events, p, amountRequired: false);
            types = EventFeatures.TopEventTypes(c, ev, events.ParquetGlobs, cutoff.Value);
            run.Log.Add("event aggregates as of " + cutoff.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "; " + EventFeatures.Describe(types));
        }

        var features = FeaturePlanBuilder.Choose(fields, extraColumn is null ? req : req with { ExcludeFeatures = [.. req.ExcludeFeatures ?? [], extraColumn] }, keyField, req.Label?.Field, run.Log);
        var select = new List<string> { (keyField is null ? "row_number() OVER () - 1" : "CAST(s." + ModelLake.Quote(keyField) + " AS VARCHAR)") + " AS " + KeyColumn };
        select.AddRange(features.Select(f => "s." + ModelLake.Quote(f.Path)));
        // A profile-class dataset ingested twice holds two records of each profile: keep one per key (the newest), so that
        // counts are profiles and no profile lands on both sides of the split.
        var dedupe = req.OnePerProfile && keyField is not null;
        var sourceRelation = dedupe ? ModelLake.NewestPerKey(req.SourceGlobs, keyField!) : ModelLake.ReadParquet(req.SourceGlobs);
        var from = sourceRelation + " s";
        var counted = ModelLake.Query(c, "SELECT count(*) AS n, " + (dedupe ? $"count(*) FILTER (WHERE {ModelLake.Quote(keyField!)} IS NULL)" : "0") +
                                         " AS keyless FROM " + ModelLake.ReadParquet(req.SourceGlobs), run.Ct);
        var records = Convert.ToInt64(counted.Column("n")[0], CultureInfo.InvariantCulture);
        var keyless = Convert.ToInt64(counted.Column("keyless")[0], CultureInfo.InvariantCulture);
        long unlabeled = 0;
        var where = "";
        if (req.Label is { } lab2)
        {
            // Rows without a label are not negatives: they are left out, and counted.
            var l = "s." + ModelLake.Quote(lab2.Field);
            var missing = $"({l} IS NULL OR trim(CAST({l} AS VARCHAR)) = '')";
            var counts = ModelLake.Query(c, $"SELECT count(*) AS n, count(*) FILTER (WHERE {missing}) AS m FROM {sourceRelation} s", run.Ct);
            unlabeled = Convert.ToInt64(counts.Column("m")[0], CultureInfo.InvariantCulture);
            where = $" WHERE NOT {missing}";
        }
        var featureCols = features.Select(f => (Name: f.Path, f.Type)).ToList();
        if (ev is not null)
        {
            var names = EventFeatures.Names(types);
            select.AddRange(names.Select(n => n is "ev_recency_days" or "ev_days_since_first" ? "a." + n : $"coalesce(a.{n}, 0) AS {n}"));
            from += $" LEFT JOIN {EventFeatures.Sql(ev, req.Events!.ParquetGlobs, cutoff!.Value, types)} a ON CAST(s.{ModelLake.Quote(keyField!)} AS VARCHAR) = a.k";
            featureCols.AddRange(names.Select(n => (n, FieldType.Number)));
        }
        if (extraColumn is not null)
        {
            if (!present.Contains(extraColumn)) throw new ModelTrainingException($"The column '{extraColumn}' is not in the source.");
            select.Add("s." + ModelLake.Quote(extraColumn) + " AS " + ExtraColumn);
        }
        if (req.Label is { } label) select.Add("s." + ModelLake.Quote(label.Field) + " AS " + LabelColumn);
        else if (labelRequired)
        {
            if (ev is null) throw new ModelTrainingException("A label is required: give label {field, positive} or an event label (eventDatasetId, cutoff, windowDays).");
            var window = p.Int("windowDays") ?? throw new ModelTrainingException("Parameter 'windowDays' is required for a label from events.");
            if (window <= 0) throw new ModelTrainingException("Parameter 'windowDays' must be positive.");
            var type = p.String("eventType");
            var cond = $"ts > {ModelLake.Ts(cutoff!.Value)} AND ts <= {ModelLake.Ts(cutoff.Value.AddDays(window))}" + (type is null ? "" : " AND et = " + ModelLake.Literal(type));
            var any = $"CAST(s.{ModelLake.Quote(keyField!)} AS VARCHAR) IN (SELECT k FROM {ev.Relation(req.Events!.ParquetGlobs)} WHERE {cond})";
            select.Add((req.Recipe == Recipe.Churn ? "NOT " : "") + $"({any}) AS {LabelColumn}");
            run.Log.Add($"label from events: {(req.Recipe == Recipe.Churn ? "churned = no" : "converted = an")} {type ?? "event"} in (cutoff, cutoff + {window} days]");
        }
        // A join does not keep the source order: order by key so splits (and so metrics) are deterministic.
        var order = ev is not null || dedupe ? " ORDER BY " + KeyColumn : "";
        var table = ModelLake.Query(c, $"SELECT {string.Join(", ", select)} FROM {from}{where}{order}", run.Ct);
        if (table.Rows == 0)
            throw new ModelTrainingException(unlabeled > 0 ? $"No row of the source has a value in the label '{req.Label!.Field}'." : "The source has no rows.");
        var unit = dedupe ? "profiles" : "rows";
        if (dedupe) run.Log.Add($"{records} records in the source, {table.Rows + unlabeled} profiles (the newest record per {keyField})");
        if (keyless > 0) run.Log.Add($"{keyless} records without a {keyField} left out: they join no profile, so no insight could be written back for them");
        if (unlabeled > 0) run.Log.Add($"{unlabeled} {unit} without a value in the label '{req.Label!.Field}' left out; {table.Rows} {unit} train and test");

        bool[]? labels = null;
        if (table.Has(LabelColumn))
        {
            var raw = table.Column(LabelColumn);
            var positive = req.Label?.Positive;
            if (req.Label is not null && string.IsNullOrWhiteSpace(positive)
                && raw.FirstOrDefault(v => v is not null and not bool && ModelLake.ToDouble(v) is not (0 or 1)) is { } ambiguous)
                throw new ModelTrainingException($"Choose the positive class: label.positive is required for the label '{req.Label.Field}' (it holds values such as '{ModelLake.ToText(ambiguous)}', not only true/false or 0/1).");
            labels = raw.Select(v => IsPositive(v, string.IsNullOrWhiteSpace(positive) ? null : positive)).ToArray();
        }
        var dates = featureCols.Where(f => f.Type is FieldType.Date or FieldType.DateTime).SelectMany(f => table.Column(f.Name)).Select(ModelLake.ToDate).Where(d => d is not null).ToArray();
        var reference = cutoff ?? (dates.Length > 0 ? dates.Max()!.Value.Date.AddDays(1) : new DateTime(2000, 1, 1));
        return new ProfileData
        {
            Table = table, KeyField = keyField, FeatureColumns = featureCols, Labels = labels, EventColumns = ev, EventTypes = types,
            Cutoff = cutoff, Reference = reference,
            Counts = new DataCounts(unit, records, table.Rows, unlabeled, dedupe ? keyField : null),
            InputFields = features.Concat(keyField is null ? [] : fields.Where(f => f.Path == keyField)).ToArray(),
        };
    }

    public static bool IsPositive(object? v, string? positive)
    {
        if (v is null) return false;
        if (positive is not null)
        {
            var t = ModelLake.ToText(v);
            if (v is bool b)
            {
                var want = positive.Trim().ToLowerInvariant() is "true" or "1" or "yes" or "y";
                return b == want;
            }
            if (string.Equals(t, positive, StringComparison.OrdinalIgnoreCase)) return true;
            return ModelLake.ToDouble(v) is { } d && double.TryParse(positive, NumberStyles.Float, CultureInfo.InvariantCulture, out var pd) && d == pd;
        }
        return v switch
        {
            bool b => b,
            string s => s.Trim().ToLowerInvariant() is "yes" or "true" or "1" or "y",
            _ => ModelLake.ToDouble(v) is { } d && d != 0,
        };
    }

    public FeaturePlan LearnPlan(IReadOnlyList<int> rows) =>
        new(FeatureColumns.Select(f => FeaturePlanBuilder.Learn(f.Name, f.Type, Table.Column(f.Name), rows, Reference)).ToArray(), Reference);

    public float[][] EncodeAll(FeaturePlan plan)
    {
        var cols = plan.Specs.Select(s => Table.Column(s.Name)).ToArray();
        var result = new float[Table.Rows][];
        // Rows are independent: encode them in parallel, each column looked up by the spec's index (no name search per value).
        Parallel.For(0, Table.Rows, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, r =>
            result[r] = plan.EncodeIndexed(i => cols[i][r]));
        return result;
    }

    public string[] Keys => Table.Column(KeyColumn).Select(v => ModelLake.ToText(v) ?? "").ToArray();
}
