namespace Enrichment.Portal.Core.Catalog;

/// <summary><c>Database:*</c>: which catalog provider; the connection string is <c>ConnectionStrings:Catalog</c>.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";
    /// <summary><c>Sqlite</c> (default) or <c>Postgres</c>.</summary>
    public string Provider { get; set; } = "Sqlite";
    public bool IsPostgres => string.Equals(Provider, "Postgres", StringComparison.OrdinalIgnoreCase)
                              || string.Equals(Provider, "PostgreSQL", StringComparison.OrdinalIgnoreCase);
}

/// <summary><c>Enrichment:*</c>: where the portal keeps its files.</summary>
public sealed class PortalOptions
{
    public const string Section = "Enrichment";
    /// <summary>Data directory: catalog (SQLite), data lake, uploads, first-run credentials. Default <c>./data</c>.</summary>
    public string DataDirectory { get; set; } = "data";

    public string FullDataDirectory => Path.GetFullPath(DataDirectory);
    public string LakeDirectory => Path.Combine(FullDataDirectory, "lake");
    public string UploadDirectory => Path.Combine(FullDataDirectory, "uploads");
    public string ModelDirectory => Path.Combine(FullDataDirectory, "models");
}
