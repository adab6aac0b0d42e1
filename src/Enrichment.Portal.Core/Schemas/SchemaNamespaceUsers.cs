using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Identity;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Schemas;

/// <summary>The schemas that map an identity field to a namespace (so that the namespace is not deleted under them).</summary>
public sealed class SchemaNamespaceUsers(CatalogDb db) : INamespaceUsers
{
    public async Task<IReadOnlyList<string>> SchemasUsingAsync(string code, CancellationToken ct)
    {
        var marker = Schema.NamespaceMarker(code);
        return await db.Set<Schema>().AsNoTracking().Where(s => s.NamespaceCodes.Contains(marker)).Select(s => s.Name).OrderBy(n => n).ToListAsync(ct);
    }
}
