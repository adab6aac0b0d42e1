using System.Collections.Concurrent;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Guardrails;

/// <summary>Computed guardrail readings per sandbox, reused for <see cref="GuardrailOptions.CacheSeconds"/>. Singleton.</summary>
public sealed class GuardrailCache
{
    private readonly ConcurrentDictionary<string, (DateTimeOffset At, IReadOnlyList<GuardrailItem> Items)> entries = new();

    public bool TryGet(string sandboxId, DateTimeOffset now, TimeSpan maxAge, out IReadOnlyList<GuardrailItem> items)
    {
        if (entries.TryGetValue(sandboxId, out var e) && now - e.At < maxAge) { items = e.Items; return true; }
        items = [];
        return false;
    }

    public void Set(string sandboxId, DateTimeOffset now, IReadOnlyList<GuardrailItem> items) => entries[sandboxId] = (now, items);

    /// <summary>Forgets a sandbox's readings (after a change that moves a figure, e.g. a new dataset).</summary>
    public void Invalidate(string? sandboxId)
    {
        if (sandboxId is not null) entries.TryRemove(sandboxId, out _);
    }
}

/// <summary>
/// The guardrails of the current sandbox (docs/GUARDRAILS.md): each limit with its usage counted from the stores with bounded,
/// indexed queries (never a scan of the lake), cached briefly; and the soft-limit warnings of datasets and batches.
/// </summary>
public sealed class GuardrailService(CatalogDb db, GuardrailUsage usage, GuardrailCache cache, IOptions<GuardrailOptions> options, IConfiguration config, TimeProvider clock)
{
    private GuardrailOptions O => options.Value;

    /// <summary>The effective hard limit of one batch file: <c>Guardrails:BatchFileBytes</c> when set and smaller, else <c>Ingestion:MaxUploadBytes</c>.</summary>
    public long BatchFileLimit => IngestionOptions.Read(config).MaxUploadBytes;

    /// <summary>Every guardrail with its usage (cached per sandbox for <see cref="GuardrailOptions.CacheSeconds"/>; <paramref name="fresh"/> counts again).</summary>
    public async Task<IReadOnlyList<GuardrailItem>> ReadAsync(bool fresh = false, CancellationToken ct = default)
    {
        var sandbox = db.CurrentSandboxId ?? throw new InvalidOperationException("No sandbox selected.");
        var now = clock.GetUtcNow();
        if (!fresh && cache.TryGet(sandbox, now, TimeSpan.FromSeconds(Math.Max(0, O.CacheSeconds)), out var cached)) return cached;
        var items = await ComputeAsync(sandbox, ct);
        cache.Set(sandbox, now, items);
        return items;
    }

    /// <summary>Guardrails at warning or exceeded (for the sandbox home).</summary>
    public async Task<IReadOnlyList<GuardrailItem>> AttentionAsync(CancellationToken ct = default) =>
        (await ReadAsync(false, ct)).Where(i => i.Status != GuardrailStatus.Ok).OrderByDescending(i => i.Status == GuardrailStatus.Exceeded).ThenByDescending(i => i.Ratio).ToList();

