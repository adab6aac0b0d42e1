using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Guardrails;

/// <summary>
/// Percentiles by the nearest-rank method: the p-th percentile of N sorted values is the value at rank ⌈p/100 · N⌉ (1-based),
/// so it is always one of the measured values (p50 of 1..10 is 5, p95 of 1..10 is 10, p95 of 1..100 is 95). Null for no values.
/// </summary>
public static class Percentiles
{
    public const string Method = "nearest-rank";

    public static double? NearestRank(IEnumerable<double> values, double p)
    {
        if (p is <= 0 or > 100) throw new ArgumentOutOfRangeException(nameof(p), "p is in (0, 100].");
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0) return null;
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }
}

/// <summary>p50 and p95 of one stage (or of end to end) in milliseconds over <paramref name="Count"/> measurements.</summary>
public sealed record StagePercentiles(int Count, double? P50Ms, double? P95Ms);

/// <summary>Streaming latency: from the receipt of the oldest record of a micro-batch to the end of its last stage (profile updated).</summary>
public sealed record StreamingLatency(int MicroBatches, long Records, double? P50Ms, double? P95Ms);

/// <summary><c>GET /api/v1/ingestion/latency</c>: finished batches of the window, end to end and per stage.</summary>
public sealed record LatencySummary(
    double Hours, DateTimeOffset Since, int Batches, double? P50Ms, double? P95Ms,
    IReadOnlyDictionary<string, StagePercentiles> Stages, StreamingLatency Streaming, int InFlight, string Method);

/// <summary>One stage on a batch's timeline; an unfinished stage has no <see cref="FinishedAt"/> (it runs until now).</summary>
public sealed record LatencyStage(string Name, string Status, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, double? DurationMs, string? Detail);

/// <summary>A batch's path through its stages.</summary>
/// <param name="CurrentStage">For a batch in flight: the stage it is in (or <c>queued</c>); null once finished.</param>
/// <param name="TotalMs">End to end: first stage start to last stage end (finished batches).</param>
public sealed record LatencyBatch(
    string Id, string DatasetId, string DatasetName, bool SystemDataset, string Source, string Status, string? FileName,
    DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt, string? CurrentStage, double? TotalMs, long RecordsRead, long RecordsWritten,
    IReadOnlyList<LatencyStage> Stages, IReadOnlyList<string> Warnings);

/// <summary><c>GET /api/v1/ingestion/latency/batches</c>: recent batches with their timelines, in-flight ones first.</summary>
public sealed record LatencyBatches(double Hours, IReadOnlyList<LatencyBatch> Items, int InFlight);

/// <summary>
/// Ingestion latency of the current sandbox from the batch stage table (upload, validate, lake, identity, profile):
/// end to end = first stage start to last stage end; stage = its end minus its start. Finished (successful) batches of the
/// window count; uploads and system writes (scoring outputs) are "batches", streaming micro-batches are measured apart.
/// At most <see cref="MaxSample"/> of the newest batches of each kind are read.
/// </summary>
public sealed class LatencyService(CatalogDb db, TimeProvider clock)
{
    public const int MaxSample = 10_000;
    public const double MaxHours = 24 * 31;

    /// <summary>The stages measured: those of <see cref="IngestionPipeline"/>, in its order.</summary>
    public static IReadOnlyList<string> StageNames => IngestionPipeline.StageNames;

    /// <summary>Percentiles of the finished batches created in the last <paramref name="hours"/>.</summary>
    public async Task<LatencySummary> SummaryAsync(double hours, CancellationToken ct = default)
    {
        var since = clock.GetUtcNow() - TimeSpan.FromHours(hours);
        var batches = await FinishedAsync(since, streaming: false, ct);
        var streaming = await FinishedAsync(since, streaming: true, ct);
        var inFlight = await db.Set<Batch>().AsNoTracking().CountAsync(b => (b.Status == BatchStatus.Queued || b.Status == BatchStatus.Processing) && b.Source != BatchSource.Streaming, ct);
        return Summarize(hours, since, batches, streaming, inFlight);
    }

    /// <summary>The summary of known stage times (unit-testable): <paramref name="batches"/> are (stages) of finished batches.</summary>
    public static LatencySummary Summarize(double hours, DateTimeOffset since, IReadOnlyList<FinishedBatch> batches, IReadOnlyList<FinishedBatch> streaming, int inFlight)
    {
        var ends = batches.Select(b => b.EndToEndMs).ToList();
        var stages = new Dictionary<string, StagePercentiles>();
        foreach (var name in StageNames)
        {
            var d = batches.SelectMany(b => b.Stages).Where(s => s.Name == name && s.FinishedAt is not null).Select(s => (s.FinishedAt!.Value - s.StartedAt).TotalMilliseconds).ToList();
            stages[name] = new StagePercentiles(d.Count, Percentiles.NearestRank(d, 50), Percentiles.NearestRank(d, 95));
        }
        var stream = streaming.Select(b => b.StreamingMs).ToList();
        return new LatencySummary(hours, since, batches.Count, Percentiles.NearestRank(ends, 50), Percentiles.NearestRank(ends, 95), stages,
            new StreamingLatency(streaming.Count, streaming.Sum(b => b.Records), Percentiles.NearestRank(stream, 50), Percentiles.NearestRank(stream, 95)), inFlight, Percentiles.Method);
    }

