using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Audit;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Exploration;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Recipes;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Models;

/// <summary>What a user asks for when creating a model (API.md <c>POST /models</c>).</summary>
public sealed record ModelDefinition
{
    public string? Name { get; init; }
    public string? Recipe { get; init; }
    public string? Description { get; init; }
    public string? SourceDatasetId { get; init; }
    public bool SourceSnapshot { get; init; }
    public LabelSpec? Label { get; init; }
    public IReadOnlyList<string>? Features { get; init; }
    public IReadOnlyList<string>? ExcludeFeatures { get; init; }
    public JsonObject? Parameters { get; init; }
    public int? Seed { get; init; }
}

/// <summary>The training input of a model, resolved in the lake.</summary>
public sealed record ResolvedSource(LakeDataset? Dataset, IReadOnlyList<string> Files, LakeDataset? EventDataset, EventSource? Events);

/// <summary>
/// Models, training runs and the version registry of the current sandbox, for pages, endpoints and the training job.
/// Refusals are <see cref="CatalogException"/>s (400 malformed, 404 unknown, 409 conflict, 422 a broken rule).
/// </summary>
public sealed class ModelService(CatalogDb db, LakeCatalog lake, JobScheduler jobs, TimeProvider clock)
{
    /// <summary>Profile snapshots are system datasets named with this prefix; the newest is a "snapshot" source.</summary>
    public const string SnapshotPrefix = "Profile-Snapshot-Export-";
    public const string JobKind = "training";

    public IQueryable<Model> Query() => db.Set<Model>().AsNoTracking();

    public async Task<Model> GetAsync(string id, CancellationToken ct = default) =>
        await Query().FirstOrDefaultAsync(m => m.Id == id, ct) ?? throw CatalogException.NotFound($"No model {id} in this sandbox.");

    /// <summary>The model with its versions (newest first) and latest run.</summary>
    public async Task<ModelView> ViewAsync(string id, CancellationToken ct = default)
    {
        var m = await GetAsync(id, ct);
        var versions = (await db.Set<ModelVersion>().AsNoTracking().Where(v => v.ModelId == id).ToListAsync(ct))
            .OrderByDescending(v => v.Number).Select(v => ModelVersionView.From(v, m.ActiveVersionId)).ToList();
        var latest = await LatestRunAsync(id, ct);
        var dsName = m.SourceDatasetId is null ? null : await db.Set<Dataset>().AsNoTracking().Where(d => d.Id == m.SourceDatasetId).Select(d => d.Name).FirstOrDefaultAsync(ct);
        return ModelView.From(m, dsName, versions, latest);
    }

    /// <summary>The training runs of a model, unordered (callers order by CreatedAt).</summary>
    public IQueryable<TrainingRun> RunsQuery(string modelId) => db.Set<TrainingRun>().AsNoTracking().Where(r => r.ModelId == modelId);

    public async Task<TrainingRunView?> LatestRunAsync(string modelId, CancellationToken ct = default)
    {
        var runs = await db.Set<TrainingRun>().AsNoTracking().Where(r => r.ModelId == modelId).ToListAsync(ct);
        return runs.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Select(TrainingRunView.From).FirstOrDefault();
    }

    public async Task<TrainingRunView> GetRunAsync(string runId, CancellationToken ct = default)
    {
        var r = await db.Set<TrainingRun>().FirstOrDefaultAsync(x => x.Id == runId, ct)
                ?? throw CatalogException.NotFound($"No training run {runId} in this sandbox.");
        if (!TrainingStatus.IsFinal(r.Status)) await ReconcileAsync([r], ct);
        return TrainingRunView.From(r);
    }

    /// <summary>
    /// Unfinished runs whose job has ended without them (cancelled on the Jobs page, or failed before the run could record it)
    /// are marked failed with the job's reason. Returns how many were settled.
    /// </summary>
    private async Task<int> ReconcileAsync(IReadOnlyList<TrainingRun> runs, CancellationToken ct)
    {
        var settled = 0;
        foreach (var run in runs)
        {
            var job = run.JobRunId is null ? null : await db.Set<JobRun>().AsNoTracking().FirstOrDefaultAsync(j => j.Id == run.JobRunId, ct);
            if (job is null || !JobStatus.IsFinal(job.Status)) continue;
            // The job may have just finished writing the run: re-read before overriding.
            await db.Entry(run).ReloadAsync(ct);
            if (TrainingStatus.IsFinal(run.Status)) { settled++; continue; }
            run.Status = TrainingStatus.Failed;
            run.Error = job.Status == JobStatus.Cancelled ? "The training was cancelled." : job.Error ?? $"The training job ended as {job.Status}.";
            run.FinishedAt = job.FinishedAt ?? clock.GetUtcNow();
            run.Stage = "failed";
            settled++;
        }
        if (settled > 0) await db.SaveChangesAsync(ct);
        return settled;
    }