    private async Task<IReadOnlyList<GuardrailItem>> ComputeAsync(string sandbox, CancellationToken ct)
    {
        var o = O;
        var list = new List<GuardrailItem>();
        GuardrailItem Item(string key, long limit, long current, string? offender = null, string? href = null, string? note = null)
        {
            var d = GuardrailCatalog.Get(key);
            return new GuardrailItem(d.Key, d.Name, limit, current, d.Unit, GuardrailStatus.Of(current, limit, o.WarningRatio), d.Enforcement,
                d.Description, d.Where, offender, href, note, d.Source);
        }

        // Datasets per class: one grouped count over the sandbox's datasets.
        var (profileDatasets, eventDatasets) = await usage.DatasetsByClassAsync(ct);
        list.Add(Item(GuardrailCatalog.ProfileDatasets, o.ProfileDatasetsPerSandbox, profileDatasets, href: "/datasets"));
        list.Add(Item(GuardrailCatalog.EventDatasets, o.EventDatasetsPerSandbox, eventDatasets, href: "/datasets"));

        // Identities per graph: the top of index (sandbox_id, identity_count); graphs that evicted: index (sandbox_id, hit_limit).
        var largestGraph = await db.Set<Profile>().IgnoreQueryFilters().AsNoTracking().Where(p => p.SandboxId == sandbox)
            .OrderByDescending(p => p.IdentityCount).Select(p => new { p.Id, p.IdentityCount }).FirstOrDefaultAsync(ct);
        var evicting = await db.Set<Profile>().IgnoreQueryFilters().LongCountAsync(p => p.SandboxId == sandbox && p.HitLimit, ct);
        list.Add(Item(GuardrailCatalog.IdentitiesPerGraph, o.IdentitiesPerGraph, largestGraph?.IdentityCount ?? 0,
            largestGraph is null ? null : "profile " + largestGraph.Id, largestGraph is null ? null : "/profiles?profileId=" + largestGraph.Id,
            evicting == 0 ? null : $"{evicting:N0} graph(s) reached the limit and evicted identities"));

        // Events per profile: a grouped count over the covering index (sandbox_id, profile_id, timestamp).
        var busiest = await db.Set<ProfileEvent>().IgnoreQueryFilters().AsNoTracking().Where(e => e.SandboxId == sandbox)
            .GroupBy(e => e.ProfileId).Select(g => new { ProfileId = g.Key, Count = g.LongCount() })
            .OrderByDescending(x => x.Count).FirstOrDefaultAsync(ct);
        list.Add(Item(GuardrailCatalog.EventsPerProfile, o.EventsPerProfile, busiest?.Count ?? 0,
            busiest is null ? null : "profile " + busiest.ProfileId, busiest is null ? null : "/profiles?profileId=" + busiest.ProfileId));

        // Record sizes and arrays: the largest accepted record of each batch is kept on the batch row.
        var bySize = await LargestAsync(SchemaClass.Profile, ct);
        list.Add(Item(GuardrailCatalog.ProfileRecordSize, o.ProfileRecordBytes, bySize?.LargestRecordBytes ?? 0, Describe(bySize), Href(bySize)));
        var byEvent = await LargestAsync(SchemaClass.Event, ct);
        list.Add(Item(GuardrailCatalog.EventSize, o.EventRecordBytes, byEvent?.LargestRecordBytes ?? 0, Describe(byEvent), Href(byEvent)));
        var byArray = await (from b in db.Set<Batch>().AsNoTracking()
                             join d in db.Set<Dataset>().AsNoTracking() on b.DatasetId equals d.Id
                             where b.Status == BatchStatus.Success && b.MostArrayItems > 0
                             orderby b.MostArrayItems descending
                             select new Offending(b.Id, d.Id, d.Name, b.LargestRecordBytes, b.MostArrayItems)).FirstOrDefaultAsync(ct);
        list.Add(Item(GuardrailCatalog.ArrayItems, o.ArrayItemsPerFragment, byArray?.MostArrayItems ?? 0, Describe(byArray), Href(byArray)));

        // Batches today: index (sandbox_id, created_at).
        var today = await BatchesTodayAsync(ct);
        list.Add(Item(GuardrailCatalog.BatchesPerDay, o.BatchesPerDay, today, href: "/ingestion"));

        var schema = await db.Set<Schema>().AsNoTracking().OrderByDescending(s => s.FieldCount).Select(s => new { s.Id, s.Name, s.FieldCount }).FirstOrDefaultAsync(ct);
        list.Add(Item(GuardrailCatalog.FieldsPerSchema, o.FieldsPerSchema, schema?.FieldCount ?? 0, schema is null ? null : $"schema '{schema.Name}'",
            schema is null ? null : "/schemas/" + schema.Id));

        var audiences = await db.Set<Audiences.Audience>().AsNoTracking().CountAsync(ct);
        list.Add(Item(GuardrailCatalog.Audiences, o.AudiencesPerSandbox, audiences, href: "/audiences"));

        var file = await db.Set<Batch>().AsNoTracking().Where(b => b.Source == BatchSource.Upload).OrderByDescending(b => b.FileBytes)
            .Select(b => new { b.Id, b.FileName, b.FileBytes }).FirstOrDefaultAsync(ct);
        list.Add(Item(GuardrailCatalog.BatchFileSize, BatchFileLimit, file?.FileBytes ?? 0, file is null ? null : $"{file.FileName} (batch {file.Id})", file is null ? null : "/ingestion"));
        return list;
    }

