using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Audiences;

/// <summary>A value of a field and how many profiles of the sample hold it.</summary>
public sealed record TopValue(string Value, long Count);

/// <summary>
/// Value suggestions for the rule builder: the most frequent values of a text attribute, counted over the first
/// <see cref="SampleSize"/> profiles of the sandbox (one indexed range read and a GROUP BY in the database; answers within a
/// second at any sandbox size). An unknown or non-text field has no suggestions.
/// </summary>
public sealed class AudienceValueSuggestions(Catalog.CatalogDb db, AudienceEvaluator evaluator)
{
    public const int SampleSize = 20_000;

    public async Task<IReadOnlyList<TopValue>> TopValuesAsync(string? path, int limit = 10, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(path)) return [];
        var catalog = await evaluator.CatalogAsync(ct);
        if (!catalog.Attributes.TryGetValue(path, out var field) || field.Kind != ValueKind.String) return [];
        var sqlite = db.Database.ProviderName?.Contains("Sqlite", StringComparison.OrdinalIgnoreCase) == true;
        var sandbox = db.Sandbox.Require();
        limit = Math.Clamp(limit, 1, 50);
        // Attributes are kept flat: the dotted path is one key of the JSON object.
        var sql = sqlite
            ? "SELECT v AS \"Value\", COUNT(*) AS \"Count\" FROM (SELECT json_extract(attributes, {0}) AS v FROM profiles WHERE sandbox_id = {1} LIMIT {2}) s WHERE v IS NOT NULL AND typeof(v) = 'text' GROUP BY v ORDER BY COUNT(*) DESC, v LIMIT {3}"
            : "SELECT v AS \"Value\", COUNT(*) AS \"Count\" FROM (SELECT attributes::jsonb ->> {0} AS v FROM profiles WHERE sandbox_id = {1} LIMIT {2}) s WHERE v IS NOT NULL GROUP BY v ORDER BY COUNT(*) DESC, v LIMIT {3}";
        var key = sqlite ? "$.\"" + path.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"" : path;
        return await db.Database.SqlQueryRaw<TopValue>(sql, key, sandbox, SampleSize, limit).ToListAsync(ct);
    }
}
