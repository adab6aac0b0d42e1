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