    private sealed record Offending(string BatchId, string DatasetId, string DatasetName, long LargestRecordBytes, int MostArrayItems);

    private static string? Describe(Offending? o) => o is null ? null : $"dataset '{o.DatasetName}', batch {o.BatchId}";
    private static string? Href(Offending? o) => o is null ? null : "/datasets/" + o.DatasetId;

    private Task<Offending?> LargestAsync(SchemaClass cls, CancellationToken ct) =>
        (from b in db.Set<Batch>().AsNoTracking()
         join d in db.Set<Dataset>().AsNoTracking() on b.DatasetId equals d.Id
         join s in db.Set<Schema>().AsNoTracking() on d.SchemaId equals s.Id
         where b.Status == BatchStatus.Success && s.Class == cls && b.LargestRecordBytes > 0
         orderby b.LargestRecordBytes descending
         select new Offending(b.Id, d.Id, d.Name, b.LargestRecordBytes, b.MostArrayItems)).FirstOrDefaultAsync(ct);

    /// <summary>Batches created since midnight UTC in the sandbox, streaming micro-batches not counted.</summary>
    public Task<int> BatchesTodayAsync(CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var midnight = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        return db.Set<Batch>().AsNoTracking().CountAsync(b => b.CreatedAt >= midnight && b.Source != BatchSource.Streaming, ct);
    }

    /// <summary>The warning of the "batches per day" soft limit when today's batches (this one included) are over it, else null.</summary>
    public async Task<string?> BatchesPerDayWarningAsync(CancellationToken ct = default)
    {
        var today = await BatchesTodayAsync(ct);
        return today > O.BatchesPerDay
            ? $"Soft guardrail 'batches per day' exceeded: {today:N0} batches today (UTC) in this sandbox, limit {O.BatchesPerDay:N0}. The batch is ingested; consider fewer, larger batches."
            : null;
    }

    /// <summary>Warnings of the dataset soft limits for a new dataset of <paramref name="schemaId"/>'s class (empty when within them).</summary>
    public async Task<IReadOnlyList<string>> DatasetWarningsAsync(string schemaId, CancellationToken ct = default)
    {
        cache.Invalidate(db.CurrentSandboxId);
        var cls = await db.Set<Schema>().AsNoTracking().Where(s => s.Id == schemaId).Select(s => (SchemaClass?)s.Class).FirstOrDefaultAsync(ct);
        if (cls is null) return [];
        var (profile, events) = await usage.DatasetsByClassAsync(ct);
        var (count, limit, name) = cls == SchemaClass.Event
            ? (events, O.EventDatasetsPerSandbox, GuardrailUsage.EventDatasets)
            : (profile, O.ProfileDatasetsPerSandbox, GuardrailUsage.ProfileDatasets);
        return count > limit
            ? [$"Soft guardrail '{name}' exceeded: the sandbox now has {count:N0} {cls.ToString()!.ToLowerInvariant()} datasets, limit {limit:N0}. The dataset was created; more datasets make profile merges slower."]
            : [];
    }

