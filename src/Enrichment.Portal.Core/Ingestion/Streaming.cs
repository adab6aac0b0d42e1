using System.Text.Json;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Ingestion.LakeWriters;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Enrichment.Portal.Core.Ingestion;

/// <summary>A rejected streamed record: its index in the request and why.</summary>
public sealed record StreamingRejection(int Index, IReadOnlyList<RecordError> Errors);

/// <summary>The answer to one streaming request.</summary>
public sealed record StreamingResult(int Accepted, IReadOnlyList<StreamingRejection> Rejected);

/// <summary>Validated streamed records waiting for the next micro-batch, per sandbox and dataset. Singleton, thread-safe.</summary>
public sealed class StreamingBuffer
{
    /// <param name="FirstAt">When the oldest record of the micro-batch was received (the start of its streaming latency).</param>
    /// <param name="LargestBytes">Size of the largest record (guardrails "profile record size" / "event size").</param>
    /// <param name="MostArrayItems">Most items of one array field in a record (guardrail "array items in a profile fragment").</param>
    public sealed record Pending(string SandboxId, string DatasetId, List<IReadOnlyDictionary<string, object?>> Records, long WithoutIdentity, DateTimeOffset FirstAt,
        long LargestBytes = 0, int MostArrayItems = 0);

    private readonly object gate = new();
    private Dictionary<(string, string), Pending> pending = new();

    public void Add(string sandboxId, string datasetId, IReadOnlyList<IReadOnlyDictionary<string, object?>> records, long withoutIdentity, DateTimeOffset at,
        long largestBytes = 0, int mostArrayItems = 0)
    {
        if (records.Count == 0) return;
        lock (gate)
        {
            if (!pending.TryGetValue((sandboxId, datasetId), out var p))
                pending[(sandboxId, datasetId)] = p = new Pending(sandboxId, datasetId, [], 0, at);
            p.Records.AddRange(records);
            pending[(sandboxId, datasetId)] = p with
            {
                WithoutIdentity = p.WithoutIdentity + withoutIdentity,
                LargestBytes = Math.Max(p.LargestBytes, largestBytes), MostArrayItems = Math.Max(p.MostArrayItems, mostArrayItems),
            };
        }
    }

    /// <summary>Takes everything buffered so far.</summary>
    public IReadOnlyList<Pending> Drain()
    {
        lock (gate)
        {
            if (pending.Count == 0) return [];
            var all = pending.Values.ToList();
            pending = new();
            return all;
        }
    }

    public int Count { get { lock (gate) return pending.Values.Sum(p => p.Records.Count); } }
}

/// <summary>Validates streamed records at once and hands the accepted ones to the <see cref="StreamingBuffer"/>.</summary>
public sealed class StreamingIngestion(IngestionService ingestion, StreamingBuffer buffer, CatalogDb db, TimeProvider clock,
    Microsoft.Extensions.Options.IOptions<GuardrailOptions> guardrails)
{
    /// <summary>Validates one JSON record or an array of records (the caller checked size and count); 404 for an unknown dataset.</summary>
    public async Task<StreamingResult> AcceptAsync(string datasetId, JsonElement body, CancellationToken ct = default)
    {
        var dataset = await ingestion.DatasetAsync(datasetId, ct);
        RecordValidator validator;
        try { validator = new RecordValidator(dataset.Schema, await ingestion.NamespacesAsync(ct), new IngestOptions().WithLimits(guardrails.Value)); }
        catch (ArgumentException e) { throw CatalogException.Rule(e.Message); }
        var records = body.ValueKind == JsonValueKind.Array ? body.EnumerateArray().ToList() : [body];
        var accepted = new List<IReadOnlyDictionary<string, object?>>();
        var rejected = new List<StreamingRejection>();
        long withoutId = 0, largest = 0;
        var mostItems = 0;
        for (var i = 0; i < records.Count; i++)
        {
            var v = validator.Validate(records[i]);
            if (v.Accepted)
            {
                accepted.Add(v.Record!);
                if (v.WithoutIdentity) withoutId++;
                largest = Math.Max(largest, System.Text.Encoding.UTF8.GetByteCount(records[i].GetRawText()));
                if (validator.HasArrays) mostItems = Math.Max(mostItems, validator.ArrayItems(v.Record!));
            }
            else rejected.Add(new StreamingRejection(i, v.Errors));
        }
        buffer.Add(db.CurrentSandboxId!, dataset.Id, accepted, withoutId, clock.GetUtcNow(), largest, mostItems);
        return new StreamingResult(accepted.Count, rejected);
    }
}

