using System.Diagnostics;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Query;

/// <summary>
/// Read-only SQL over the Parquet files of one sandbox's datasets. Each call gets its own in-memory DuckDB that is
/// locked down before the user's SQL runs (see <c>LockedDownDatabase</c>): the tables are views over exactly the files
/// the caller lists; no other file, URL, extension, setting or database is reachable; the statement must be one
/// SELECT / WITH (checked with DuckDB's own parser); time and row limits apply. Stateless and thread-safe: register as a singleton.
/// </summary>
public sealed class QueryService(QueryServiceOptions? options = null)
{
    private readonly QueryServiceOptions _options = options ?? new QueryServiceOptions();

    /// <summary>
    /// Runs the query and returns at most <see cref="QueryRequest.Limit"/> rows (<see cref="QueryResult.Truncated"/> when there were more).
    /// </summary>
    /// <exception cref="QueryRejectedException">Not a single SELECT, forbidden access, unknown table/column, bad limits: a 400.</exception>
    /// <exception cref="QueryTimeoutException">The time limit passed; the query was interrupted.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ArgumentException">The caller's table list is invalid (bad name, missing file): a server-side bug, not the user's.</exception>
    public Task<QueryResult> ExecuteAsync(QueryRequest request, CancellationToken cancellationToken = default)
    {
        ValidateRequest(request, checkLimit: true);
        return RunAsync(request, null, cancellationToken, (db, sql, token) =>
        {
            var stopwatch = Stopwatch.StartNew();
            var described = db.DescribeOrNull(sql); // before the reader: one pending result per connection
            using var command = db.Connection.CreateCommand();
            command.CommandText = sql;
            command.UseStreamingMode = true;
            using var registration = token.Register(command.Cancel);
            using var reader = command.ExecuteReader();
            var columns = described is not null && described.Count == reader.FieldCount
                ? described
                : Enumerable.Range(0, reader.FieldCount).Select(i => new QueryColumn(reader.GetName(i), reader.GetDataTypeName(i).ToUpperInvariant())).ToList();
            var rows = new List<object?[]>();
            var truncated = false;
            while (reader.Read())
            {
                if (rows.Count == request.Limit) { truncated = true; break; }
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++)
                    row[i] = reader.IsDBNull(i) ? null : JsonFriendly.Convert(reader.GetValue(i));
                rows.Add(row);
            }
            token.ThrowIfCancellationRequested();
            return new QueryResult(columns, rows, rows.Count, truncated, stopwatch.ElapsedMilliseconds);
        });
    }

    /// <summary>
    /// "Save as dataset": writes the full result of a validated query to a new Parquet file at <paramref name="outputPath"/>
    /// (chosen by the trusted caller, e.g. the new batch folder; it must not exist yet). The user SQL is passed only as a
    /// string literal to DuckDB's <c>query()</c> table function, which accepts a single SELECT only, inside a COPY written by
    /// this service; the locked database may write no file but <paramref name="outputPath"/>. <see cref="QueryRequest.Limit"/> is ignored.
    /// Struct columns are refused (select their fields as separate columns named by dotted paths).
    /// </summary>
    public Task<QueryExportResult> ExportToParquetAsync(QueryRequest request, string outputPath, CancellationToken cancellationToken = default)
    {
        ValidateRequest(request, checkLimit: false);
        if (string.IsNullOrWhiteSpace(outputPath) || !Path.IsPathFullyQualified(outputPath))
            throw new ArgumentException("The output path must be absolute.", nameof(outputPath));
        var output = Path.GetFullPath(outputPath);
        if (File.Exists(output)) throw new ArgumentException($"The output file '{output}' already exists.", nameof(outputPath));
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);

        return RunAsync(request, [output], cancellationToken, (db, sql, token) =>
        {
            var stopwatch = Stopwatch.StartNew();
            var columns = db.DescribeOrNull(sql)
                ?? throw new QueryRejectedException("The query cannot be saved as a dataset (its columns could not be determined).");
            var structColumn = columns.FirstOrDefault(c => c.Type.StartsWith("STRUCT", StringComparison.OrdinalIgnoreCase));
            if (structColumn is not null)
                throw new QueryRejectedException($"Column '{structColumn.Name}' is a STRUCT: select its fields as separate columns (e.g. s.a AS \"s.a\").");
            var duplicate = columns.GroupBy(c => c.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
                throw new QueryRejectedException($"Column name '{duplicate.Key}' appears more than once: give each column a distinct alias.");
            using var command = db.Connection.CreateCommand();
            command.CommandText = $"COPY (SELECT * FROM query({LockedDownDatabase.Literal(sql)})) TO {LockedDownDatabase.Literal(output)} (FORMAT parquet, COMPRESSION zstd)";
            using var registration = token.Register(command.Cancel);
            long rows;
            try
            {
                rows = command.ExecuteNonQuery();
            }
            catch
            {
                TryDelete(output);
                throw;
            }
            return new QueryExportResult(output, rows, columns, DeriveSchema(columns), stopwatch.ElapsedMilliseconds);
        }, onFailure: () => TryDelete(output));
    }

    /// <summary>Maps result columns to schema fields (see <see cref="DuckDbTypes.ToFieldType"/>); nothing is required or an identity.</summary>
    public static IReadOnlyList<SchemaField> DeriveSchema(IReadOnlyList<QueryColumn> columns) =>
        columns.Select(c =>
        {
            var (type, item, value) = DuckDbTypes.ToFieldType(c.Type);
            return new SchemaField { Path = c.Name, Type = type, ItemType = item, ValueType = value };
        }).ToList();

    private void ValidateRequest(QueryRequest request, bool checkLimit)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Sql)) throw new QueryRejectedException("The query is empty.");
        if (request.Sql.Length > _options.MaxSqlLength)
            throw new QueryRejectedException($"The query is longer than {_options.MaxSqlLength} characters.");
        if (request.Sql.Contains('\0')) throw new QueryRejectedException("The query contains a NUL character.");
        if (checkLimit && (request.Limit < 1 || request.Limit > _options.MaxLimit))
            throw new QueryRejectedException($"The row limit must be between 1 and {_options.MaxLimit}.");
        if (request.Timeout <= TimeSpan.Zero || request.Timeout > _options.MaxTimeout)
            throw new QueryRejectedException($"The time limit must be positive and at most {_options.MaxTimeout.TotalSeconds:0} s.");
        ArgumentNullException.ThrowIfNull(request.Tables);
    }

    private async Task<T> RunAsync<T>(QueryRequest request, IReadOnlyList<string>? extraAllowedPaths, CancellationToken cancellationToken,
        Func<LockedDownDatabase, string, CancellationToken, T> body, Action? onFailure = null)
    {
        using var timeout = new CancellationTokenSource(request.Timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var token = linked.Token;
        try
        {
            return await Task.Run(() =>
            {
                using var db = LockedDownDatabase.Open(request.Tables, _options, extraAllowedPaths);
                var sql = request.Sql.Trim();
                db.ValidateSingleSelect(sql);
                sql = sql.TrimEnd(';', ' ', '\t', '\r', '\n');
                token.ThrowIfCancellationRequested();
                try
                {
                    return body(db, sql, token);
                }
                catch (DuckDBException ex) when (!token.IsCancellationRequested)
                {
                    throw new QueryRejectedException(CleanMessage(SqlErrorWording.Humanize(ex.Message, sql)), ex);
                }
            }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or DuckDBException && token.IsCancellationRequested)
        {
            onFailure?.Invoke();
            cancellationToken.ThrowIfCancellationRequested();
            throw new QueryTimeoutException(request.Timeout);
        }
        catch
        {
            onFailure?.Invoke();
            throw;
        }
    }

    private static string CleanMessage(string message)
    {
        var text = message.Trim();
        return text.Length > 2000 ? text[..2000] + "..." : text;
    }

    private static void TryDelete(string path)
    {
        try { if (File.Exists(path)) File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
