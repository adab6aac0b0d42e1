using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Audit;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Schemas.Xdm;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Schemas;

/// <summary>What a user asks for when creating a schema (API body or editor page).</summary>
public sealed record SchemaDraft(string? Name, SchemaClass? Class, IReadOnlyList<SchemaField>? Fields, string? Description = null);

/// <summary>The outcome of checking a schema that is not stored yet: the normalized definition, broken rules, profile blockers.</summary>
public sealed record SchemaCheck(SchemaDefinition Definition, IReadOnlyList<SchemaError> Errors, IReadOnlyList<string> ProfileBlockers)
{
    public bool IsValid => Errors.Count == 0;
}

/// <summary>An imported XDM schema and what was not imported as it was.</summary>
public sealed record SchemaImport(Schema Schema, IReadOnlyList<string> Warnings);

/// <summary>
/// Schemas of the current sandbox: the rules of <see cref="SchemaRules"/> and <see cref="SchemaEvolution"/> applied to the catalog.
/// Pages and API endpoints both call this; neither repeats its rules. Refusals are <see cref="CatalogException"/>s.
/// </summary>
public sealed class SchemaService(CatalogDb db, IdentityNamespaceService namespaces, IOptions<GuardrailOptions> guardrails)
{
    public int MaxFields => guardrails.Value.FieldsPerSchema;

    public IQueryable<Schema> Query() => db.Set<Schema>().AsNoTracking();