    public async Task<ModelVersionView> GetVersionAsync(string modelId, string versionId, CancellationToken ct = default)
    {
        var m = await GetAsync(modelId, ct);
        var v = await db.Set<ModelVersion>().AsNoTracking().FirstOrDefaultAsync(x => x.Id == versionId && x.ModelId == modelId, ct)
                ?? throw CatalogException.NotFound($"No version {versionId} of model '{m.Name}'.");
        return ModelVersionView.From(v, m.ActiveVersionId);
    }

    // ---------------------------------------------------------------- create

    public async Task<Model> CreateAsync(ModelDefinition d, string? actor = null, CancellationToken ct = default)
    {
        var name = d.Name?.Trim();
        var bad = new Dictionary<string, string[]>();
        if (string.IsNullOrEmpty(name) || name.Length > 100) bad["name"] = ["A model needs a name of at most 100 characters."];
        else if (!name.All(c => char.IsLetterOrDigit(c) || c is '_' or '-' or ' '))
            bad["name"] = ["A model name may hold letters, digits, spaces, '-' and '_' only (it becomes the key insights.<name> on profiles)."];
        var recipe = RecipeCatalog.Find(d.Recipe);
        if (recipe is null)
            bad["recipe"] = [$"recipe must be one of {string.Join(", ", RecipeCatalog.All.Select(r => r.Name))}{(d.Recipe is null ? "" : $"; got '{d.Recipe}'")}."];
        var hasDataset = !string.IsNullOrWhiteSpace(d.SourceDatasetId);
        if (hasDataset && d.SourceSnapshot) bad["source"] = ["Give either source.datasetId or source.snapshot = true, not both."];
        if (!hasDataset && !d.SourceSnapshot && recipe is { UsesSource: true })
            bad["source"] = ["A source is required: { \"datasetId\": \"...\" } or { \"snapshot\": true }."];
        if (d.Label is { } l && string.IsNullOrWhiteSpace(l.Field)) bad["label.field"] = ["label.field must name a column."];
        if (d.Features?.Any(string.IsNullOrWhiteSpace) == true) bad["features"] = ["features must be non-empty field names."];
        if (d.ExcludeFeatures?.Any(string.IsNullOrWhiteSpace) == true) bad["excludeFeatures"] = ["excludeFeatures must be non-empty field names."];
        if (d.Seed is < 0) bad["seed"] = ["seed must be zero or positive."];
        if (bad.Count > 0) throw new CatalogException(CatalogErrorKind.Invalid, string.Join(" ", bad.SelectMany(e => e.Value)), bad);

        var lower = name!.ToLowerInvariant();
        if (await db.Set<Model>().AnyAsync(m => m.Name.ToLower() == lower, ct))
            throw CatalogException.Conflict($"A model named '{name}' already exists in this sandbox.");

        var rules = new Dictionary<string, string[]>();
        await CheckRulesAsync(recipe!, d, rules, ct);
        if (rules.Count > 0) throw CatalogException.Rule(string.Join(" ", rules.SelectMany(e => e.Value)), rules);

        var model = new Model
        {
            Name = name, Recipe = recipe!.Name, Description = string.IsNullOrWhiteSpace(d.Description) ? null : d.Description.Trim(),
            SourceDatasetId = hasDataset ? d.SourceDatasetId : null, SourceSnapshot = d.SourceSnapshot,
            LabelField = d.Label?.Field.Trim(), LabelPositive = d.Label?.Positive,
            FeaturesJson = d.Features is { Count: > 0 } f ? ModelJson.Write(f.Select(x => x.Trim()).Distinct().ToList()) : null,
            ExcludeFeaturesJson = d.ExcludeFeatures is { Count: > 0 } x ? ModelJson.Write(x.Select(s => s.Trim()).Distinct().ToList()) : null,
            ParametersJson = (d.Parameters ?? new JsonObject()).ToJsonString(), Seed = d.Seed ?? 42, CreatedBy = actor,
            CreatedAt = clock.GetUtcNow(), UpdatedAt = clock.GetUtcNow(),
        };
        db.Add(model);
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "model.create", Target = model.Id, Detail = name });
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateException) { throw CatalogException.Conflict($"A model named '{name}' already exists in this sandbox."); }
        return model;
    }

    private async Task CheckRulesAsync(RecipeInfo recipe, ModelDefinition d, Dictionary<string, string[]> rules, CancellationToken ct)
    {
        var p = new RecipeParameters(d.Parameters);
        LakeDataset? source = null;
        if (!string.IsNullOrWhiteSpace(d.SourceDatasetId))
        {
            source = await lake.FindAsync(d.SourceDatasetId, ct);
            if (source is null) rules["source.datasetId"] = [$"No dataset {d.SourceDatasetId} in this sandbox."];
        }
        var eventDatasetId = Try(() => p.String("eventDatasetId"), "parameters.eventDatasetId", rules);
        LakeDataset? eventDataset = null;
        if (!string.IsNullOrWhiteSpace(eventDatasetId) && (eventDataset = await lake.FindAsync(eventDatasetId, ct)) is null)
            rules["parameters.eventDatasetId"] = [$"No event dataset {eventDatasetId} in this sandbox."];
        if (string.IsNullOrWhiteSpace(eventDatasetId) && RecipeCatalog.IsBinary(recipe.Name)
            && EventLabelParameters.FirstOrDefault(n => d.Parameters?[n] is not null) is { } given)
            rules["parameters.eventDatasetId"] = [$"parameters.{given} defines the label or features from events: give parameters.eventDatasetId (the event dataset) too."];
        foreach (var param in recipe.Parameters.Where(x => x.Required))
            if (d.Parameters?[param.Name] is null) rules["parameters." + param.Name] = [$"The {recipe.Name} recipe needs parameters.{param.Name} ({param.Label})."];
        foreach (var param in recipe.Parameters)
        {
            var key = "parameters." + param.Name;
            switch (param.Kind)
            {
                case "int":
                    var i = Try(() => p.Int(param.Name), key, rules);
                    if (i is <= 0) rules[key] = [$"parameters.{param.Name} must be positive."];
                    break;
                case "number": Try(() => p.Number(param.Name), key, rules); break;
                case "date": Try(() => p.Date(param.Name), key, rules); break;
                case "choice":
                    var c = Try(() => p.String(param.Name), key, rules);
                    if (c is not null && param.Choices?.Contains(c) == false) rules[key] = [$"parameters.{param.Name} must be one of {string.Join(", ", param.Choices)}."];
                    break;
            }
        }
        if (recipe.Name == "segmentation" && Try(() => p.Int("k"), "parameters.k", rules) is { } k && k is < 2 or > 20)
            rules["parameters.k"] = ["parameters.k must be between 2 and 20 (or null to choose by silhouette)."];
        var eventLabel = !string.IsNullOrWhiteSpace(eventDatasetId) && d.Parameters?["cutoff"] is not null && d.Parameters?["windowDays"] is not null;
        if (recipe.NeedsLabel && d.Label is null && !eventLabel && !rules.ContainsKey("parameters.eventDatasetId"))
            rules["label"] = [$"The {recipe.Name} recipe needs a label: {{ \"field\": \"...\", \"positive\": \"...\" }}, or an event label (parameters eventDatasetId, cutoff, windowDays)."];
        if (eventDataset is not null && rules.Count == 0) CheckEventData(recipe, d.Parameters, eventDataset, rules, ct);

        if (source is null) return;
        var fields = source.Schema.Fields.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        if (d.Label is { } label && !string.IsNullOrWhiteSpace(label.Field) && !fields.Contains(label.Field.Trim()))
            rules["label.field"] = [$"The label field '{label.Field}' is not a field of the dataset '{source.Name}'."];
        else if (d.Label is { } chosen && !string.IsNullOrWhiteSpace(chosen.Field))
            CheckPositive(source, chosen, rules, ct);
        foreach (var (key, list) in new[] { ("features", d.Features), ("excludeFeatures", d.ExcludeFeatures) })
        {
            var unknown = (list ?? []).Where(f => !string.IsNullOrWhiteSpace(f) && !fields.Contains(f.Trim())).ToList();
            if (unknown.Count > 0) rules[key] = [$"Not fields of the dataset '{source.Name}': {string.Join(", ", unknown)}."];
        }
        if (d.Label is { } lab && d.Features?.Contains(lab.Field) == true)
            rules["features"] = [$"The label '{lab.Field}' cannot also be a feature."];
        if (recipe.Name == "uplift" && Try(() => p.String("treatmentField"), "parameters.treatmentField", rules) is { Length: > 0 } treatment)
        {
            if (!fields.Contains(treatment.Trim())) rules["parameters.treatmentField"] = [$"The treatment field '{treatment}' is not a field of the dataset '{source.Name}'."];
            else if (d.Label is { } outcome && outcome.Field.Trim() == treatment.Trim()) rules["parameters.treatmentField"] = ["The treatment column cannot be the outcome (label)."];
        }
    }

    /// <summary>
    /// The positive class is the user's choice, never a guess: required unless the label is a boolean field, and (once the
    /// dataset has data) it must be one of the label's values. The message lists the values found.
    /// </summary>
    private static void CheckPositive(LakeDataset source, LabelSpec label, Dictionary<string, string[]> rules, CancellationToken ct)
    {
        var field = source.Schema.Fields.FirstOrDefault(f => f.Path == label.Field.Trim());
        if (field is null) return;
        var files = LakeCatalog.DataFiles(source);
        List<string> values = [];
        if (files.Count > 0)
        {
            using var c = ModelLake.Open();
            var col = ModelLake.Quote(field.Path);
            values = ModelLake.Query(c, $"SELECT CAST({col} AS VARCHAR) AS v FROM {ModelLake.ReadParquet(files)} WHERE {col} IS NOT NULL GROUP BY v ORDER BY count(*) DESC, v LIMIT 6", ct)
                .Column("v").Select(v => (string)v!).ToList();
        }
        var seen = values.Count == 0 ? "" : $" Values in '{source.Name}': {string.Join(", ", values.Take(5))}{(values.Count > 5 ? ", ..." : "")}.";
        if (string.IsNullOrWhiteSpace(label.Positive))
        {
            if (field.Type != Schemas.FieldType.Boolean)
                rules["label.positive"] = [$"Choose the positive class: label.positive is required for the {field.Type.ToString().ToLowerInvariant()} label '{field.Path}' (which value is the outcome to predict?).{seen}"];
            return;
        }
        // Checked when the label has 2-5 values (one value: training says the label has one class, with the counts).
        if (values.Count is >= 2 and <= 5 && field.Type != Schemas.FieldType.Boolean
            && !values.Any(v => ProfileData.IsPositive(v, label.Positive)))
            rules["label.positive"] = [$"label.positive '{label.Positive}' is not a value of '{field.Path}'.{seen}"];
    }

    private static readonly string[] EventLabelParameters = ["eventType", "cutoff", "windowDays"];
    private static readonly string[] EventFieldParameters = ["customerField", "timestampField", "amountField", "itemField", "basketField"];

    /// <summary>
    /// Rules on the event dataset a model reads: the field parameters name fields of its schema, and, once it has data,
    /// <c>eventType</c> occurs in it and <c>cutoff</c> / <c>calibrationEnd</c> fall inside its time range (events on both sides).
    /// Checked at creation and again when training starts (the data may have changed in between).
    /// </summary>
    private static void CheckEventData(RecipeInfo recipe, JsonObject? parameters, LakeDataset events, Dictionary<string, string[]> rules, CancellationToken ct)
    {
        var p = new RecipeParameters(parameters);
        var fields = events.Schema.Fields.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        foreach (var name in EventFieldParameters)
            if (p.String(name) is { Length: > 0 } f && !fields.Contains(f))
                rules["parameters." + name] = [$"'{f}' is not a field of the event dataset '{events.Name}'."];
        var tsField = p.String("timestampField") ?? Schemas.SchemaDefinition.TimestampField;
        if (!fields.Contains(tsField) && !rules.ContainsKey("parameters.timestampField"))
            rules["parameters.timestampField"] = [$"The event dataset '{events.Name}' has no field '{tsField}': give parameters.timestampField."];
        if (rules.Count > 0) return;

        var files = LakeCatalog.DataFiles(events);
        if (files.Count == 0) return;
        var eventType = p.String("eventType");
        var hasTypeField = fields.Contains(Schemas.SchemaDefinition.EventTypeField);
        if (eventType is not null && !hasTypeField)
        {
            rules["parameters.eventType"] = [$"The event dataset '{events.Name}' has no {Schemas.SchemaDefinition.EventTypeField} field to match '{eventType}' against."];
            return;
        }
        using var c = ModelLake.Open();
        var ts = $"TRY_CAST({ModelLake.Quote(tsField)} AS TIMESTAMP)";
        var typeCount = eventType is null ? "0" : $"count(*) FILTER (WHERE CAST({ModelLake.Quote(Schemas.SchemaDefinition.EventTypeField)} AS VARCHAR) = {ModelLake.Literal(eventType)})";
        var t = ModelLake.Query(c, $"SELECT min({ts}) AS lo, max({ts}) AS hi, {typeCount} AS typed FROM {ModelLake.ReadParquet(files)}", ct);
        var lo = ModelLake.ToDate(t.Column("lo")[0]);
        var hi = ModelLake.ToDate(t.Column("hi")[0]);
        if (eventType is not null && Convert.ToInt64(t.Column("typed")[0] ?? 0L, System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            var types = ModelLake.Query(c, $"SELECT CAST({ModelLake.Quote(Schemas.SchemaDefinition.EventTypeField)} AS VARCHAR) AS et FROM {ModelLake.ReadParquet(files)} " +
                                           "WHERE et IS NOT NULL GROUP BY et ORDER BY count(*) DESC, et LIMIT 5", ct).Column("et").Select(v => (string)v!);
            rules["parameters.eventType"] = [$"No event of type '{eventType}' in the event dataset '{events.Name}'; its most frequent types: {string.Join(", ", types)}."];
        }
        if (lo is null || hi is null)
        {
            rules["parameters.eventDatasetId"] = [$"The event dataset '{events.Name}' has no events with a timestamp in '{tsField}'."];
            return;
        }
        var dateParameter = recipe.Name == "clv" ? "calibrationEnd" : "cutoff";
        // cutoff is exclusive (events before it are features); calibrationEnd is inclusive (its whole day is calibration).
        if (p.Date(dateParameter) is { } at && (recipe.Name == "clv" ? at.Date < lo.Value.Date || at.Date >= hi.Value.Date : at <= lo.Value || at > hi.Value))
            rules["parameters." + dateParameter] = [string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"parameters.{dateParameter} {at:yyyy-MM-dd} is outside the event data ({lo:yyyy-MM-dd} to {hi:yyyy-MM-dd}): it needs events before and after it.")];
    }

    private static T? Try<T>(Func<T?> read, string key, Dictionary<string, string[]> rules)
    {
        try { return read(); }
        catch (ModelTrainingException e) { rules[key] = [e.Message]; return default; }
    }

    // ---------------------------------------------------------------- train

    /// <summary>Queues a training run (job kind <c>training</c>). 422 when the source has no data yet; 409 while another run is going.</summary>
    public async Task<TrainingRun> TrainAsync(string modelId, string? actor = null, CancellationToken ct = default)
    {
        var model = await GetAsync(modelId, ct);
        if (RecipeCatalog.IsUploaded(model.Recipe))
            throw CatalogException.Rule($"The model '{model.Name}' is a custom model: its versions are uploaded ONNX files (POST /api/v1/models/{model.Id}/versions), not trained here.",
                new Dictionary<string, string[]> { ["recipe"] = ["Custom models are not trained by the portal."] });
        var resolved = await ResolveAsync(model, ct);
        if (resolved.EventDataset is { } eventDataset && RecipeCatalog.Find(model.Recipe) is { } recipe)
        {
            var rules = new Dictionary<string, string[]>();
            CheckEventData(recipe, ModelJson.Object(model.ParametersJson), eventDataset, rules, ct);
            if (rules.Count > 0) throw CatalogException.Rule(string.Join(" ", rules.SelectMany(e => e.Value)), rules);
        }
        var active = await db.Set<TrainingRun>().Where(r => r.ModelId == modelId && (r.Status == TrainingStatus.Queued || r.Status == TrainingStatus.Running)).ToListAsync(ct);
        if (await ReconcileAsync(active, ct) < active.Count)
            throw CatalogException.Conflict($"A training run of '{model.Name}' is already queued or running; wait for it to finish.");
        var run = new TrainingRun { ModelId = modelId, Seed = model.Seed, CreatedBy = actor, CreatedAt = clock.GetUtcNow() };
        db.Add(run);
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "model.train", Target = model.Id, Detail = run.Id });
        await db.SaveChangesAsync(ct);
        var job = await jobs.EnqueueAsync(JobKind, run.Id, actor, ct);
        run.JobRunId = job.Id;
        await db.Set<TrainingRun>().Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.JobRunId, job.Id), ct);
        return run;
    }

    /// <summary>Finds the source files (dataset or newest snapshot) and the event dataset of a model. 422 when missing or empty.</summary>
    public async Task<ResolvedSource> ResolveAsync(Model model, CancellationToken ct = default)
    {
        LakeDataset? source = null;
        IReadOnlyList<string> files = [];
        if (model.SourceSnapshot)
        {
            // The newest snapshot by its batch time (as the query service's profile_snapshot table and scoring pick it).
            source = LakeCatalog.NewestSnapshot(await lake.ListAsync(ct));
            files = source is null ? [] : LakeCatalog.DataFiles(source);
            if (source is null || files.Count == 0)
                throw CatalogException.Rule($"There is no profile snapshot yet (a dataset named {SnapshotPrefix}...): export a snapshot first, or train on a dataset.");
        }
        else if (model.SourceDatasetId is { } datasetId)
        {
            source = await lake.FindAsync(datasetId, ct) ?? throw CatalogException.Rule($"The source dataset {datasetId} no longer exists.");
            files = LakeCatalog.DataFiles(source);
            if (files.Count == 0) throw CatalogException.Rule($"The dataset '{source.Name}' has no data yet: ingest a file into it first.");
        }

        LakeDataset? eventDataset = null;
        EventSource? events = null;
        if (ModelJson.Object(model.ParametersJson)["eventDatasetId"] is JsonValue ev && ev.TryGetValue<string>(out var eventId) && !string.IsNullOrWhiteSpace(eventId))
        {
            eventDataset = await lake.FindAsync(eventId, ct) ?? throw CatalogException.Rule($"The event dataset {eventId} no longer exists.");
            var eventFiles = LakeCatalog.DataFiles(eventDataset);
            if (eventFiles.Count == 0) throw CatalogException.Rule($"The event dataset '{eventDataset.Name}' has no data yet.");
            events = new EventSource(eventFiles, eventDataset.Schema.Fields);
        }
        if (source is null && events is null) throw CatalogException.Rule("The model has neither a source dataset nor an event dataset.");
        return new ResolvedSource(source, files, eventDataset, events);
    }

    // ---------------------------------------------------------------- registry

    public async Task<Model> ActivateAsync(string modelId, string versionId, string? actor = null, CancellationToken ct = default)
    {
        var model = await db.Set<Model>().FirstOrDefaultAsync(m => m.Id == modelId, ct) ?? throw CatalogException.NotFound($"No model {modelId} in this sandbox.");
        if (!await db.Set<ModelVersion>().AnyAsync(v => v.Id == versionId && v.ModelId == modelId, ct))
            throw CatalogException.NotFound($"No version {versionId} of model '{model.Name}'.");
        model.ActiveVersionId = versionId;
        model.UpdatedAt = clock.GetUtcNow();
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "model.activate", Target = model.Id, Detail = versionId });
        await db.SaveChangesAsync(ct);
        return model;
    }

    /// <summary>Sets a binary version's operating threshold (metrics, confusion, grade recomputed from its held-out table). 422 when out of (0, 1) or the version has no table.</summary>
    public async Task<TrainingRunView> SetThresholdAsync(string modelId, string versionId, double threshold, string? actor = null, CancellationToken ct = default)
    {
        var model = await db.Set<Model>().FirstOrDefaultAsync(m => m.Id == modelId, ct) ?? throw CatalogException.NotFound($"No model {modelId} in this sandbox.");
        var version = await db.Set<ModelVersion>().FirstOrDefaultAsync(v => v.Id == versionId && v.ModelId == modelId, ct)
                      ?? throw CatalogException.NotFound($"No version {versionId} of model '{model.Name}'.");
        var run = await db.Set<TrainingRun>().FirstOrDefaultAsync(r => r.Id == version.RunId, ct)
                  ?? throw CatalogException.NotFound($"The training run of version {version.Number} no longer exists.");
        OperatingThreshold.Apply(run, version, threshold);
        db.Add(new AuditEntry { Actor = actor ?? "system", Action = "model.threshold", Target = model.Id, Detail = $"{versionId} {threshold.ToString(System.Globalization.CultureInfo.InvariantCulture)}" });
        await db.SaveChangesAsync(ct);
        return TrainingRunView.From(run);
    }

    private static readonly HashSet<string> LowerIsBetter = new(StringComparer.OrdinalIgnoreCase) { "logLoss", "rmse", "mae", "brier" };
    private static readonly HashSet<string> NoDirection = new(StringComparer.OrdinalIgnoreCase) { "k", "rows", "customers" };

    public async Task<VersionComparison> CompareAsync(string modelId, string? a, string? b, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(a) || string.IsNullOrWhiteSpace(b))
            throw new CatalogException(CatalogErrorKind.Invalid, "Give two version ids: ?a=...&b=...",
                new Dictionary<string, string[]> { [string.IsNullOrWhiteSpace(a) ? "a" : "b"] = ["A version id is required."] });
        var va = await GetVersionAsync(modelId, a, ct);
        var vb = await GetVersionAsync(modelId, b, ct);
        var names = va.Metrics.Keys.Concat(vb.Metrics.Keys).Distinct().ToList();
        var metrics = names.Select(n =>
        {
            double? x = va.Metrics.TryGetValue(n, out var xv) ? xv : null, y = vb.Metrics.TryGetValue(n, out var yv) ? yv : null;
            string? better = null;
            if (x is { } p && y is { } q && p != q && !NoDirection.Contains(n))
                better = (LowerIsBetter.Contains(n) ? p < q : p > q) ? "a" : "b";
            return new MetricComparison(n, x, y, x is not null && y is not null ? y - x : null, better);
        }).ToList();
        var diffs = new List<string>();
        if (va.Seed != vb.Seed) diffs.Add($"seed: {va.Seed} vs {vb.Seed}");
        if (va.Trainer != vb.Trainer) diffs.Add($"trainer: {va.Trainer} vs {vb.Trainer}");
        if (va.TrainingData.Rows != vb.TrainingData.Rows) diffs.Add($"rows: {va.TrainingData.Rows:N0} vs {vb.TrainingData.Rows:N0}");
        if (!va.TrainingData.Batches.SequenceEqual(vb.TrainingData.Batches)) diffs.Add("training batches differ");
        foreach (var key in va.Parameters.Select(kv => kv.Key).Concat(vb.Parameters.Select(kv => kv.Key)).Distinct())
        {
            var x = va.Parameters[key]?.ToJsonString() ?? "null";
            var y = vb.Parameters[key]?.ToJsonString() ?? "null";
            if (x != y) diffs.Add($"{key}: {x} vs {y}");
        }
        return new VersionComparison(va, vb, metrics, diffs);
    }

    // ---------------------------------------------------------------- exploration for the form

    /// <summary>Datasets the form can train on (with data), newest snapshots included.</summary>
    public async Task<IReadOnlyList<LakeDataset>> SourceDatasetsAsync(CancellationToken ct = default) =>
        (await lake.ListAsync(ct)).Where(d => LakeCatalog.DataFiles(d).Count > 0).ToList();

    public Task<LakeDataset?> FindDatasetAsync(string datasetId, CancellationToken ct = default) => lake.FindAsync(datasetId, ct);

    /// <summary>
    /// Statistics of the dataset for the chosen label (top values of every column, the single-column signal and warnings such as
    /// <c>possible-leak</c>), from Core/Exploration. 422 when the dataset has no data or the label is not a column.
    /// </summary>
    public async Task<DatasetStats> StatisticsAsync(string datasetId, string? label, string? positive, CancellationToken ct = default)
    {
        var ds = await lake.FindAsync(datasetId, ct) ?? throw CatalogException.NotFound($"No dataset {datasetId} in this sandbox.");
        var files = LakeCatalog.DataFiles(ds);
        if (files.Count == 0) throw CatalogException.Rule($"The dataset '{ds.Name}' has no data yet.");
        try
        {
            return await new DatasetStatistics().ComputeAsync(files, ds.Schema.Fields, string.IsNullOrWhiteSpace(label) ? null : label,
                new StatsOptions { TargetPositive = string.IsNullOrWhiteSpace(positive) ? null : positive }, ct);
        }
        catch (ArgumentException e) { throw CatalogException.Rule(e.Message); }
    }
}
