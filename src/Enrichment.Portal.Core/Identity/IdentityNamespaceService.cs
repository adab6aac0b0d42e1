using System.Text.RegularExpressions;
using Enrichment.Portal.Core.Audit;
using Enrichment.Portal.Core.Catalog;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Identity;

/// <summary>Built-in and custom identity namespaces of the current sandbox.</summary>
public sealed partial class IdentityNamespaceService(CatalogDb db, IEnumerable<INamespaceUsers> users)
{
    public const string CodeRule = "A code starts with a letter and has at most 64 letters, digits, '_', '-' or '.'.";

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_.-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex CodeRegex();

    /// <summary>Every namespace the sandbox can use: the built-ins first, then the custom ones by code.</summary>
    public async Task<IReadOnlyList<NamespaceInfo>> ListAsync(CancellationToken ct = default)
    {
        var custom = await db.Set<IdentityNamespace>().AsNoTracking().OrderBy(n => n.Code).ToListAsync(ct);
        return [.. BuiltInNamespaces.All, .. custom.Select(n => n.ToInfo())];
    }

    /// <summary>A lookup by code (case-insensitive) over built-ins and the sandbox's custom namespaces, for schema validation.</summary>
    public async Task<Func<string, NamespaceInfo?>> LookupAsync(CancellationToken ct = default)
    {
        var all = await ListAsync(ct);
        var map = new Dictionary<string, NamespaceInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (var n in all) map.TryAdd(n.Code, n);
        return code => code is not null && map.TryGetValue(code, out var n) ? n : null;
    }

    public async Task<NamespaceInfo?> FindAsync(string code, CancellationToken ct = default) => (await LookupAsync(ct))(code);

    public async Task<NamespaceInfo> CreateAsync(string? code, string? name, IdentityType? type, NormalizerKind? normalizer = null,
        string? description = null, string? actor = null, CancellationToken ct = default)
    {
        var errors = new Dictionary<string, string[]>();
        code = code?.Trim();
        name = name?.Trim();
        if (string.IsNullOrEmpty(code) || !CodeRegex().IsMatch(code)) errors["code"] = [CodeRule];
        if (string.IsNullOrEmpty(name) || name.Length > 200) errors["name"] = ["A namespace needs a name of at most 200 characters."];
        if (type is null || !Enum.IsDefined(type.Value)) errors["type"] = ["type must be one of person, device, cookie, cross-device, non-people."];
        if (normalizer is { } k && !Enum.IsDefined(k)) errors["normalizer"] = ["normalizer must be one of id, email, phone."];
        if (errors.Count > 0) throw new CatalogException(CatalogErrorKind.Invalid, string.Join(" ", errors.SelectMany(e => e.Value)), errors);

        if (BuiltInNamespaces.Find(code!) is { } builtIn)
            throw CatalogException.Conflict($"'{builtIn.Code}' is a built-in namespace; pick another code.");
        var lower = code!.ToLowerInvariant();
        if (await db.Set<IdentityNamespace>().AnyAsync(n => n.Code.ToLower() == lower, ct))
            throw CatalogException.Conflict($"A namespace with the code '{code}' already exists in this sandbox.");

        var ns = new IdentityNamespace
        {
            Code = code, Name = name!, Type = type!.Value, Description = description, CreatedBy = actor,
            Normalizer = normalizer ?? DefaultNormalizer(code),
        };
        db.Add(ns);
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "namespace.create", Target = code, Detail = $"{ns.Type}, normalizer {ns.Normalizer}" });
        await db.SaveChangesAsync(ct);
        return ns.ToInfo();
    }

    /// <summary>Deletes a custom namespace. Built-ins: 409; in use by a schema: 409 naming the schemas; unknown: 404.</summary>
    public async Task DeleteAsync(string code, string? actor = null, CancellationToken ct = default)
    {
        if (BuiltInNamespaces.Find(code) is { } builtIn)
            throw CatalogException.Conflict($"'{builtIn.Code}' is a built-in namespace and cannot be deleted.");
        var lower = code.ToLowerInvariant();
        var ns = await db.Set<IdentityNamespace>().FirstOrDefaultAsync(n => n.Code.ToLower() == lower, ct)
                 ?? throw CatalogException.NotFound($"No identity namespace '{code}' in this sandbox.");
        var schemas = new List<string>();
        foreach (var u in users) schemas.AddRange(await u.SchemasUsingAsync(ns.Code, ct));
        if (schemas.Count > 0)
            throw CatalogException.Conflict($"The namespace '{ns.Code}' is used by the schema(s) {string.Join(", ", schemas.Select(u => $"'{u}'"))}; it cannot be deleted while a schema uses it.");
        db.Remove(ns);
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "namespace.delete", Target = ns.Code });
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Email-like and phone-like codes get their normalizer; everything else is an id (trimmed).</summary>
    public static NormalizerKind DefaultNormalizer(string code) =>
        code.Contains("email", StringComparison.OrdinalIgnoreCase) ? NormalizerKind.Email
        : code.Contains("phone", StringComparison.OrdinalIgnoreCase) ? NormalizerKind.Phone
        : NormalizerKind.Id;
}

/// <summary>
/// Tells which schemas use a namespace (answered by the schemas area, <c>Schemas/SchemaNamespaceUsers</c>): a namespace in
/// use cannot be deleted. Identity sits below schemas, so it asks through this interface instead of reading schemas.
/// </summary>
public interface INamespaceUsers
{
    /// <summary>Names of the schemas of the current sandbox whose identity fields use <paramref name="code"/>, ordered.</summary>
    Task<IReadOnlyList<string>> SchemasUsingAsync(string code, CancellationToken ct);
}
