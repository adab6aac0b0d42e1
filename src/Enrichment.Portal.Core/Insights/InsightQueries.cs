using System.Globalization;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Profiles;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Insights;

/// <summary>
/// One entry of a profile's insights map, read for people: the main figure by kind, the model version and when it was scored.
/// <see cref="Other"/> holds custom fields.
/// </summary>
public sealed record InsightEntry(
    string Name, double? Score, double? Value, string? Segment, double? Engagement, IReadOnlyList<string> Top,
    string? ModelVersion, DateTimeOffset? ScoredAt, IReadOnlyDictionary<string, string> Other)
{
    /// <summary>The score's top contributing features (binary models), when scoring wrote them.</summary>
    public IReadOnlyList<Recipes.ScoreReason> Reasons { get; init; } = [];
    /// <summary>Uplift models: the uplift and the treated / control probabilities.</summary>
    public double? Uplift { get; init; }
    public double? Treated { get; init; }
    public double? Control { get; init; }

    /// <summary>Reads <c>insights</c> (name -> object) as entries, ordered by name. Values of another shape become a custom field "value".</summary>
    public static IReadOnlyList<InsightEntry> From(JsonObject insights)
    {
        var list = new List<InsightEntry>();
        foreach (var (name, node) in insights.OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase))
        {
            if (node is not JsonObject o)
            {
                list.Add(new InsightEntry(name, null, null, null, null, [], null, null, new Dictionary<string, string> { ["value"] = node?.ToString() ?? "" }));
                continue;
            }
            var other = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (k, v) in o)
                if (!InsightFields.Standard.Contains(k) && !InsightFields.Reserved.Contains(k) && !InsightFields.Explanations.Contains(k)) other[k] = Text(v);
            list.Add(new InsightEntry(name, Number(o["score"]), Number(o["value"]), o["segment"] is { } s ? Text(s) : null, Number(o["engagement"]),
                o["top"] switch
                {
                    JsonArray a => a.Select(Text).Where(t => t.Length > 0).ToList(),
                    JsonValue v when v.ToString() is { Length: > 0 } t => InsightImportService.TopItems(t),
                    _ => [],
                },
                o["modelVersion"]?.ToString(), Time(o["scoredAt"]), other)
            {
                Reasons = ReasonsOf(o["reasons"]), Uplift = Number(o["uplift"]), Treated = Number(o["treated"]), Control = Number(o["control"]),
            });
        }
        return list;
    }

    private static IReadOnlyList<Recipes.ScoreReason> ReasonsOf(JsonNode? n)
    {
        // Stored as an array of objects; a profile store that flattened it to JSON text is read back too.
        if (n is JsonValue v && v.TryGetValue<string>(out var text) && text.TrimStart().StartsWith('['))
            try { n = JsonNode.Parse(text); } catch (System.Text.Json.JsonException) { return []; }
        if (n is not JsonArray a) return [];
        return a.OfType<JsonObject>().Where(r => r["feature"] is not null)
            .Select(r => new Recipes.ScoreReason(Text(r["feature"]), Text(r["direction"]), Number(r["contribution"]) ?? 0, r["value"] is null ? null : Text(r["value"]))).ToList();
    }

    private static double? Number(JsonNode? n) => n switch
    {
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v when v.TryGetValue<string>(out var s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) => p,
        _ => null,
    };

    private static DateTimeOffset? Time(JsonNode? n) =>
        n?.ToString() is { Length: > 0 } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t.ToUniversalTime() : null;

    private static string Text(JsonNode? n) => n switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => n.ToJsonString(),
    };
}

/// <summary>A model version of this sandbox a <c>modelVersion</c> points at; segmentation versions describe their segments.</summary>
public sealed record InsightModelLink(string ModelId, string ModelName, int VersionNumber, string Recipe, IReadOnlyDictionary<string, string> SegmentDescriptions);

/// <summary>Insight lookups for pages: which profiles carry insights, and which model a version id belongs to.</summary>
public sealed class InsightQueries(CatalogDb db)
{
    private const string Marker = "\"insights.";

    /// <summary>Profiles whose merged attributes hold at least one insight (newest first).</summary>
    public Task<List<string>> ProfilesWithInsightsAsync(int count = 5, string? name = null, CancellationToken ct = default)
    {
        var marker = name is null ? Marker : Marker + name + "\"";
        return db.Set<Profile>().AsNoTracking().Where(p => p.Attributes.Contains(marker)).OrderByDescending(p => p.UpdatedAt)
            .Select(p => p.Id).Take(Math.Clamp(count, 1, 100)).ToListAsync(ct);
    }

    public Task<int> CountProfilesWithInsightsAsync(CancellationToken ct = default) =>
        db.Set<Profile>().AsNoTracking().CountAsync(p => p.Attributes.Contains(Marker), ct);

    public Task<bool> AnyProfileWithInsightsAsync(CancellationToken ct = default) =>
        db.Set<Profile>().AsNoTracking().AnyAsync(p => p.Attributes.Contains(Marker), ct);

    /// <summary>The models (of this sandbox) the given version ids belong to; ids that are not versions (e.g. "external") are left out.</summary>
    public async Task<IReadOnlyDictionary<string, InsightModelLink>> ModelLinksAsync(IEnumerable<string?> versionIds, CancellationToken ct = default)
    {
        var ids = versionIds.OfType<string>().Where(v => v.Length > 0).Distinct().ToList();
        if (ids.Count == 0) return new Dictionary<string, InsightModelLink>();
        var rows = await (from v in db.Set<ModelVersion>().AsNoTracking()
                          join m in db.Set<Model>().AsNoTracking() on v.ModelId equals m.Id
                          where ids.Contains(v.Id)
                          select new { v.Id, v.ModelId, m.Name, v.Number, v.Recipe, v.RunId }).ToListAsync(ct);
        var links = new Dictionary<string, InsightModelLink>();
        foreach (var r in rows)
        {
            var segments = new Dictionary<string, string>(StringComparer.Ordinal);
            if (r.Recipe == "segmentation")
            {
                var charts = await db.Set<TrainingRun>().AsNoTracking().Where(t => t.Id == r.RunId).Select(t => t.ChartsJson).FirstOrDefaultAsync(ct);
                foreach (var c in ModelJson.Read<Recipes.ModelCharts>(charts)?.Clusters ?? [])
                    segments[c.Segment.ToString(CultureInfo.InvariantCulture)] = c.Description;
            }
            links[r.Id] = new InsightModelLink(r.ModelId, r.Name, r.Number, r.Recipe, segments);
        }
        return links;
    }
}
