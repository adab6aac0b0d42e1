using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Datasets;

/// <summary>One guardrail with its usage, in the shape of <c>GET /api/v1/guardrails</c> items.</summary>
public sealed record GuardrailReading(string Name, long Limit, long Current, string Unit, string Status, string Enforcement)
{
    public static GuardrailReading Of(string name, long limit, long current, string unit, bool hard) =>
        new(name, limit, current, unit, current > limit ? "exceeded" : current >= limit * 0.8 ? "warning" : "ok", hard ? "hard" : "soft");
}

/// <summary>Per schema: how many fields it has.</summary>
public sealed record SchemaFieldUsage(string SchemaId, string Name, int Fields);

/// <summary>The catalog's guardrails counted now (shown later by the guardrail panel): fields per schema, datasets per sandbox by class.</summary>
public sealed class GuardrailUsage(CatalogDb db, IOptions<GuardrailOptions> options)
{
    public const string ProfileDatasets = "profile datasets per sandbox";
    public const string EventDatasets = "event datasets per sandbox";

    /// <summary>Datasets of the sandbox (system ones included) by the class of their schema.</summary>
    public async Task<(int Profile, int Event)> DatasetsByClassAsync(CancellationToken ct = default)
    {
        var rows = await (from d in db.Set<Dataset>().AsNoTracking().Where(d => d.DeletedAt == null)
                          join s in db.Set<Schema>().AsNoTracking() on d.SchemaId equals s.Id
                          group d by s.Class into g
                          select new { Class = g.Key, Count = g.Count() }).ToListAsync(ct);
        return (rows.Where(r => r.Class == SchemaClass.Profile).Sum(r => r.Count), rows.Where(r => r.Class == SchemaClass.Event).Sum(r => r.Count));
    }

    /// <summary>Fields of every schema, largest first.</summary>
    public async Task<IReadOnlyList<SchemaFieldUsage>> FieldsPerSchemaAsync(CancellationToken ct = default) =>
        await db.Set<Schema>().AsNoTracking().OrderByDescending(s => s.FieldCount).ThenBy(s => s.Name)
            .Select(s => new SchemaFieldUsage(s.Id, s.Name, s.FieldCount)).ToListAsync(ct);

    /// <summary>The readings of this area: the largest schema against the fields limit, and datasets per class.</summary>
    public async Task<IReadOnlyList<GuardrailReading>> ReadAsync(CancellationToken ct = default)
    {
        var o = options.Value;
        var (profile, events) = await DatasetsByClassAsync(ct);
        var largest = await db.Set<Schema>().AsNoTracking().MaxAsync(s => (int?)s.FieldCount, ct) ?? 0;
        return
        [
            GuardrailReading.Of(SchemaRules.FieldsPerSchemaGuardrail, o.FieldsPerSchema, largest, "fields", hard: true),
            GuardrailReading.Of(ProfileDatasets, o.ProfileDatasetsPerSandbox, profile, "datasets", hard: false),
            GuardrailReading.Of(EventDatasets, o.EventDatasetsPerSandbox, events, "datasets", hard: false),
        ];
    }
}
