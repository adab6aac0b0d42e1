using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Tests.Catalog;

/// <summary>A real SQLite catalog file in a temp folder, with the schema/dataset services bound to one sandbox.</summary>
public sealed class CatalogFixture : IAsyncDisposable
{
    private readonly TestData.TempDir _dir = TestData.NewTempDir();
    private readonly List<CatalogDb> _contexts = [];
    public string ConnectionString { get; }
    public List<IDatasetDeletionHook> Hooks { get; } = [];

    public CatalogFixture() => ConnectionString = $"Data Source={Path.Combine(_dir.Path, "catalog.db")};Pooling=False";

    public static async Task<CatalogFixture> CreateAsync()
    {
        var f = new CatalogFixture();
        await using var db = f.NewDb(null);
        await db.Database.EnsureCreatedAsync();
        db.Add(new Sandbox { Id = "sb-a", Name = "a", Title = "A" });
        db.Add(new Sandbox { Id = "sb-b", Name = "b", Title = "B" });
        await db.SaveChangesAsync();
        return f;
    }

    public CatalogDb NewDb(string? sandboxId)
    {
        var options = new DbContextOptionsBuilder<SqliteCatalogDb>().UseSqlite(ConnectionString).Options;
        var db = new SqliteCatalogDb(options, new SandboxContext { SandboxId = sandboxId });
        _contexts.Add(db);
        return db;
    }

    public (IdentityNamespaceService Namespaces, SchemaService Schemas, DatasetService Datasets, GuardrailUsage Guardrails) Services(string sandboxId, GuardrailOptions? guardrails = null)
    {
        var db = NewDb(sandboxId);
        var options = Options.Create(guardrails ?? new GuardrailOptions());
        var namespaces = new IdentityNamespaceService(db, [new SchemaNamespaceUsers(db)]);
        return (namespaces, new SchemaService(db, namespaces, options), new DatasetService(db, Hooks), new GuardrailUsage(db, options));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _contexts) await c.DisposeAsync();
        _dir.Dispose();
    }
}
