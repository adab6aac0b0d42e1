using System.Text.RegularExpressions;

namespace Enrichment.Portal.Core.Query;

/// <summary>
/// One table visible to a query: a view named <see cref="Name"/> over the given Parquet files.
/// The caller (catalog) lists only the files of committed batches; nothing else of the lake is readable.
/// </summary>
/// <param name="Name">Table name (letters, digits, <c>_</c>; see <see cref="NormalizeName"/>).</param>
/// <param name="Files">Absolute Parquet file paths or globs (e.g. <c>/lake/s1/d1/b7/*.parquet</c>); globs are expanded once by the trusted side.</param>
public sealed partial record TableSource(string Name, IReadOnlyList<string> Files)
{
    /// <summary>The table name of a dataset per API.md: lower case, every non-alphanumeric as <c>_</c>, prefixed by <c>_</c> when it starts with a digit.</summary>
    public static string NormalizeName(string datasetName) => Lake.LakeCatalog.TableName(datasetName);

    internal static bool IsValidName(string name) => ValidName().IsMatch(name);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
    private static partial Regex ValidName();
}

/// <summary>A user's read-only query over the tables of one sandbox.</summary>
public sealed record QueryRequest
{
    /// <summary>One SELECT / WITH statement (a trailing <c>;</c> is allowed).</summary>
    public required string Sql { get; init; }

    /// <summary>Maximum rows returned (default 1000; at most <see cref="QueryServiceOptions.MaxLimit"/>). Ignored by exports.</summary>
    public int Limit { get; init; } = 1000;

    /// <summary>Time limit of the whole query (default 60 s; at most <see cref="QueryServiceOptions.MaxTimeout"/>).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The tables the query may read: the datasets of the current sandbox only.</summary>
    public IReadOnlyList<TableSource> Tables { get; init; } = [];
}

/// <summary>A result column: its name and DuckDB SQL type (e.g. <c>BIGINT</c>, <c>VARCHAR[]</c>, <c>DECIMAL(10,2)</c>).</summary>
public sealed record QueryColumn(string Name, string Type);

/// <summary>
/// The result of <see cref="QueryService.ExecuteAsync"/>. Row values are JSON-friendly: null, bool, long/int/ulong, double,
/// string (dates and timestamps as ISO 8601, HUGEINT beyond 64 bits, UUID, INTERVAL, BLOB as base64),
/// <c>List&lt;object?&gt;</c> for lists and <c>Dictionary&lt;string, object?&gt;</c> for structs and maps.
/// </summary>
public sealed record QueryResult(
    IReadOnlyList<QueryColumn> Columns,
    IReadOnlyList<object?[]> Rows,
    int RowCount,
    bool Truncated,
    long ElapsedMs);

/// <summary>The result of <see cref="QueryService.ExportToParquetAsync"/>: rows written and the derived schema.</summary>
public sealed record QueryExportResult(
    string OutputPath,
    long RowCount,
    IReadOnlyList<QueryColumn> Columns,
    IReadOnlyList<Schemas.SchemaField> Schema,
    long ElapsedMs);

/// <summary>Limits and resources of the query service.</summary>
public sealed record QueryServiceOptions
{
    /// <summary>Largest accepted <see cref="QueryRequest.Limit"/>.</summary>
    public int MaxLimit { get; init; } = 100_000;

    /// <summary>Largest accepted <see cref="QueryRequest.Timeout"/>.</summary>
    public TimeSpan MaxTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Longest accepted SQL text, in characters.</summary>
    public int MaxSqlLength { get; init; } = 100_000;

    /// <summary>DuckDB <c>memory_limit</c> of each query's private database (e.g. <c>1GB</c>).</summary>
    public string MemoryLimit { get; init; } = "1GB";

    /// <summary>DuckDB <c>threads</c> of each query.</summary>
    public int Threads { get; init; } = 2;
}

/// <summary>The query was refused or failed because of its text (not SQL SELECT, forbidden access, unknown table, syntax...): an HTTP 400.</summary>
public sealed class QueryRejectedException(string reason, Exception? inner = null)
    : Exception(reason, inner)
{
    /// <summary>A message safe to show to the user.</summary>
    public string Reason => Message;
}

/// <summary>The query ran past its time limit and was interrupted.</summary>
public sealed class QueryTimeoutException(TimeSpan timeout)
    : Exception($"The query was cancelled after its time limit of {timeout.TotalSeconds:0.#} s.")
{
    public TimeSpan Timeout { get; } = timeout;
}

/// <summary>Too many queries of the sandbox are running at once (<c>Query:MaxConcurrentPerSandbox</c>): an HTTP 429.</summary>
public sealed class QueryBusyException(int limit)
    : Exception($"{limit} queries of this sandbox are running already, the most at a time. Try again when one has finished.")
{
    public int Limit { get; } = limit;
}
