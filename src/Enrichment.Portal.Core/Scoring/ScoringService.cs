using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Cronos;
using Enrichment.Portal.Core.Audit;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Profiles;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Scoring;

/// <summary>A page of scoring runs, newest first; <see cref="NextOffset"/> is null on the last page.</summary>
public sealed record ScoringRunList(IReadOnlyList<ScoringRunView> Items, int? NextOffset);

/// <summary>
/// Scoring of the current sandbox, for pages, endpoints, the scheduler and the job. <see cref="StartAsync(string, ScoringTarget?, string?, CancellationToken)"/>
/// queues a <see cref="ScoringRun"/> (job kind <c>scoring</c>, see <see cref="ScoringJob"/>) that applies the model's active version
/// to a dataset or the newest profile snapshot with ML.NET batch transforms and ingests the results, through the normal
/// ingestion path (lake, identity and profile stages), into the model's output system dataset <c>Scores: &lt;model&gt;</c>, so that
/// every scored profile shows <c>insights.&lt;model name&gt; = { score | value | top | segment | engagement, modelVersion, scoredAt }</c>;
/// a new run replaces the previous results of that model. <see cref="SetScheduleAsync"/> stores a cron schedule (optionally
/// retraining first) that <see cref="ScoringScheduler"/> fires. <see cref="PredictAsync"/> scores one profile now from its
/// merged attributes and events with pooled prediction engines. Refusals are <see cref="CatalogException"/>s
/// (400 malformed, 404 unknown, 409 conflict with the current state, 422 a broken rule).
/// </summary>
public sealed class ScoringService(CatalogDb db, LakeCatalog lake, JobScheduler jobs, ProfileService profiles, ModelScorer scorer,
    ModelArtifactCache artifacts, TimeProvider clock)
{
    public const string JobKind = "scoring";
    /// <summary>PSI above this is reported as drift.</summary>
    public const double DriftThreshold = 0.2;
    /// <summary>The output system dataset of a model is named with this prefix and the model name.</summary>
    public const string OutputPrefix = "Scores: ";

    public static string OutputDatasetName(string modelName) => OutputPrefix + modelName;

    // ---------------------------------------------------------------- runs

    /// <summary>Queues a manual scoring run of the model's active version on <paramref name="target"/> (null: the model's own source).</summary>
    public Task<ScoringRun> StartAsync(string modelId, ScoringTarget? target, string? actor = null, CancellationToken ct = default) =>
        StartAsync(modelId, target, actor, ScoringTrigger.Manual, retrain: false, ct);

    /// <summary>
    /// Queues a scoring run. 404: unknown model or target dataset; 409: the model has no active version (unless
    /// <paramref name="retrain"/>) or a run of it is already queued or running; 422: the target has no data, is a snapshot
    /// that does not exist yet, or is the model's own output.
    /// </summary>
    public async Task<ScoringRun> StartAsync(string modelId, ScoringTarget? target, string? actor, string trigger, bool retrain, CancellationToken ct = default)
    {
        var model = await db.Set<Model>().AsNoTracking().FirstOrDefaultAsync(m => m.Id == modelId, ct)
                    ?? throw CatalogException.NotFound($"No model {modelId} in this sandbox.");
        target ??= model.SourceSnapshot || model.SourceDatasetId is null ? ScoringTarget.NewestSnapshot : ScoringTarget.Dataset(model.SourceDatasetId);
        if (target.Snapshot && !string.IsNullOrWhiteSpace(target.DatasetId))
            throw CatalogException.Invalid("target", "Give either target.datasetId or target.snapshot = true, not both.");
        if (!target.Snapshot && string.IsNullOrWhiteSpace(target.DatasetId))
            throw CatalogException.Invalid("target", "A target is required: { \"datasetId\": \"...\" } or { \"snapshot\": true }.");
        if (model.ActiveVersionId is null && !retrain)
            throw CatalogException.Conflict($"The model '{model.Name}' has no active version yet: train it (and activate a version) before scoring.");

        await ScoringTargets.CheckAsync(lake, model, target, ct);

        var open = await db.Set<ScoringRun>().Where(r => r.ModelId == modelId && (r.Status == ScoringStatus.Queued || r.Status == ScoringStatus.Running)).ToListAsync(ct);
        if (await ReconcileAsync(open, ct) < open.Count)
            throw CatalogException.Conflict($"A scoring run of '{model.Name}' is already queued or running; wait for it to finish.");

        var run = new ScoringRun
        {
            ModelId = modelId, VersionId = model.ActiveVersionId, TargetDatasetId = target.Snapshot ? null : target.DatasetId, TargetSnapshot = target.Snapshot,
            Trigger = trigger, Retrain = retrain, CreatedBy = actor, CreatedAt = clock.GetUtcNow(), Stage = "queued",
        };
        db.Add(run);
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "model.score", Target = model.Id, Detail = $"{run.Id} ({trigger})" });
        await db.SaveChangesAsync(ct);
        var job = await jobs.EnqueueAsync(JobKind, run.Id, actor, ct);
        run.JobRunId = job.Id;
        await db.Set<ScoringRun>().Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.JobRunId, job.Id), ct);
        return run;
    }

    public async Task<ScoringRunView> GetRunAsync(string runId, CancellationToken ct = default)
    {
        var r = await db.Set<ScoringRun>().FirstOrDefaultAsync(x => x.Id == runId, ct)
                ?? throw CatalogException.NotFound($"No scoring run {runId} in this sandbox.");
        if (!ScoringStatus.IsFinal(r.Status)) await ReconcileAsync([r], ct);
        return ScoringRunView.From(r);
    }

    /// <summary>The scoring runs of a model, newest first. 404 for an unknown model.</summary>
    public async Task<ScoringRunList> ListRunsAsync(string modelId, int offset = 0, int limit = 50, CancellationToken ct = default)
    {
        if (!await db.Set<Model>().AnyAsync(m => m.Id == modelId, ct)) throw CatalogException.NotFound($"No model {modelId} in this sandbox.");
        var runs = await db.Set<ScoringRun>().AsNoTracking().Where(r => r.ModelId == modelId).ToListAsync(ct);
        var page = runs.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Skip(Math.Max(0, offset)).Take(limit + 1).ToList();
        return new ScoringRunList(page.Take(limit).Select(ScoringRunView.From).ToList(), page.Count > limit ? offset + limit : null);
    }

    /// <summary>Unfinished runs whose job has ended without them (cancelled, or failed before the run could record it) are marked failed.</summary>
    private async Task<int> ReconcileAsync(IReadOnlyList<ScoringRun> runs, CancellationToken ct)
    {
        var settled = 0;
        foreach (var run in runs)
        {
            var job = run.JobRunId is null ? null : await db.Set<JobRun>().AsNoTracking().FirstOrDefaultAsync(j => j.Id == run.JobRunId, ct);
            if (job is null || !JobStatus.IsFinal(job.Status)) continue;
            await db.Entry(run).ReloadAsync(ct);
            if (ScoringStatus.IsFinal(run.Status)) { settled++; continue; }
            run.Status = ScoringStatus.Failed;
            run.Error = job.Status == JobStatus.Cancelled ? "The scoring run was cancelled." : job.Error ?? $"The scoring job ended as {job.Status}.";
            run.FinishedAt = job.FinishedAt ?? clock.GetUtcNow();
            run.Stage = "failed";
            settled++;
        }
        if (settled > 0) await db.SaveChangesAsync(ct);
        return settled;
    }

    // ---------------------------------------------------------------- schedules

    /// <summary>
    /// Parses a cron expression: 5 fields (minute hour day month weekday) or 6 with seconds first. Returns null and a
    /// message for people when it is not valid.
    /// </summary>
    public static CronExpression? ParseCron(string? cron, out string? error)
    {
        error = null;
        var text = cron?.Trim() ?? "";
        if (text.Length == 0) { error = "cron must be a cron expression such as \"0 3 * * *\" (every day at 03:00 UTC)."; return null; }
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (fields is not (5 or 6))
        {
            error = $"cron must have 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first; '{text}' has {fields}.";
            return null;
        }
        try { return CronExpression.Parse(text, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard); }
        catch (CronFormatException e) { error = $"'{text}' is not a valid cron expression: {e.Message}"; return null; }
    }

    /// <summary>The next time (UTC) a cron fires strictly after <paramref name="after"/>, or null (never).</summary>
    public static DateTimeOffset? NextOccurrence(string cron, DateTimeOffset after)
    {
        var expr = ParseCron(cron, out _);
        var next = expr?.GetNextOccurrence(after.UtcDateTime, TimeZoneInfo.Utc);
        return next is { } n ? new DateTimeOffset(DateTime.SpecifyKind(n, DateTimeKind.Utc)) : null;
    }

    public async Task<ModelScheduleView> GetScheduleAsync(string modelId, CancellationToken ct = default) =>
        ModelScheduleView.Of(await db.Set<Model>().AsNoTracking().FirstOrDefaultAsync(m => m.Id == modelId, ct) ?? throw CatalogException.NotFound($"No model {modelId} in this sandbox."));

    /// <summary>
    /// Sets (or, with a null or blank <paramref name="cron"/>, clears) the model's recurring scoring in UTC. 422 with the reason for an
    /// invalid cron expression. Each firing scores the model's source (dataset or newest snapshot) with trigger <c>schedule</c>;
    /// with <paramref name="retrain"/> it first trains a new version and activates it only if it is not worse than the active one.
    /// </summary>
    public async Task<ModelScheduleView> SetScheduleAsync(string modelId, string? cron, bool retrain, string? actor = null, CancellationToken ct = default)
    {
        var model = await db.Set<Model>().FirstOrDefaultAsync(m => m.Id == modelId, ct) ?? throw CatalogException.NotFound($"No model {modelId} in this sandbox.");
        if (string.IsNullOrWhiteSpace(cron)) return await ClearScheduleAsync(modelId, actor, ct);
        var expr = ParseCron(cron, out var error);
        if (expr is null) throw CatalogException.Rule(error!, new Dictionary<string, string[]> { ["cron"] = [error!] });
        var now = clock.GetUtcNow();
        var next = expr.GetNextOccurrence(now.UtcDateTime, TimeZoneInfo.Utc);
        if (next is null) throw CatalogException.Rule($"The cron expression '{cron.Trim()}' never fires.", new Dictionary<string, string[]> { ["cron"] = ["The cron expression never fires."] });
        model.ScheduleCron = cron.Trim();
        model.ScheduleRetrain = retrain;
        model.ScheduleNextRunAt = new DateTimeOffset(DateTime.SpecifyKind(next.Value, DateTimeKind.Utc));
        model.UpdatedAt = now;
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "model.schedule", Target = model.Id, Detail = $"{model.ScheduleCron}{(retrain ? " (retrain)" : "")}" });
        await db.SaveChangesAsync(ct);
        return ModelScheduleView.Of(model);
    }

    /// <summary>Removes the model's recurring scoring (a no-op when there is none).</summary>
    public async Task<ModelScheduleView> ClearScheduleAsync(string modelId, string? actor = null, CancellationToken ct = default)
    {
        var model = await db.Set<Model>().FirstOrDefaultAsync(m => m.Id == modelId, ct) ?? throw CatalogException.NotFound($"No model {modelId} in this sandbox.");
        if (model.ScheduleCron is null && model.ScheduleNextRunAt is null) return ModelScheduleView.Of(model);
        model.ScheduleCron = null;
        model.ScheduleRetrain = false;
        model.ScheduleNextRunAt = null;
        model.UpdatedAt = clock.GetUtcNow();
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "model.schedule.clear", Target = model.Id });
        await db.SaveChangesAsync(ct);
        return ModelScheduleView.Of(model);
    }

    // ---------------------------------------------------------------- one profile

    /// <summary>
    /// Scores the profile that has identity <paramref name="id"/> in <paramref name="namespace"/> now, from its current merged
    /// attributes (and, for models with event features or engagement, its events of the model's event dataset), with the active
    /// version's pooled prediction engines. 404: unknown model or no such profile; 409: no active version; 422: the recipe cannot be
    /// scored one profile at a time (CLV, affinity: use a scoring run).
    /// </summary>
    public async Task<PredictionView> PredictAsync(string modelId, string? @namespace, string? id, CancellationToken ct = default)
    {
        var bad = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(@namespace)) bad["namespace"] = ["namespace is required (an identity namespace code such as CRMID)."];
        if (string.IsNullOrWhiteSpace(id)) bad["id"] = ["id is required (the identity value)."];
        if (bad.Count > 0) throw new CatalogException(CatalogErrorKind.Invalid, string.Join(" ", bad.SelectMany(e => e.Value)), bad);
        var model = await db.Set<Model>().AsNoTracking().FirstOrDefaultAsync(m => m.Id == modelId, ct)
                    ?? throw CatalogException.NotFound($"No model {modelId} in this sandbox.");
        if (model.ActiveVersionId is null) throw CatalogException.Conflict($"The model '{model.Name}' has no active version yet: train it first.");
        var version = await db.Set<ModelVersion>().AsNoTracking().FirstOrDefaultAsync(v => v.Id == model.ActiveVersionId, ct)
                      ?? throw CatalogException.Conflict($"The active version of '{model.Name}' no longer exists.");
        if (version.Recipe is "clv" or "affinity")
            throw CatalogException.Rule($"The {version.Recipe} recipe cannot be scored one profile at a time (it scores from the whole event history with population-level state); start a scoring run instead.");
        var (artifact, manifest) = artifacts.Get(version.ArtifactPath);
        if (manifest.Recipe is Recipe.Clv or Recipe.Affinity || (manifest.Recipe != Recipe.Engagement && manifest.Plan is null && manifest.Onnx is null))
            throw CatalogException.Rule($"The {version.Recipe} recipe cannot be scored one profile at a time; start a scoring run instead.");

        string? pid;
        try { pid = await profiles.FindProfileIdAsync(@namespace!, id!, ct); }
        catch (ArgumentException e) { throw CatalogException.Invalid("namespace", e.Message); }
        var s = db.Sandbox.Require();
        var attrs = pid is null ? null : await db.Set<Profile>().IgnoreQueryFilters().AsNoTracking()
            .Where(p => p.SandboxId == s && p.Id == pid).Select(p => p.Attributes).FirstOrDefaultAsync(ct);
        if (pid is null || attrs is null) throw CatalogException.NotFound($"No profile has the identity {@namespace}:{id}.");

        var row = FlatValues(attrs);
        List<IReadOnlyDictionary<string, object?>>? events = null;
        if ((manifest.UsesEventFeatures || manifest.Recipe == Recipe.Engagement) && manifest.Events is { } cols)
        {
            var q = db.Set<ProfileEvent>().IgnoreQueryFilters().AsNoTracking().Where(e => e.SandboxId == s && e.ProfileId == pid);
            if (version.EventDatasetId is { } evDs) q = q.Where(e => e.DatasetId == evDs);
            var rows = await q.Select(e => new { e.Timestamp, e.EventType, e.Fields }).ToListAsync(ct);
            events = rows.Select(e =>
            {
                var d = FlatValues(e.Fields);
                d[cols.Timestamp] = e.Timestamp.UtcDateTime;
                if (cols.EventType is { } et) d[et] = e.EventType;
                return (IReadOnlyDictionary<string, object?>)d;
            }).ToList();
        }
        ScoreResult r;
        try { r = scorer.ScoreOne(artifact, row, events); }
        catch (ModelTrainingException e) { throw CatalogException.Rule(e.Message); }
        return new PredictionView(model.Id, model.Name, version.Id, pid, r.Score, r.Value, r.Top, r.Segment, r.SegmentDescription, r.Engagement, clock.GetUtcNow(),
            r.Insight is { } name ? new Dictionary<string, object?> { [name] = (object?)r.Score ?? (object?)r.Value ?? r.Class } : null)
            { Reasons = r.Reasons, Uplift = r.Uplift };
    }

    /// <summary>A flat JSON object of the profile store (dotted path -> value) as CLR values: text, long, double, bool; objects and arrays as JSON text.</summary>
    internal static Dictionary<string, object?> FlatValues(string? json)
    {
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(json) || JsonNode.Parse(json) is not JsonObject o) return d;
        foreach (var (k, v) in o) d[k] = Clr(v);
        return d;
    }

    private static object? Clr(JsonNode? v)
    {
        if (v is not JsonValue jv) return v?.ToJsonString();
        return jv.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.String => jv.GetValue<string>(),
            System.Text.Json.JsonValueKind.True => true,
            System.Text.Json.JsonValueKind.False => false,
            System.Text.Json.JsonValueKind.Number => jv.TryGetValue<long>(out var l) ? l : jv.TryGetValue<double>(out var d) ? d
                : double.Parse(jv.ToJsonString(), CultureInfo.InvariantCulture),
            _ => null,
        };
    }
}

/// <summary>Model artifacts read from disk once per file version (path, size and write time), with their manifest. Singleton, thread-safe.</summary>
public sealed class ModelArtifactCache
{
    private readonly ConcurrentDictionary<string, (DateTime Written, long Bytes, byte[] Artifact, ModelManifest Manifest)> _cache = new(StringComparer.Ordinal);

    public (byte[] Artifact, ModelManifest Manifest) Get(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw CatalogException.Conflict("The model artifact file is missing; train the model again.");
        if (_cache.TryGetValue(path, out var hit) && hit.Written == info.LastWriteTimeUtc && hit.Bytes == info.Length) return (hit.Artifact, hit.Manifest);
        var bytes = File.ReadAllBytes(path);
        var manifest = ModelArtifact.ReadManifest(bytes);
        _cache[path] = (info.LastWriteTimeUtc, info.Length, bytes, manifest);
        return (bytes, manifest);
    }
}