    public Task<Schema?> FindAsync(string id, CancellationToken ct = default) =>
        db.Set<Schema>().AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);

    public async Task<Schema> GetAsync(string id, CancellationToken ct = default) =>
        await FindAsync(id, ct) ?? throw CatalogException.NotFound($"No schema {id} in this sandbox.");

    /// <summary>Normalizes (event fields, namespace codes as registered) and validates a schema without storing it: the editor's live check.</summary>
    public async Task<SchemaCheck> CheckAsync(SchemaDefinition definition, CancellationToken ct = default)
    {
        var lookup = await namespaces.LookupAsync(ct);
        var normalized = Canonicalize(SchemaRules.Normalize(definition), lookup);
        return new SchemaCheck(normalized, SchemaRules.Validate(normalized, lookup, MaxFields), SchemaRules.ProfileBlockers(normalized));
    }

    public async Task<Schema> CreateAsync(SchemaDraft draft, string? actor = null, CancellationToken ct = default)
    {
        var name = draft.Name?.Trim();
        var missing = new Dictionary<string, string[]>();
        if (string.IsNullOrEmpty(name) || name.Length > 200) missing["name"] = ["A schema needs a name of at most 200 characters."];
        if (draft.Class is null || !Enum.IsDefined(draft.Class.Value)) missing["class"] = ["class must be profile or event."];
        if (draft.Fields is null) missing["fields"] = ["fields must be an array (it may be empty)."];
        if (missing.Count > 0) throw new CatalogException(CatalogErrorKind.Invalid, string.Join(" ", missing.SelectMany(e => e.Value)), missing);

        var check = await CheckAsync(new SchemaDefinition(name!, draft.Class!.Value, draft.Fields!), ct);
        ThrowIfInvalid(check.Errors);
        await EnsureNameFreeAsync(name!, ct);

        var schema = new Schema { Name = name!, Class = check.Definition.Class, Description = Trim(draft.Description), CreatedBy = actor };
        schema.SetFields(check.Definition.Fields);
        db.Add(schema);
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "schema.create", Target = schema.Id, Detail = $"{name} ({schema.FieldCount} fields)" });
        await SaveAsync(name!, ct);
        return schema;
    }

    /// <summary>PATCH <c>addFields</c>: the current fields plus new ones; version + 1. Profile-enabled schemas take additive changes only (409).</summary>
    public async Task<Schema> AddFieldsAsync(string id, IReadOnlyList<SchemaField> added, string? actor = null, CancellationToken ct = default)
    {
        var schema = await TrackedAsync(id, ct);
        return await ChangeFieldsAsync(schema, [.. schema.Fields, .. added], actor, ct);
    }

    /// <summary>Replaces the whole field list (the editor's save). Before profile enablement anything valid goes; after it, additive changes only (409).</summary>
    public async Task<Schema> ReplaceFieldsAsync(string id, IReadOnlyList<SchemaField> fields, int? expectedVersion = null, string? actor = null, CancellationToken ct = default)
    {
        var schema = await TrackedAsync(id, ct);
        if (expectedVersion is { } v && v != schema.Version)
            throw CatalogException.Conflict($"The schema was changed meanwhile (now version {schema.Version}, you edited version {v}); reload it and apply your change again.");
        return await ChangeFieldsAsync(schema, fields, actor, ct);
    }

    public async Task<Schema> UpdateDescriptionAsync(string id, string? description, string? actor = null, CancellationToken ct = default)
    {
        var schema = await TrackedAsync(id, ct);
        schema.Description = Trim(description);
        schema.UpdatedAt = DateTimeOffset.UtcNow;
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "schema.describe", Target = schema.Id });
        await db.SaveChangesAsync(ct);
        return schema;
    }

    /// <summary>Enables the schema for profile (one-way; again is a no-op). 422 with the reason when <see cref="SchemaRules.CanEnableProfile"/> fails.</summary>
    public async Task<Schema> EnableProfileAsync(string id, string? actor = null, CancellationToken ct = default)
    {
        var schema = await TrackedAsync(id, ct);
        if (schema.ProfileEnabled) return schema;
        var blockers = SchemaRules.ProfileBlockers(schema.ToDefinition());
        if (blockers.Count > 0)
            throw CatalogException.Rule(blockers[0], new Dictionary<string, string[]> { ["identity"] = [.. blockers] });
        schema.ProfileEnabled = true;
        schema.ProfileEnabledAt = schema.UpdatedAt = DateTimeOffset.UtcNow;
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "schema.enable-profile", Target = schema.Id, Detail = schema.Name });
        await db.SaveChangesAsync(ct);
        return schema;
    }

    /// <summary>Imports an XDM schema (a zip with its components, or one self-contained JSON) and stores it. Returns the import warnings.</summary>
    public async Task<SchemaImport> ImportXdmAsync(XdmSource source, string? name = null, string? description = null, string? actor = null, CancellationToken ct = default)
    {
        var result = XdmImporter.Import(source, new XdmImportOptions { Name = string.IsNullOrWhiteSpace(name) ? null : name.Trim() });
        if (!result.Succeeded || result.Schema is null)
        {
            var errors = result.Errors.GroupBy(e => e.File ?? "file").ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray());
            throw CatalogException.Rule("The XDM schema could not be imported: " + string.Join(" ", result.Errors.Select(e => e.Message)), errors);
        }
        var s = result.Schema;
        var schema = await CreateAsync(new SchemaDraft(name ?? s.Name, s.Class, s.Fields, description), actor, ct);
        return new SchemaImport(schema, result.Warnings);
    }

    /// <summary>The schema as a JSON Schema document; <paramref name="baseUri"/> makes its <c>$id</c>.</summary>
    public async Task<JsonObject> ExportAsync(string id, string baseUri, CancellationToken ct = default)
    {
        var schema = await GetAsync(id, ct);
        var doc = JsonSchemaExporter.Export(schema.ToDefinition(), $"{baseUri.TrimEnd('/')}/api/v1/schemas/{schema.Id}");
        if (!string.IsNullOrEmpty(schema.Description)) doc["description"] = schema.Description;
        doc["x-version"] = schema.Version;
        return doc;
    }

    /// <summary>Errors keyed as the API's <c>errors</c> map: the field path, <c>name</c> or <c>fields</c>.</summary>
    public static Dictionary<string, string[]> ErrorMap(IEnumerable<SchemaError> errors) =>
        errors.GroupBy(e => e.Code == SchemaErrorCodes.SchemaName ? "name" : e.Field ?? "fields")
              .ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray());

    private async Task<Schema> ChangeFieldsAsync(Schema schema, IReadOnlyList<SchemaField> fields, string? actor, CancellationToken ct)
    {
        var check = await CheckAsync(new SchemaDefinition(schema.Name, schema.Class, fields), ct);
        ThrowIfInvalid(check.Errors);
        var violations = SchemaEvolution.CheckChange(schema.ToDefinition(), check.Definition, schema.ProfileEnabled);
        if (violations.Count > 0)
            throw CatalogException.Conflict(string.Join(" ", violations.Select(v => v.Reason)),
                violations.GroupBy(v => v.Field ?? "class").ToDictionary(g => g.Key, g => g.Select(v => v.Reason).ToArray()));
        var before = schema.FieldCount;
        schema.SetFields(check.Definition.Fields);
        schema.Version++;
        schema.UpdatedAt = DateTimeOffset.UtcNow;
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "schema.update", Target = schema.Id, Detail = $"version {schema.Version}, {before} -> {schema.FieldCount} fields" });
        await db.SaveChangesAsync(ct);
        return schema;
    }

    private async Task<Schema> TrackedAsync(string id, CancellationToken ct) =>
        await db.Set<Schema>().FirstOrDefaultAsync(s => s.Id == id, ct) ?? throw CatalogException.NotFound($"No schema {id} in this sandbox.");

    private async Task EnsureNameFreeAsync(string name, CancellationToken ct)
    {
        var lower = name.ToLowerInvariant();
        if (await db.Set<Schema>().AnyAsync(s => s.Name.ToLower() == lower, ct))
            throw CatalogException.Conflict($"A schema named '{name}' already exists in this sandbox.");
    }

    private async Task SaveAsync(string name, CancellationToken ct)
    {
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateException)
        {
            throw CatalogException.Conflict($"A schema named '{name}' already exists in this sandbox.");
        }
    }

    private static void ThrowIfInvalid(IReadOnlyList<SchemaError> errors)
    {
        if (errors.Count == 0) return;
        throw CatalogException.Rule(string.Join(" ", errors.Select(e => e.Message)), ErrorMap(errors));
    }

    /// <summary>Writes identity namespaces as their registered code (<c>email</c> -> <c>Email</c>), so that stored schemas name them one way.</summary>
    private static SchemaDefinition Canonicalize(SchemaDefinition d, Func<string, NamespaceInfo?> lookup)
    {
        if (d.Fields is null || !d.Fields.Any(f => f?.Identity is not null)) return d;
        return d with
        {
            Fields = d.Fields.Select(f => f?.Identity is { } id && !string.IsNullOrWhiteSpace(id.Namespace) && lookup(id.Namespace) is { } ns && ns.Code != id.Namespace
                ? f with { Identity = id with { Namespace = ns.Code } }
                : f).ToList()!,
        };
    }

    private static string? Trim(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
