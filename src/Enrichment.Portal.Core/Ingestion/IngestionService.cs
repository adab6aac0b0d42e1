using Enrichment.Portal.Core.Ingestion.Readers;
using System.Globalization;
using System.Text.Json;
using Enrichment.Portal.Core.Audit;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Ingestion.LakeWriters;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Schemas;
using RecordError = Enrichment.Portal.Core.Ingestion.RecordError;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Ingestion;

/// <summary><c>Ingestion:*</c>. Read when a request arrives (not cached), so a running portal picks up changes.</summary>
public sealed class IngestionOptions
{
    public const string Section = "Ingestion";
    /// <summary>Largest upload in bytes (default 1 GB; <c>Guardrails:BatchFileBytes</c> lowers it); larger ones are refused with 413 before they are stored.</summary>
    public long MaxUploadBytes { get; set; } = 1L << 30;
    /// <summary>Largest streaming request body (default 1 MB).</summary>
    public long MaxStreamingBodyBytes { get; set; } = 1 << 20;
    /// <summary>Most records in one streaming request (default 1,000).</summary>
    public int MaxStreamingRecords { get; set; } = 1000;
    /// <summary>How often streamed records are flushed to the lake (default 500 ms; at most every second is promised).</summary>
    public int StreamingFlushMilliseconds { get; set; } = 500;

    public static IngestionOptions Read(IConfiguration config)
    {
        var o = config.GetSection(Section).Get<IngestionOptions>() ?? new IngestionOptions();
        var d = new IngestionOptions();
        if (o.MaxUploadBytes <= 0) o.MaxUploadBytes = d.MaxUploadBytes;
        if (o.MaxStreamingBodyBytes <= 0) o.MaxStreamingBodyBytes = d.MaxStreamingBodyBytes;
        if (o.MaxStreamingRecords <= 0) o.MaxStreamingRecords = d.MaxStreamingRecords;
        if (o.StreamingFlushMilliseconds <= 0) o.StreamingFlushMilliseconds = d.StreamingFlushMilliseconds;
        // Guardrail "batch file size" (hard): Guardrails:BatchFileBytes, when set, lowers the upload limit.
        var guardrail = config.GetSection(GuardrailOptions.Section).GetValue<long?>(nameof(GuardrailOptions.BatchFileBytes)) ?? 0;
        if (guardrail > 0 && guardrail < o.MaxUploadBytes) o.MaxUploadBytes = guardrail;
        return o;
    }
}

/// <summary>An upload (or streaming body) over its size limit: HTTP 413. Nothing of it is kept.</summary>
public sealed class UploadTooLargeException(long limit) : Exception($"The upload is larger than the limit of {limit:N0} bytes.")
{
    public long Limit { get; } = limit;
}

/// <summary>An upload copied to the portal's disk, not yet a batch (<see cref="IngestionService.StageUploadAsync"/>).</summary>
public sealed record StagedUpload(string Path, string FileName, long Bytes, DateTimeOffset StartedAt, DateTimeOffset FinishedAt);

/// <summary>A new or existing (same idempotency key) batch.</summary>
public sealed record BatchCreated(Batch Batch, bool Created);

/// <summary>One row of a mapping preview: the values as they will be stored (field path -> text), or why the row would be rejected.</summary>
public sealed record MappedRow(int Row, IReadOnlyDictionary<string, string?> Values, IReadOnlyList<RecordError> Errors);

