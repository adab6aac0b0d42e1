using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Query;

/// <summary><c>Query:*</c></summary>
public sealed class QueryOptions
{
    public const string Section = "Query";
    /// <summary>Time limit of a query in seconds (default 60); a request may ask for less, never more.</summary>
    public int TimeoutSeconds { get; set; } = 60;
    /// <summary>Time limit of "save as dataset" in seconds (default 600).</summary>
    public int SaveTimeoutSeconds { get; set; } = 600;
    /// <summary>Rows returned when the request names no limit.</summary>
    public int DefaultLimit { get; set; } = 1000;
    /// <summary>Queries (and saves) of one sandbox that may run at once in this process (default 4); more are refused with 429.</summary>
    public int MaxConcurrentPerSandbox { get; set; } = 4;
}

/// <summary>Counts the running queries per sandbox (a singleton), so that one sandbox cannot take every core and all memory.</summary>
public sealed class QueryAdmission
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> running = new(StringComparer.Ordinal);

    /// <summary>A slot for one query, released on dispose; throws <see cref="QueryBusyException"/> when the sandbox has none free.</summary>
    public IDisposable Enter(string sandboxId, int limit)
    {
        limit = Math.Max(1, limit);
        while (true)
        {
            var n = running.GetOrAdd(sandboxId, 0);
            if (n >= limit) throw new QueryBusyException(limit);
            if (running.TryUpdate(sandboxId, n + 1, n)) return new Slot(this, sandboxId);
        }
    }

    private void Leave(string sandboxId) => running.AddOrUpdate(sandboxId, 0, (_, n) => Math.Max(0, n - 1));

    private sealed class Slot(QueryAdmission owner, string sandboxId) : IDisposable
    {
        private int disposed;
        public void Dispose() { if (Interlocked.Exchange(ref disposed, 1) == 0) owner.Leave(sandboxId); }
    }
}

/// <summary>Who runs a query: the history is kept per principal.</summary>
/// <param name="Principal"><c>user:&lt;id&gt;</c> or <c>key:&lt;id&gt;</c>.</param>
public sealed record QueryCaller(string Principal, string? Name);

/// <summary>A table the user can query, with its columns (from the dataset's schema).</summary>
public sealed record QueryTable(string Name, string DatasetId, string DatasetName, bool IsSnapshot, IReadOnlyList<SchemaField> Columns);

/// <summary>The result of "save as dataset".</summary>
public sealed record SavedQuery(Dataset Dataset, Schema Schema, long RowCount, string BatchId);