/// <summary>
/// Flushes the <see cref="StreamingBuffer"/> to the lake at least every second: each dataset's pending records become one
/// batch (source <c>streaming</c>) in its own folder, written atomically by <see cref="LakeWriter"/>, then the
/// <see cref="IngestionPipeline"/> runs the stages after the lake. Flushes what is left when the portal stops.
/// </summary>
public sealed class StreamingFlusher(StreamingBuffer buffer, IServiceScopeFactory scopes, IConfiguration config, ILogger<StreamingFlusher> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var every = Math.Clamp(IngestionOptions.Read(config).StreamingFlushMilliseconds, 50, 1000);
            try { await Task.Delay(every, stoppingToken); } catch (OperationCanceledException) { break; }
            await FlushAsync(CancellationToken.None);
        }
        await FlushAsync(CancellationToken.None);
    }

    /// <summary>Writes every pending group as a micro-batch.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        foreach (var p in buffer.Drain())
        {
            try { await WriteAsync(p, ct); }
            catch (Exception ex) { log.LogError(ex, "Streaming micro-batch of {Count} records for dataset {DatasetId} was not written", p.Records.Count, p.DatasetId); }
        }
    }

    private async Task WriteAsync(StreamingBuffer.Pending p, CancellationToken ct)
    {
        await using var scope = scopes.CreateSandboxScope(p.SandboxId);
        var sp = scope.ServiceProvider;
        var db = sp.GetRequiredService<CatalogDb>();
        var lake = sp.GetRequiredService<LakeCatalog>();
        var stages = sp.GetRequiredService<BatchStageRecorder>();
        var dataset = await lake.FindAsync(p.DatasetId, ct);
        if (dataset is null) { log.LogWarning("Dropped {Count} streamed records: dataset {DatasetId} was deleted", p.Records.Count, p.DatasetId); return; }
        var start = DateTimeOffset.UtcNow;
        var batch = new Batch
        {
            DatasetId = p.DatasetId, Source = BatchSource.Streaming, Status = BatchStatus.Processing, CreatedAt = p.FirstAt, StartedAt = start,
            RecordsRead = p.Records.Count, RecordsWithoutIdentity = p.WithoutIdentity, CreatedBy = "streaming", Format = "json",
            LargestRecordBytes = p.LargestBytes, MostArrayItems = p.MostArrayItems,
        };
        db.Add(batch);
        await db.SaveChangesAsync(ct);
        await stages.RecordAsync(batch.Id, BatchStages.Validate, BatchStatus.Success, p.FirstAt, start, $"{p.Records.Count:N0} records accepted", ct);
        var folder = lake.BatchFolder(p.SandboxId, p.DatasetId, batch.Id);
        var files = await Task.Run(() => LakeWriter.WriteRecords(folder, dataset.Schema, p.Records), ct);
        await stages.RecordAsync(batch.Id, BatchStages.Lake, BatchStatus.Success, start, DateTimeOffset.UtcNow, $"{files.Count} file(s)", ct);
        var filesJson = Batch.ToJson(files);
        await db.Set<Batch>().Where(b => b.Id == batch.Id).ExecuteUpdateAsync(s => s.SetProperty(b => b.RecordsWritten, p.Records.Count).SetProperty(b => b.FilesJson, filesJson), ct);
        batch.RecordsWritten = p.Records.Count;
        batch.FilesJson = filesJson;
        await sp.GetRequiredService<IngestionPipeline>().CommitAsync(batch, dataset, files.Select(f => Path.Combine(folder, f.Name)).ToList(), ct);
    }
}