    /// <summary>A finished batch with its stage times: <see cref="CreatedAt"/> is, for a micro-batch, when its oldest record was received.</summary>
    public sealed record FinishedBatch(string Id, DateTimeOffset CreatedAt, long Records, IReadOnlyList<BatchStage> Stages)
    {
        public double EndToEndMs => Stages.Count == 0 ? 0 : (Stages.Max(s => s.FinishedAt ?? s.StartedAt) - Stages.Min(s => s.StartedAt)).TotalMilliseconds;
        public double StreamingMs => Stages.Count == 0 ? 0 : Math.Max(0, (Stages.Max(s => s.FinishedAt ?? s.StartedAt) - CreatedAt).TotalMilliseconds);
    }

    private async Task<IReadOnlyList<FinishedBatch>> FinishedAsync(DateTimeOffset since, bool streaming, CancellationToken ct)
    {
        var q = db.Set<Batch>().AsNoTracking().Where(b => b.CreatedAt >= since && b.Status == BatchStatus.Success);
        q = streaming ? q.Where(b => b.Source == BatchSource.Streaming) : q.Where(b => b.Source != BatchSource.Streaming);
        var rows = await q.OrderByDescending(b => b.CreatedAt).Take(MaxSample).Select(b => new { b.Id, b.CreatedAt, b.RecordsWritten }).ToListAsync(ct);
        if (rows.Count == 0) return [];
        var stages = await StagesOfAsync(rows.Select(r => r.Id).ToList(), ct);
        return rows.Select(r => new FinishedBatch(r.Id, r.CreatedAt, r.RecordsWritten, stages.GetValueOrDefault(r.Id) ?? []))
            .Where(b => b.Stages.Count > 0 && b.Stages.All(s => s.FinishedAt is not null)).ToList();
    }

    private async Task<Dictionary<string, List<BatchStage>>> StagesOfAsync(IReadOnlyList<string> ids, CancellationToken ct)
    {
        var all = new List<BatchStage>();
        foreach (var chunk in ids.Chunk(500))
        {
            var part = chunk.ToList();
            all.AddRange(await db.Set<BatchStage>().AsNoTracking().Where(s => part.Contains(s.BatchId)).ToListAsync(ct));
        }
        return all.GroupBy(s => s.BatchId).ToDictionary(g => g.Key, g => g.OrderBy(s => BatchStages.Order(s.Name)).ThenBy(s => s.StartedAt).ToList());
    }

    /// <summary>Batches in flight (any age) and the newest <paramref name="limit"/> batches of the window, with their stage timelines.</summary>
    public async Task<LatencyBatches> BatchesAsync(double hours, int limit, bool includeStreaming = false, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var since = now - TimeSpan.FromHours(hours);
        var q = db.Set<Batch>().AsNoTracking();
        if (!includeStreaming) q = q.Where(b => b.Source != BatchSource.Streaming);
        var flying = await q.Where(b => b.Status == BatchStatus.Queued || b.Status == BatchStatus.Processing)
            .OrderByDescending(b => b.CreatedAt).Take(100).ToListAsync(ct);
        var recent = await q.Where(b => b.CreatedAt >= since).OrderByDescending(b => b.CreatedAt).ThenByDescending(b => b.Id).Take(limit).ToListAsync(ct);
        var batches = flying.Concat(recent).DistinctBy(b => b.Id).ToList();
        var stages = await StagesOfAsync(batches.Select(b => b.Id).ToList(), ct);
        var datasetIds = batches.Select(b => b.DatasetId).Distinct().ToList();
        var datasets = await db.Set<Dataset>().AsNoTracking().Where(d => datasetIds.Contains(d.Id)).Select(d => new { d.Id, d.Name, d.System }).ToDictionaryAsync(d => d.Id, ct);
        var items = batches.Select(b =>
        {
            var st = stages.GetValueOrDefault(b.Id) ?? [];
            var ds = datasets.GetValueOrDefault(b.DatasetId);
            var final = BatchStatus.IsFinal(b.Status);
            var current = final ? null : st.LastOrDefault(s => s.FinishedAt is null)?.Name ?? (b.Status == BatchStatus.Queued ? "queued" : st.LastOrDefault()?.Name ?? "queued");
            double? total = final && st.Count > 0 && st.All(s => s.FinishedAt is not null)
                ? (st.Max(s => s.FinishedAt!.Value) - st.Min(s => s.StartedAt)).TotalMilliseconds : null;
            return new LatencyBatch(b.Id, b.DatasetId, ds?.Name ?? "(deleted dataset)", ds?.System ?? false, b.Source, b.Status, b.FileName, b.CreatedAt, b.CompletedAt,
                current, total, b.RecordsRead, b.RecordsWritten,
                st.Select(s => new LatencyStage(s.Name, s.Status, s.StartedAt, s.FinishedAt, s.FinishedAt is { } f ? (f - s.StartedAt).TotalMilliseconds : null, s.Detail)).ToList(),
                b.Warnings);
        }).OrderBy(b => b.CurrentStage is null).ThenByDescending(b => b.CreatedAt).ToList();
        return new LatencyBatches(hours, items, items.Count(i => i.CurrentStage is not null));
    }
}
