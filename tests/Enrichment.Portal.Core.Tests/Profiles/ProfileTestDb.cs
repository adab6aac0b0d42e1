using Enrichment.Portal.Core.ProfileStore;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Tests.Profiles;

/// <summary>A temp SQLite catalog for one sandbox, with the profile services.</summary>
internal sealed class ProfileTestDb : IDisposable
{
    public TestData.TempDir Dir { get; } = TestData.NewTempDir();
    public string SandboxId { get; }
    public SqliteCatalogDb Db { get; }
    public ProfileStoreOptions Options { get; }

    public ProfileTestDb(string sandboxId = "sbx-test", ProfileStoreOptions? options = null)
    {
        SandboxId = sandboxId;
        Options = options ?? new ProfileStoreOptions();
        Db = NewContext();
        Db.Database.EnsureCreated();
    }

    public string DbPath => Path.Combine(Dir.Path, "catalog.db");

    public SqliteCatalogDb NewContext(string? sandbox = null) =>
        new(new DbContextOptionsBuilder<SqliteCatalogDb>().UseSqlite($"Data Source={DbPath}").Options,
            new SandboxContext { SandboxId = sandbox ?? SandboxId });

    public ProfileIngestor Ingestor => new(Db, Options);
    public ProfileService Service => new(Db);

    public Task<ProfileIngestResult> ApplyAsync(string datasetId, SchemaDefinition schema, DateTimeOffset at, params Dictionary<string, object?>[] records) =>
        Ingestor.ApplyRecordsAsync(new ProfileRecordBatch(SandboxId, datasetId, schema, records, at), TestContext.Current.CancellationToken);

    public void Dispose()
    {
        Db.Dispose();
        SqliteConnection.ClearAllPools();
        Dir.Dispose();
    }

    public static void Duck(string sql)
    {
        using var c = new DuckDBConnection("DataSource=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public static object? DuckScalar(string sql)
    {
        using var c = new DuckDBConnection("DataSource=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    public static Dictionary<string, object?> R(params (string Key, object? Value)[] values) => values.ToDictionary(v => v.Key, v => v.Value);
}

internal static class TestSchemas
{
    public static SchemaDefinition Crm => new("crm", SchemaClass.Profile,
    [
        new SchemaField { Path = "crmId", Type = FieldType.String, Identity = new IdentityMapping("CRMID", true) },
        new SchemaField { Path = "email", Type = FieldType.String, Identity = new IdentityMapping("Email") },
        new SchemaField { Path = "phone", Type = FieldType.String, Identity = new IdentityMapping("Phone") },
        new SchemaField { Path = "cookieId", Type = FieldType.String, Identity = new IdentityMapping("CookieID") },
        new SchemaField { Path = "person.name", Type = FieldType.String },
        new SchemaField { Path = "tier", Type = FieldType.String },
        new SchemaField { Path = "tenure", Type = FieldType.Integer },
        new SchemaField { Path = "insights", Type = FieldType.Map, ValueType = FieldType.Object },
    ]);

    public static SchemaDefinition Web => new("web", SchemaClass.Event,
    [
        new SchemaField { Path = "timestamp", Type = FieldType.DateTime, Required = true },
        new SchemaField { Path = "eventType", Type = FieldType.String, Required = true },
        new SchemaField { Path = "cookieId", Type = FieldType.String, Identity = new IdentityMapping("CookieID", true) },
        new SchemaField { Path = "email", Type = FieldType.String, Identity = new IdentityMapping("Email") },
        new SchemaField { Path = "crmId", Type = FieldType.String, Identity = new IdentityMapping("CRMID") },
        new SchemaField { Path = "page", Type = FieldType.String },
    ]);
}
