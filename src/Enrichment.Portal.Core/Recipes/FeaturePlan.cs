using System.Text;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>How one source column becomes feature slots.</summary>
public enum FeatureKind { Numeric, Date, Categorical, Hashed }

/// <summary>One source column's encoding, learned on the training rows and stored in the model artifact.</summary>
public sealed record FeatureSpec
{
    public required string Name { get; init; }
    public required FeatureKind Kind { get; init; }
    /// <summary>Value used for a missing numeric/date (the training mean).</summary>
    public double Fill { get; init; }
    /// <summary>Whether a missing-indicator slot follows the value slot (numeric/date) or a missing slot is added (categorical).</summary>
    public bool MissingSlot { get; init; }
    /// <summary>Categorical levels kept; other values share one "other" slot.</summary>
    public IReadOnlyList<string> Levels { get; init; } = [];
    /// <summary>Slot count of a hashed categorical.</summary>
    public int HashSlots { get; init; }

    public int Width => Kind switch
    {
        FeatureKind.Numeric or FeatureKind.Date => MissingSlot ? 2 : 1,
        FeatureKind.Categorical => Levels.Count + 1 + (MissingSlot ? 1 : 0),
        _ => HashSlots,
    };
}

/// <summary>
/// The typed feature encoding of a model: numeric values with a missing indicator (missing filled with the training mean),
/// dates as ages in days before <see cref="ReferenceDate"/>, categoricals one-hot with levels seen in fewer than
/// <see cref="FeaturePlanBuilder.MinLevelCount"/> rows grouped into "other", or hashed into 32 slots above 100 distinct levels.
/// </summary>
public sealed record FeaturePlan(IReadOnlyList<FeatureSpec> Specs, DateTime ReferenceDate)
{
    public int Width => Specs.Sum(s => s.Width);

    /// <summary>Offset of each spec's first slot.</summary>
    public int[] Offsets()
    {
        var o = new int[Specs.Count];
        for (int i = 0, x = 0; i < Specs.Count; x += Specs[i].Width, i++) o[i] = x;
        return o;
    }

    /// <summary>Encodes one row (a lookup by column name) into the feature vector.</summary>
    public float[] Encode(Func<string, object?> get, DateTime? asOf = null) => EncodeIndexed(i => get(Specs[i].Name), asOf);

    /// <summary>Encodes one row given the raw value of spec <c>i</c> by index (the fast path for column-wise tables).</summary>
    public float[] EncodeIndexed(Func<int, object?> get, DateTime? asOf = null)
    {
        var v = new float[Width];
        var reference = asOf ?? ReferenceDate;
        var x = 0;
        for (var si = 0; si < Specs.Count; si++)
        {
            var s = Specs[si];
            var raw = get(si);
            switch (s.Kind)
            {
                case FeatureKind.Numeric:
                case FeatureKind.Date:
                    double? d = s.Kind == FeatureKind.Numeric ? ModelLake.ToDouble(raw) : ModelLake.ToDate(raw) is { } dt ? (reference - dt).TotalDays : null;
                    v[x] = (float)(d ?? s.Fill);
                    if (s.MissingSlot) v[x + 1] = d is null ? 1 : 0;
                    break;
                case FeatureKind.Categorical:
                    var t = ModelLake.ToText(raw);
                    if (t is null) { if (s.MissingSlot) v[x + s.Levels.Count + 1] = 1; }
                    else
                    {
                        var i = IndexOf(s, t);
                        v[x + (i >= 0 ? i : s.Levels.Count)] = 1;
                    }
                    break;
                case FeatureKind.Hashed:
                    var h = ModelLake.ToText(raw);
                    if (h is not null) v[x + (int)(Fnv(h) % (uint)s.HashSlots)] = 1;
                    break;
            }
            x += s.Width;
        }
        return v;
    }

    /// <summary>Level -> slot of each categorical spec, built once per spec (kept outside the record so equality is unchanged).</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<FeatureSpec, Dictionary<string, int>> LevelIndex = new();

