using System.Globalization;
using Enrichment.Portal.Core.Audit;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Models;

/// <summary><c>Models:Onnx:*</c>: limits of uploaded ONNX models.</summary>
public sealed class OnnxOptions
{
    public const string Section = "Models:Onnx";
    /// <summary>Largest accepted .onnx file in bytes (default 256 MiB).</summary>
    public long MaxModelBytes { get; set; } = 256L * 1024 * 1024;
}

/// <summary>An uploaded file's signature, checked, with a first mapping onto the model's source fields.</summary>
public sealed record OnnxInspection(OnnxSignature Signature, OnnxMappingRequest Suggested, IReadOnlyList<SchemaField> Fields, string SourceName, string? SourceDatasetId, bool SourceSnapshot);

/// <summary>What an upload made: the version (API.md: <c>{ versionId, inputs, outputs }</c>) and the mapping it scores with.</summary>
public sealed record OnnxVersionView(string VersionId, int Number, bool Active, IReadOnlyList<OnnxPort> Inputs, IReadOnlyList<OnnxPort> Outputs, OnnxState Mapping,
    long ReferenceRows, ScoreDistribution? ReferenceDistribution);

/// <summary>
/// Versions of <c>custom</c> models from ONNX files trained elsewhere: reads the signature, checks the mapping onto the source
/// (the model's dataset or the newest snapshot; or the one named in the mapping when the model has none), stores the artifact
/// (manifest + the file unchanged) and a version like a trained one (with an uploaded "training run" for its log), then scores
/// the source once so that the version has a reference score distribution for PSI drift. Refusals are 422 naming the part at fault.
/// </summary>
public sealed class OnnxVersionService(CatalogDb db, LakeCatalog lake, ModelService models, ModelScorer scorer, IOptions<OnnxOptions> onnx,
    IOptions<PortalOptions> portal, TimeProvider clock)
{
    public long MaxModelBytes => onnx.Value.MaxModelBytes;

    /// <summary>Reads and checks the file and suggests a mapping (nothing is stored).</summary>
    public async Task<OnnxInspection> InspectAsync(string modelId, byte[] file, string? datasetId = null, bool snapshot = false, CancellationToken ct = default)
    {
        var model = await CustomAsync(modelId, ct);
        var sig = ReadSignature(file);
        var (fields, name, dsId, snap, _) = await SourceAsync(model, datasetId, snapshot, ct);
        return new OnnxInspection(sig, OnnxMapper.Suggest(sig, fields), fields, name, dsId, snap);
    }

    public OnnxSignature ReadSignature(byte[] file)
    {
        if (file.LongLength > MaxModelBytes)
            throw CatalogException.Rule($"The model file is {file.LongLength:N0} bytes, over the limit of {MaxModelBytes:N0} bytes ({OnnxOptions.Section}:MaxModelBytes).",
                new Dictionary<string, string[]> { ["file"] = ["The model file is over the size limit."] });
        try { return OnnxSignature.Read(file); }
        catch (OnnxModelException e) { throw CatalogException.Rule(e.Message, e.Errors); }
    }

    /// <summary>Adds a version from the file and mapping; it becomes active when the model has none yet (as training does).</summary>
    public async Task<OnnxVersionView> UploadAsync(string modelId, byte[] file, OnnxMappingRequest mapping, string? datasetId = null, bool snapshot = false,
        string? actor = null, CancellationToken ct = default)
    {
        var model = await CustomAsync(modelId, ct);
        var sig = ReadSignature(file);
        var (fields, sourceName, dsId, snap, source) = await SourceAsync(model, datasetId, snapshot, ct);
        if (mapping.Inputs is null) mapping = mapping with { Inputs = OnnxMapper.Suggest(sig, fields).Inputs };
        OnnxState state;
        try { state = OnnxMapper.Resolve(sig, mapping, fields, sourceName); }
        catch (OnnxModelException e) { throw CatalogException.Rule(e.Message, e.Errors); }
        var key = source?.Schema.PrimaryIdentity?.Path;
        var manifest = new ModelManifest
        {
            Recipe = Recipe.Custom, Trainer = "onnx" + (sig.Producer is { } p ? $" ({p})" : ""), KeyField = key,
            InputFields = state.Inputs.SelectMany(i => i.Fields).Distinct().Select(f => fields.First(x => x.Path == f)).ToList(), Onnx = state,
        };
        var artifact = ModelArtifact.WriteOnnx(manifest, file);

        // The reference distribution: the source scored once now (also proves the model runs on the data).
        var files = source is null ? [] : LakeCatalog.DataFiles(source);
        ScoringOutcome? reference = null;
        var log = new List<string> { $"uploaded {file.LongLength:N0} bytes: {sig.Inputs.Count} input(s), {sig.Outputs.Count} output(s){(sig.Producer is { } pr ? $", produced by {pr}" : "")}" };
        log.AddRange(state.Inputs.Select(i => $"input {i.Name} ({i.ElementType} x {i.Width}) <- {string.Join(", ", i.Fields)}"));
        log.Add($"output {state.Output}{(state.OutputKind == "sequence-map" ? $" class {state.OutputKey ?? "1"}" : $" column {state.OutputColumn}")} -> insights.{model.Name}.{state.Insight} ({state.InsightKind})");
        var work = Path.Combine(portal.Value.UploadDirectory, model.SandboxId, "_onnx", Guid.NewGuid().ToString("N"));
        if (files.Count > 0)
        {
            try
            {
                var watch = System.Diagnostics.Stopwatch.StartNew();
                reference = await scorer.ScoreAsync(new ScoringRequest
                {
                    Artifact = artifact, InputGlobs = files, OutputPath = Path.Combine(work, "reference.parquet"), KeyField = key,
                    OnePerProfile = key is not null && source!.Schema.Class == SchemaClass.Profile,
                }, ct);
                log.Add(string.Create(CultureInfo.InvariantCulture, $"reference run on '{sourceName}': {reference.RowsScored:N0} rows in {watch.Elapsed.TotalSeconds:F1} s"));
            }
            catch (ModelTrainingException e)
            {
                throw CatalogException.Rule($"The model does not run on '{sourceName}': {e.Message}", new Dictionary<string, string[]> { ["file"] = [e.Message] });
            }
            finally { LakeFolders.TryDelete(work); }
        }

        var versionId = Ids.New();
        var folder = Path.Combine(portal.Value.ModelDirectory, model.SandboxId, model.Id);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, versionId + ".zip");
        var tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        await File.WriteAllBytesAsync(tmp, artifact, ct);
        File.Move(tmp, path, overwrite: true);

        var now = clock.GetUtcNow();
        var rows = (int)Math.Min(int.MaxValue, reference?.RowsScored ?? 0);
        var run = new TrainingRun
        {
            ModelId = model.Id, Status = TrainingStatus.Succeeded, Progress = 1, Stage = "uploaded", Trainer = manifest.Trainer, VersionId = versionId,
            MetricsJson = ModelJson.Write(new Dictionary<string, double>()), LogJson = ModelJson.Write(log), TrainRows = rows, CreatedBy = actor,
            CreatedAt = now, StartedAt = now, FinishedAt = now,
        };
        var version = new ModelVersion
        {
            Id = versionId, ModelId = model.Id, RunId = run.Id, ArtifactPath = path, ArtifactBytes = artifact.LongLength, Recipe = "custom",
            MetricsJson = run.MetricsJson, Trainer = manifest.Trainer, Seed = model.Seed, SourceDatasetId = dsId, SourceDatasetName = sourceName,
            ParametersJson = ModelJson.Write(new { onnx = state, source = new { datasetId = dsId, snapshot = snap } }),
            BatchFoldersJson = ModelJson.Write(files.Select(f => Path.GetFileName(Path.GetDirectoryName(f)) ?? "").Distinct().ToList()),
            TrainRows = rows, TrainingDistributionJson = reference?.Distribution is { } d ? ModelJson.Write(d) : null, CreatedAt = now,
        };
        db.Add(run);
        db.Add(version);
        var tracked = await db.Set<Model>().FirstAsync(m => m.Id == model.Id, ct);
        tracked.ActiveVersionId ??= versionId;
        tracked.UpdatedAt = now;
        var audit = new AuditEntry { Actor = actor ?? "system", Action = "model.upload-onnx", Target = model.Id };
        db.Add(audit);
        var number = await ModelVersionNumbers.SaveWithNextNumberAsync(db, version, ct, n => audit.Detail = $"version {n} ({file.LongLength:N0} bytes)");
        return new OnnxVersionView(versionId, number, tracked.ActiveVersionId == versionId, sig.Inputs, sig.Outputs, state, reference?.RowsScored ?? 0, reference?.Distribution);
    }

    private async Task<Model> CustomAsync(string modelId, CancellationToken ct)
    {
        var model = await models.GetAsync(modelId, ct);
        if (model.Recipe != "custom")
            throw CatalogException.Rule($"The model '{model.Name}' is a {model.Recipe} model; ONNX versions belong to models of recipe custom (create one with \"recipe\": \"custom\").",
                new Dictionary<string, string[]> { ["recipe"] = ["Only custom models take ONNX versions."] });
        return model;
    }

    /// <summary>The fields the inputs are mapped to: the model's source, or (when it has none) the dataset / snapshot given with the upload.</summary>
    private async Task<(IReadOnlyList<SchemaField> Fields, string Name, string? DatasetId, bool Snapshot, LakeDataset? Dataset)> SourceAsync(
        Model model, string? datasetId, bool snapshot, CancellationToken ct)
    {
        var useSnapshot = model.SourceSnapshot || (model.SourceDatasetId is null && snapshot);
        var id = model.SourceDatasetId ?? (useSnapshot ? null : datasetId);
        LakeDataset? ds;
        if (useSnapshot)
        {
            ds = LakeCatalog.NewestSnapshot(await lake.ListAsync(ct))
                 ?? throw CatalogException.Rule("There is no profile snapshot yet to map the inputs to: export a snapshot first, or use a dataset.",
                     new Dictionary<string, string[]> { ["source"] = ["There is no profile snapshot yet."] });
        }
        else if (!string.IsNullOrWhiteSpace(id))
            ds = await lake.FindAsync(id, ct) ?? throw CatalogException.Rule($"No dataset {id} in this sandbox.", new Dictionary<string, string[]> { ["source.datasetId"] = [$"No dataset {id}."] });
        else
            throw CatalogException.Rule("The model has no source: give the dataset whose fields the inputs read (datasetId, or snapshot = true).",
                new Dictionary<string, string[]> { ["source"] = ["A dataset or the snapshot is required to map the inputs."] });
        return (ds.Schema.Fields, ds.Name, useSnapshot ? null : ds.Id, useSnapshot, ds);
    }
}