/// <summary>
/// Batch ingestion for pages, endpoints and jobs: uploads are streamed to disk (raw file kept under
/// <c>uploads/&lt;sandbox&gt;/&lt;batchId&gt;/</c>), become a <see cref="Batch"/>, and are ingested by <see cref="IngestionJob"/>.
/// Refusals are <see cref="CatalogException"/>s (and <see cref="UploadTooLargeException"/>). Works in the current sandbox.
/// </summary>
public sealed class IngestionService(
    CatalogDb db, IdentityNamespaceService namespaces, LakeCatalog lake,
    JobScheduler jobs, BatchStageRecorder stages, IOptions<PortalOptions> portal, IConfiguration config, TimeProvider clock)
{
    public const string JobKind = "ingestion";

    public IngestionOptions Limits => IngestionOptions.Read(config);

    /// <summary>Batches of the sandbox (not tracked).</summary>
    public IQueryable<Batch> Query() => db.Set<Batch>().AsNoTracking();

    public Task<Batch?> FindAsync(string id, CancellationToken ct = default) => Query().FirstOrDefaultAsync(b => b.Id == id, ct);

    public async Task<Batch> GetAsync(string id, CancellationToken ct = default) =>
        await FindAsync(id, ct) ?? throw CatalogException.NotFound($"No batch {id} in this sandbox.");

    public Task<IReadOnlyList<BatchStage>> StagesAsync(string batchId, CancellationToken ct = default) => stages.ListAsync(batchId, ct);

    /// <summary>A dataset that can take data: 404 when unknown, deleted or in another sandbox.</summary>
    public async Task<LakeDataset> DatasetAsync(string datasetId, CancellationToken ct = default) =>
        await lake.FindAsync(datasetId, ct) ?? throw CatalogException.NotFound($"No dataset {datasetId} in this sandbox.");

    /// <summary>Copies an upload to the portal's disk, counting bytes: over <paramref name="maxBytes"/> (default: the configured limit) it stops, deletes the copy and throws <see cref="UploadTooLargeException"/>.</summary>
    public async Task<StagedUpload> StageUploadAsync(Stream file, string? fileName, long? maxBytes = null, IProgress<long>? progress = null, CancellationToken ct = default)
    {
        var limit = maxBytes ?? Limits.MaxUploadBytes;
        var name = SafeFileName(fileName);
        var dir = Path.Combine(UploadRoot(), "_incoming");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, Guid.NewGuid().ToString("N"));
        var started = clock.GetUtcNow();
        long total = 0;
        try
        {
            await using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            var buffer = new byte[1 << 16];
            int n;
            var lastReport = 0L;
            while ((n = await file.ReadAsync(buffer, ct)) > 0)
            {
                total += n;
                if (total > limit) throw new UploadTooLargeException(limit);
                await output.WriteAsync(buffer.AsMemory(0, n), ct);
                if (progress is not null && total - lastReport >= 1 << 20) { progress.Report(total); lastReport = total; }
            }
            progress?.Report(total);
        }
        catch
        {
            TryDeleteFile(path);
            throw;
        }
        return new StagedUpload(path, name, total, started, clock.GetUtcNow());
    }

    /// <summary>Deletes a staged upload that will not become a batch.</summary>
    public static void Discard(StagedUpload staged) => TryDeleteFile(staged.Path);

    /// <summary>Streams an upload to disk, then <see cref="CreateBatchAsync(string, StagedUpload, BatchOptions?, string?, string?, CancellationToken)"/>.</summary>
    public async Task<BatchCreated> CreateBatchAsync(string datasetId, Stream file, string? fileName, BatchOptions? options, string? idempotencyKey, string? actor, CancellationToken ct = default)
    {
        await DatasetAsync(datasetId, ct);
        var staged = await StageUploadAsync(file, fileName, ct: ct);
        return await CreateBatchAsync(datasetId, staged, options, idempotencyKey, actor, ct);
    }

    /// <summary>
    /// Turns a staged upload into a queued batch and starts its ingestion job. A repeated <paramref name="idempotencyKey"/> returns
    /// the dataset's first batch with that key (<see cref="BatchCreated.Created"/> false) and discards the upload.
    /// </summary>
    public async Task<BatchCreated> CreateBatchAsync(string datasetId, StagedUpload staged, BatchOptions? options, string? idempotencyKey, string? actor, CancellationToken ct = default)
    {
        try
        {
            var dataset = await DatasetAsync(datasetId, ct);
            options ??= new BatchOptions();
            CheckOptions(options, dataset.Schema);
            idempotencyKey = string.IsNullOrWhiteSpace(idempotencyKey) ? null : idempotencyKey.Trim();
            if (idempotencyKey is { Length: > 200 }) throw CatalogException.Invalid("idempotencyKey", "idempotencyKey has at most 200 characters.");
            if (idempotencyKey is not null && await ByKeyAsync(datasetId, idempotencyKey, ct) is { } existing)
            {
                Discard(staged);
                return new BatchCreated(existing, false);
            }
            var batch = new Batch
            {
                DatasetId = datasetId, Source = BatchSource.Upload, FileName = staged.FileName, FileBytes = staged.Bytes,
                OptionsJson = Batch.ToJson(options), IdempotencyKey = idempotencyKey, CreatedBy = actor, CreatedAt = clock.GetUtcNow(),
            };
            var rawDir = Path.Combine(UploadRoot(), batch.Id);
            Directory.CreateDirectory(rawDir);
            batch.RawPath = Path.Combine(rawDir, staged.FileName);
            File.Move(staged.Path, batch.RawPath, overwrite: true);
            db.Add(batch);
            db.Add(new BatchStage { BatchId = batch.Id, Name = BatchStages.Upload, Status = BatchStatus.Success, StartedAt = staged.StartedAt, FinishedAt = staged.FinishedAt, Detail = $"{staged.Bytes:N0} bytes" });
            db.Add(new AuditEntry { Actor = actor ?? "system", Action = "batch.create", Target = batch.Id, Detail = $"{dataset.Name}: {staged.FileName}" });
            try { await db.SaveChangesAsync(ct); }
            catch (DbUpdateException) when (idempotencyKey is not null)
            {
                db.ChangeTracker.Clear();
                LakeFolders.TryDelete(rawDir);
                return new BatchCreated(await ByKeyAsync(datasetId, idempotencyKey, ct) ?? throw CatalogException.Conflict("The batch could not be created; try again."), false);
            }
            await EnqueueAsync(batch.Id, actor, ct);
            return new BatchCreated(await GetAsync(batch.Id, ct), true);
        }
        finally
        {
            if (File.Exists(staged.Path)) Discard(staged);
        }
    }

    /// <summary>Re-runs a failed (or abandoned) batch from its kept raw file. Other states: 409.</summary>
    public async Task<Batch> RetryAsync(string batchId, string? actor, CancellationToken ct = default)
    {
        var batch = await GetAsync(batchId, ct);
        if (batch.Status is not (BatchStatus.Failed or BatchStatus.Abandoned))
            throw CatalogException.Conflict($"Only a failed or abandoned batch can be retried; this one is {batch.Status}.");
        if (batch.RawPath is null || !File.Exists(batch.RawPath))
            throw CatalogException.Conflict("The raw file of this batch is no longer kept, so it cannot be re-run; upload the file again.");
        await DatasetAsync(batch.DatasetId, ct);
        await db.Set<Batch>().Where(b => b.Id == batchId).ExecuteUpdateAsync(s => s
            .SetProperty(b => b.Status, BatchStatus.Queued).SetProperty(b => b.FailureReason, (string?)null)
            .SetProperty(b => b.CompletedAt, (DateTimeOffset?)null), ct);
        await stages.ResetAsync(batchId, ct);
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "batch.retry", Target = batchId });
        await db.SaveChangesAsync(ct);
        await EnqueueAsync(batchId, actor, ct);
        return await GetAsync(batchId, ct);
    }

    /// <summary>
    /// Stops a queued or processing batch: it ends abandoned, its job cancelled, and its partial output is removed by the job.
    /// Finished batches: 409. A batch whose job is already applying it to the identity graph and profiles: 409 "too late"
    /// (it ends as success or failed). The batch and its job never disagree.
    /// </summary>
    public async Task<Batch> CancelAsync(string batchId, string? actor, CancellationToken ct = default)
    {
        var batch = await GetAsync(batchId, ct);
        var result = await CancelBatchAsync(batch, actor ?? "a user", ct);
        if (result.Outcome != JobCancelOutcome.Cancelled) throw CatalogException.Conflict(result.Message);
        return await GetAsync(batchId, ct);
    }

    /// <summary>The cancel of <see cref="CancelAsync"/> as a result (also the ingestion job kind's <see cref="IJobCanceller"/>).</summary>
    internal async Task<JobCancelResult> CancelBatchAsync(Batch batch, string actor, CancellationToken ct)
    {
        var reason = "Cancelled by " + actor;
        var now = clock.GetUtcNow();
        var n = await db.Set<Batch>()
            .Where(b => b.Id == batch.Id && (b.Status == BatchStatus.Queued || b.Status == BatchStatus.Processing) && b.CommitStartedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.Status, BatchStatus.Abandoned).SetProperty(b => b.FailureReason, reason)
                .SetProperty(b => b.CompletedAt, now), ct);
        if (n == 0)
        {
            var status = await db.Set<Batch>().Where(b => b.Id == batch.Id).Select(b => b.Status).FirstAsync(ct);
            return BatchStatus.IsFinal(status)
                ? new JobCancelResult(JobCancelOutcome.AlreadyFinished, $"The batch is already {status}.")
                : new JobCancelResult(JobCancelOutcome.TooLate,
                    "Too late to cancel: the batch is stored in the lake and is being applied to the identity graph and profiles; it will end as success or failed.");
        }
        if (batch.JobRunId is not null) await jobs.MarkCancelledAsync(batch.JobRunId, actor, ct);
        db.Add(new AuditEntry { Actor = actor, Action = "batch.cancel", Target = batch.Id });
        await db.SaveChangesAsync(ct);
        return JobCancelResult.Done;
    }

    /// <summary>The batch's folder in the lake.</summary>
    public string BatchFolder(Batch batch) => lake.BatchFolder(batch.SandboxId, batch.DatasetId, batch.Id);

    /// <summary>A page of the batch's rejected records.</summary>
    public async Task<BatchErrorPage> ErrorsAsync(string batchId, long offset, int limit, CancellationToken ct = default)
    {
        var batch = await GetAsync(batchId, ct);
        return await Task.Run(() => BatchErrors.Read(BatchFolder(batch), offset, limit), ct);
    }

    /// <summary>Writes the batch's rejected records as CSV to a temp file; null when there are none. The caller deletes it.</summary>
    public async Task<string?> ErrorsCsvAsync(string batchId, CancellationToken ct = default)
    {
        var batch = await GetAsync(batchId, ct);
        var path = Path.Combine(Path.GetTempPath(), $"ep-errors-{batch.Id}-{Guid.NewGuid():N}.csv");
        return await Task.Run(() => BatchErrors.ExportCsv(BatchFolder(batch), path) ? path : null, ct);
    }

    /// <summary>The batch's Parquet data files (committed batches only).</summary>
    public async Task<IReadOnlyList<LakeFileInfo>> FilesAsync(string batchId, CancellationToken ct = default)
    {
        var batch = await GetAsync(batchId, ct);
        var folder = BatchFolder(batch);
        if (!LakeFolders.IsComplete(folder)) return [];
        var known = batch.Files.ToDictionary(f => f.Name, StringComparer.Ordinal);
        return Directory.EnumerateFiles(folder, "part-*.parquet").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)
            .Select(n => known.TryGetValue(n, out var f) ? f : new LakeFileInfo(n, new FileInfo(Path.Combine(folder, n)).Length, -1)).ToList();
    }

    /// <summary>The full path of one listed data file; 404 for any name not in the listing (no path tricks).</summary>
    public async Task<string> FilePathAsync(string batchId, string name, CancellationToken ct = default)
    {
        var files = await FilesAsync(batchId, ct);
        var hit = files.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.Ordinal))
                  ?? throw CatalogException.NotFound($"The batch has no file '{name}'.");
        return Path.Combine(BatchFolder(await GetAsync(batchId, ct)), hit.Name);
    }

    /// <summary>The first rows of an upload with a mapping suggested for the dataset's schema.</summary>
    public async Task<PreviewResult> PreviewAsync(string datasetId, string filePath, string fileName, char delimiter = ',', int maxRows = 20, CancellationToken ct = default, string? encoding = null)
    {
        var dataset = await DatasetAsync(datasetId, ct);
        return await IngestPreview.PreviewAsync(filePath, fileName, delimiter, maxRows, dataset.Schema, ct, encoding);
    }

    /// <summary>The preview's rows as they will be stored with this mapping and these options: typed values per field, or the reasons a row would be rejected.</summary>
    public async Task<IReadOnlyList<MappedRow>> MapPreviewAsync(string datasetId, PreviewResult preview, BatchOptions options, CancellationToken ct = default)
    {
        var dataset = await DatasetAsync(datasetId, ct);
        var ns = await NamespacesAsync(ct);
        RecordValidator validator;
        try { validator = new RecordValidator(dataset.Schema, ns, options.ToIngestOptions()); }
        catch (ArgumentException e) { throw CatalogException.Rule(e.Message); }
        var mapping = options.Mapping ?? preview.SuggestedMapping.ToDictionary();
        var rows = new List<MappedRow>();
        for (var r = 0; r < preview.Rows.Count; r++)
        {
            var obj = new System.Text.Json.Nodes.JsonObject();
            foreach (var (source, target) in mapping)
            {
                var i = preview.Columns.ToList().FindIndex(c => string.Equals(c, source, StringComparison.OrdinalIgnoreCase));
                if (i >= 0 && i < preview.Rows[r].Count) obj[target] = preview.Rows[r][i];
            }
            foreach (var (field, value) in options.Constants ?? []) obj.TryAdd(field, value);
            using var doc = JsonDocument.Parse(obj.ToJsonString());
            var v = validator.Validate(doc.RootElement);
            var values = dataset.Schema.Fields.ToDictionary(f => f.Path, f => v.Record is { } rec && rec.TryGetValue(f.Path, out var x) ? Text(x) : null);
            rows.Add(new MappedRow(r + 1, values, v.Errors));
        }
        return rows;
    }

    /// <summary>The first stored records of a dataset (its committed files), read with DuckDB.</summary>
    public async Task<LakeRows> StoredRecordsAsync(string datasetId, int limit = 20, CancellationToken ct = default)
    {
        var dataset = await DatasetAsync(datasetId, ct);
        return await LakePreview.ReadAsync(LakeCatalog.DataFiles(dataset), limit, ct);
    }

    /// <summary>Identity namespaces of the sandbox by code, for validators.</summary>
    public async Task<IReadOnlyDictionary<string, NamespaceInfo>> NamespacesAsync(CancellationToken ct = default)
    {
        var map = new Dictionary<string, NamespaceInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (var n in await namespaces.ListAsync(ct)) map.TryAdd(n.Code, n);
        return map;
    }

    /// <summary>
    /// Parses the API's text form fields into options; 400 (<see cref="CatalogException"/> with per-field errors) for bad values.
    /// <paramref name="mapping"/> and <paramref name="constants"/> are JSON objects of strings.
    /// </summary>
    public static BatchOptions ParseOptions(string? delimiter, string? errorThreshold, string? mapping, string? constants, string? dateFormat, string? timestampFormat, string? encoding = null)
    {
        var errors = new Dictionary<string, string[]>();
        var enc = TextDecoding.Canonical(encoding);
        if (enc is null) errors["encoding"] = [$"encoding must be one of {string.Join(", ", TextDecoding.Names)}."];
        var d = ',';
        if (!string.IsNullOrEmpty(delimiter))
        {
            var text = delimiter is "\\t" or "tab" or "TAB" ? "\t" : delimiter;
            if (text.Length != 1 || text[0] is '"' or '\r' or '\n') errors["delimiter"] = ["delimiter must be one character (not a quote or a line break), e.g. ',' ';' '|' or '\\t'."];
            else d = text[0];
        }
        var threshold = 5.0;
        if (!string.IsNullOrWhiteSpace(errorThreshold)
            && (!double.TryParse(errorThreshold, NumberStyles.Float, CultureInfo.InvariantCulture, out threshold) || double.IsNaN(threshold) || threshold < 0 || threshold > 100))
            errors["errorThreshold"] = ["errorThreshold must be a percentage between 0 and 100."];
        var map = StringMap(mapping, "mapping", errors);
        var consts = StringMap(constants, "constants", errors);
        if (errors.Count > 0) throw new CatalogException(CatalogErrorKind.Invalid, string.Join(" ", errors.SelectMany(e => e.Value)), errors);
        return new BatchOptions
        {
            Delimiter = d, ErrorThreshold = threshold, Mapping = map, Constants = consts,
            DateFormat = string.IsNullOrWhiteSpace(dateFormat) ? null : dateFormat.Trim(),
            TimestampFormat = string.IsNullOrWhiteSpace(timestampFormat) ? null : timestampFormat.Trim(),
            Encoding = enc == TextDecoding.Utf8 ? null : enc,
        };
    }

    private async Task EnqueueAsync(string batchId, string? actor, CancellationToken ct)
    {
        var run = await jobs.EnqueueAsync(JobKind, batchId, actor, ct);
        await db.Set<Batch>().Where(b => b.Id == batchId).ExecuteUpdateAsync(s => s.SetProperty(b => b.JobRunId, run.Id), ct);
    }

    private Task<Batch?> ByKeyAsync(string datasetId, string key, CancellationToken ct) =>
        Query().FirstOrDefaultAsync(b => b.DatasetId == datasetId && b.IdempotencyKey == key, ct);

    private static void CheckOptions(BatchOptions options, SchemaDefinition schema)
    {
        var errors = new Dictionary<string, string[]>();
        var unknown = (options.Mapping ?? []).Values.Concat((options.Constants ?? []).Keys)
            .Where(t => !schema.Fields.Any(f => string.Equals(f.Path, t, StringComparison.OrdinalIgnoreCase))).Distinct().ToList();
        if (unknown.Count > 0)
            errors["mapping"] = [$"Not fields of schema '{schema.Name}': {string.Join(", ", unknown.Take(10).Select(u => $"'{u}'"))}."];
        var dup = (options.Mapping ?? []).GroupBy(kv => kv.Value, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) errors["mapping"] = [$"Several columns map to '{dup.Key}': {string.Join(", ", dup.Select(kv => $"'{kv.Key}'"))}."];
        if (errors.Count > 0) throw new CatalogException(CatalogErrorKind.Invalid, string.Join(" ", errors.SelectMany(e => e.Value)), errors);
    }

    private static Dictionary<string, string>? StringMap(string? json, string field, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(json)) return null;
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object) { errors[field] = [$"{field} must be a JSON object of strings."]; return null; }
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String) { errors[field] = [$"{field}: the value of '{p.Name}' must be a string."]; return null; }
                map[p.Name] = p.Value.GetString()!;
            }
            return map;
        }
        catch (JsonException e)
        {
            errors[field] = [$"{field} is not valid JSON: {e.Message.Split(" Path:")[0]}"];
            return null;
        }
    }

    internal static string? Text(object? v) => v switch
    {
        null => null,
        DateTime dt => dt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        double x => x.ToString("G", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(v, CultureInfo.InvariantCulture),
    };

    private string UploadRoot() => Path.Combine(portal.Value.UploadDirectory, db.CurrentSandboxId ?? throw new InvalidOperationException("No sandbox selected."));

    internal static string SafeFileName(string? name)
    {
        var n = Path.GetFileName((name ?? "").Replace('\\', '/'));
        n = new string(n.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or ' ' ? c : '_').ToArray()).Trim();
        if (n.Length == 0 || n.All(c => c == '.')) n = "upload.csv";
        return n.Length <= 200 ? n : n[^200..];
    }

    private static void TryDeleteFile(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