/// <summary>
/// The query service of the current sandbox, for the SQL page and <c>/api/v1/queries</c>: every dataset with committed data is a
/// table by its name (API.md), plus <c>profile_snapshot</c> for the newest snapshot; runs through the locked-down
/// <see cref="QueryService"/>, keeps the history, and saves results as datasets.
/// </summary>
public sealed class SandboxQueries(CatalogDb db, LakeCatalog lake, QueryService queries, SchemaService schemas, DatasetService datasets,
    IOptions<QueryOptions> options, TimeProvider clock, QueryAdmission admission)
{
    public const string SnapshotTable = "profile_snapshot";

    public int MaxTimeoutSeconds => Math.Max(1, options.Value.TimeoutSeconds);

    /// <summary>The tables of the sandbox (datasets with committed data), by name. Two datasets whose names normalize alike: the first by name wins.</summary>
    public async Task<IReadOnlyList<QueryTable>> TablesAsync(CancellationToken ct = default) =>
        (await SourcesAsync(ct)).Select(s => s.Table).ToList();

    /// <summary>Runs a read-only query and records it in the caller's history.</summary>
    /// <exception cref="QueryRejectedException">Refused or failed because of its text (400).</exception>
    /// <exception cref="QueryTimeoutException">Ran past its time limit (400).</exception>
    public async Task<QueryResult> RunAsync(string? sql, int? limit, int? timeoutSeconds, QueryCaller caller, CancellationToken ct = default)
    {
        var entry = new QueryHistoryEntry { Principal = caller.Principal, Actor = caller.Name, Sql = Clip(sql ?? "", 100_000), At = clock.GetUtcNow() };
        using var slot = admission.Enter(db.CurrentSandboxId ?? "", options.Value.MaxConcurrentPerSandbox);
        try
        {
            var timeout = Timeout(timeoutSeconds);
            var request = new QueryRequest
            {
                Sql = sql ?? "", Limit = limit ?? options.Value.DefaultLimit, Timeout = timeout,
                Tables = (await SourcesAsync(ct)).Select(s => s.Source).ToList(),
            };
            var result = await queries.ExecuteAsync(request, ct);
            entry.RowCount = result.RowCount;
            entry.Truncated = result.Truncated;
            entry.ElapsedMs = result.ElapsedMs;
            return result;
        }
        catch (Exception e) when (e is QueryRejectedException or QueryTimeoutException)
        {
            entry.Error = Clip(e.Message, 3900);
            entry.ElapsedMs = (long)(clock.GetUtcNow() - entry.At).TotalMilliseconds;
            throw;
        }
        finally
        {
            db.Add(entry);
            await db.SaveChangesAsync(CancellationToken.None);
        }
    }

    /// <summary>The caller's queries, newest first.</summary>
    public IQueryable<QueryHistoryEntry> History(string principal) =>
        db.Set<QueryHistoryEntry>().AsNoTracking().Where(h => h.Principal == principal).OrderByDescending(h => h.At).ThenByDescending(h => h.Id);

    /// <summary>
    /// "Save as dataset": writes the full result as one committed batch of a new dataset with a derived schema (class event when the
    /// result has <c>timestamp</c> and <c>eventType</c>, else profile; no identity). The Parquet is written first into a temp folder
    /// of the lake, published with one rename, so nothing half written is ever visible.
    /// </summary>
    public async Task<SavedQuery> SaveAsDatasetAsync(string? sql, string? datasetName, string? actor, CancellationToken ct = default)
    {
        var name = datasetName?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200)
            throw CatalogException.Invalid("datasetName", "The new dataset needs a name of at most 200 characters.");
        if (string.IsNullOrWhiteSpace(sql)) throw CatalogException.Invalid("sql", "The query is empty.");
        var lower = name.ToLowerInvariant();
        if (await datasets.Query().AnyAsync(d => d.Name.ToLower() == lower, ct))
            throw CatalogException.Conflict($"A dataset named '{name}' already exists in this sandbox.");

        var sandboxId = db.Sandbox.Require();
        using var slot = admission.Enter(sandboxId, options.Value.MaxConcurrentPerSandbox);
        var batchId = Ids.New();
        var staging = LakeFolders.CreateTemp(Path.Combine(lake.LakeRoot, sandboxId, "query-save-" + batchId));
        try
        {
            var export = await queries.ExportToParquetAsync(new QueryRequest
            {
                Sql = sql, Timeout = TimeSpan.FromSeconds(Math.Max(1, options.Value.SaveTimeoutSeconds)),
                Tables = (await SourcesAsync(ct)).Select(s => s.Source).ToList(),
            }, Path.Combine(staging, "part-00000.parquet"), ct);

            var fields = export.Schema.ToList();
            var isEvent = fields.Any(f => f.Path == SchemaDefinition.TimestampField && f.Type == FieldType.DateTime)
                          && fields.Any(f => f.Path == SchemaDefinition.EventTypeField && f.Type == FieldType.String);
            if (isEvent)
                fields = fields.Select(f => f.Path is SchemaDefinition.TimestampField or SchemaDefinition.EventTypeField ? f with { Required = true } : f).ToList();
            var schema = await schemas.CreateAsync(new SchemaDraft(await FreeSchemaNameAsync(name, ct), isEvent ? SchemaClass.Event : SchemaClass.Profile, fields,
                $"Derived from a query: {Clip(sql.Trim(), 3000)}"), actor, ct);
            var dataset = await datasets.CreateAsync(name, schema.Id, "Saved from a query.", actor, ct);

            await File.WriteAllTextAsync(Path.Combine(staging, LakeFolders.SuccessMarker), "", CancellationToken.None);
            LakeFolders.Publish(staging, lake.BatchFolder(sandboxId, dataset.Id, batchId));
            var now = clock.GetUtcNow();
            await db.Set<Dataset>().Where(d => d.Id == dataset.Id).ExecuteUpdateAsync(s => s
                .SetProperty(d => d.RecordCount, export.RowCount).SetProperty(d => d.BatchCount, 1).SetProperty(d => d.UpdatedAt, now), CancellationToken.None);
            dataset.RecordCount = export.RowCount;
            dataset.BatchCount = 1;
            return new SavedQuery(dataset, schema, export.RowCount, batchId);
        }
        finally
        {
            LakeFolders.TryDelete(staging);
        }
    }

    private async Task<string> FreeSchemaNameAsync(string datasetName, CancellationToken ct)
    {
        var baseName = datasetName.Length > 180 ? datasetName[..180] : datasetName;
        var candidate = baseName + " (query)";
        for (var i = 2; await schemas.Query().AnyAsync(s => s.Name.ToLower() == candidate.ToLower(), ct); i++)
            candidate = $"{baseName} (query {i})";
        return candidate;
    }

    private TimeSpan Timeout(int? requestedSeconds)
    {
        if (requestedSeconds is { } s && s < 1) throw new QueryRejectedException("timeoutSeconds must be at least 1.");
        return TimeSpan.FromSeconds(Math.Min(requestedSeconds ?? MaxTimeoutSeconds, MaxTimeoutSeconds));
    }

    private async Task<IReadOnlyList<(TableSource Source, QueryTable Table)>> SourcesAsync(CancellationToken ct)
    {
        var all = await lake.ListAsync(ct);
        var result = new List<(TableSource, QueryTable)>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var d in all)
        {
            var files = LakeCatalog.DataFiles(d);
            if (files.Count == 0 || !names.Add(d.TableName)) continue;
            result.Add((new TableSource(d.TableName, files), new QueryTable(d.TableName, d.Id, d.Name, false, d.Schema.Fields)));
        }
        var snapshot = LakeCatalog.NewestSnapshot(all);
        if (snapshot is not null && names.Add(SnapshotTable) && LakeCatalog.DataFiles(snapshot) is { Count: > 0 } snapshotFiles)
            result.Insert(0, (new TableSource(SnapshotTable, snapshotFiles), new QueryTable(SnapshotTable, snapshot.Id, snapshot.Name, true, snapshot.Schema.Fields)));
        return result;
    }

    private static string Clip(string s, int max) => s.Length > max ? s[..max] : s;
}