    private static int IndexOf(FeatureSpec spec, string value)
    {
        var index = LevelIndex.GetValue(spec, s =>
        {
            var d = new Dictionary<string, int>(s.Levels.Count, StringComparer.Ordinal);
            for (var i = 0; i < s.Levels.Count; i++) d.TryAdd(s.Levels[i], i);
            return d;
        });
        return index.TryGetValue(value, out var i) ? i : -1;
    }

    internal static uint Fnv(string s)
    {
        var h = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(s)) { h ^= b; h *= 16777619u; }
        return h;
    }
}

/// <summary>Chooses the feature columns of a request and learns their encoding from training rows.</summary>
internal static class FeaturePlanBuilder
{
    public const int MinLevelCount = 10;
    public const int MaxLevels = 50;
    public const int HashThreshold = 100;

    /// <summary>Feature columns: requested features (or every field) minus identities, the key, the label and exclusions; arrays/maps/objects skipped.</summary>
    public static IReadOnlyList<SchemaField> Choose(IReadOnlyList<SchemaField> fields, TrainingRequest req, string? keyField, string? labelField, List<string> log)
    {
        var excluded = new HashSet<string>(req.ExcludeFeatures ?? [], StringComparer.Ordinal);
        var byPath = fields.ToDictionary(f => f.Path, StringComparer.Ordinal);
        IEnumerable<SchemaField> candidates = fields;
        if (req.Features is { Count: > 0 })
        {
            var missing = req.Features.Where(f => !byPath.ContainsKey(f)).ToArray();
            if (missing.Length > 0) throw new ModelTrainingException("Unknown feature(s): " + string.Join(", ", missing) + ".");
            candidates = req.Features.Select(f => byPath[f]);
        }
        var chosen = new List<SchemaField>();
        foreach (var f in candidates)
        {
            if (f.Identity is not null || f.Path == keyField) { log.Add($"feature {f.Path} skipped: identity field"); continue; }
            if (f.Path == labelField) { log.Add($"feature {f.Path} skipped: it is the label"); continue; }
            if (excluded.Contains(f.Path)) { log.Add($"feature {f.Path} excluded"); continue; }
            if (f.Type is FieldType.Array or FieldType.Map or FieldType.Object) { log.Add($"feature {f.Path} skipped: type {f.Type} is not supported"); continue; }
            chosen.Add(f);
        }
        return chosen;
    }

    public static FeatureSpec Learn(string name, FieldType type, IReadOnlyList<object?> values, IReadOnlyList<int> rows, DateTime reference)
    {
        switch (type)
        {
            case FieldType.Integer or FieldType.Number or FieldType.Boolean:
            case FieldType.Date or FieldType.DateTime:
                var isDate = type is FieldType.Date or FieldType.DateTime;
                double sum = 0; var n = 0; var missing = false;
                foreach (var r in rows)
                {
                    double? d = isDate ? ModelLake.ToDate(values[r]) is { } dt ? (reference - dt).TotalDays : null : ModelLake.ToDouble(values[r]);
                    if (d is null) missing = true; else { sum += d.Value; n++; }
                }
                return new FeatureSpec { Name = name, Kind = isDate ? FeatureKind.Date : FeatureKind.Numeric, Fill = n == 0 ? 0 : sum / n, MissingSlot = missing };
            default:
                var counts = new Dictionary<string, int>(StringComparer.Ordinal);
                var anyMissing = false;
                foreach (var r in rows)
                {
                    var t = ModelLake.ToText(values[r]);
                    if (t is null) { anyMissing = true; continue; }
                    counts[t] = counts.GetValueOrDefault(t) + 1;
                }
                if (counts.Count > HashThreshold && counts.Count(kv => kv.Value >= MinLevelCount) > MaxLevels)
                    return new FeatureSpec { Name = name, Kind = FeatureKind.Hashed, HashSlots = 32 };
                var levels = counts.Where(kv => kv.Value >= MinLevelCount)
                    .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
                    .Take(MaxLevels).Select(kv => kv.Key).ToArray();
                return new FeatureSpec { Name = name, Kind = FeatureKind.Categorical, Levels = levels, MissingSlot = anyMissing };
        }
    }
}