    /// <summary>
    /// The soft-limit warnings of a committed batch (array items, events per profile, batches per day), written to the batch
    /// (replacing earlier ones, so a re-run gives the same result). Streaming micro-batches only get the per-record ones.
    /// </summary>
    public async Task<IReadOnlyList<string>> WarnBatchAsync(string batchId, CancellationToken ct = default)
    {
        var batch = await db.Set<Batch>().AsNoTracking().FirstOrDefaultAsync(b => b.Id == batchId, ct);
        if (batch is null) return [];
        var o = O;
        var warnings = new List<string>();
        if (batch.MostArrayItems > o.ArrayItemsPerFragment)
            warnings.Add($"Soft guardrail 'array items in a profile fragment' exceeded: a record has an array of {batch.MostArrayItems:N0} items, limit {o.ArrayItemsPerFragment:N0}.");
        if (batch.Source != BatchSource.Streaming)
        {
            var midnight = new DateTimeOffset(batch.CreatedAt.UtcDateTime.Date, TimeSpan.Zero);
            var sameDay = await db.Set<Batch>().AsNoTracking().CountAsync(b => b.CreatedAt >= midnight && b.CreatedAt <= batch.CreatedAt && b.Source != BatchSource.Streaming, ct);
            if (sameDay > o.BatchesPerDay)
                warnings.Add($"Soft guardrail 'batches per day' exceeded: this is batch {sameDay:N0} of the day (UTC) in this sandbox, limit {o.BatchesPerDay:N0}.");
        }
        var sandbox = batch.SandboxId;
        // Events per profile, for the profiles this batch gave events to (unique index sandbox_id, dataset_id, batch_id, row_number).
        var touched = db.Set<ProfileEvent>().IgnoreQueryFilters().Where(e => e.SandboxId == sandbox && e.DatasetId == batch.DatasetId && e.BatchId == batch.Id)
            .Select(e => e.ProfileId).Distinct();
        var over = await db.Set<ProfileEvent>().IgnoreQueryFilters().AsNoTracking().Where(e => e.SandboxId == sandbox && touched.Contains(e.ProfileId))
            .GroupBy(e => e.ProfileId).Select(g => new { ProfileId = g.Key, Count = g.LongCount() })
            .Where(x => x.Count > o.EventsPerProfile).OrderByDescending(x => x.Count).Take(1000).ToListAsync(ct);
        if (over.Count > 0)
            warnings.Add($"Soft guardrail 'events per profile' exceeded: {over.Count:N0}{(over.Count == 1000 ? "+" : "")} profile(s) have more than {o.EventsPerProfile:N0} events " +
                         $"(most: profile {over[0].ProfileId} with {over[0].Count:N0}).");
        var json = Batch.ToJson(warnings);
        await db.Set<Batch>().Where(b => b.Id == batchId).ExecuteUpdateAsync(s => s.SetProperty(b => b.WarningsJson, json), ct);
        cache.Invalidate(sandbox);
        return warnings;
    }
}

/// <summary>Adds the soft-guardrail warnings to every committed batch (after the identity and profile stages). Never fails a batch.</summary>
public sealed class GuardrailBatchHook(GuardrailService guardrails, GuardrailCache cache, Microsoft.Extensions.Logging.ILogger<GuardrailBatchHook> log) : IBatchBookkeeping
{
    public async Task RunAsync(Batch batch, Lake.LakeDataset dataset, IReadOnlyList<string> files, CancellationToken ct)
    {
        try { await guardrails.WarnBatchAsync(batch.Id, ct); }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(log, ex, "Guardrail warnings of batch {BatchId} not computed", batch.Id);
        }
    }

    /// <summary>Usage counts successful batches only (largest record, array items): read them again once this one counts.</summary>
    public Task OnBatchSucceededAsync(Batch batch, CancellationToken ct)
    {
        cache.Invalidate(batch.SandboxId);
        return Task.CompletedTask;
    }
}
