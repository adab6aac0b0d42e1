using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Scoring;

/// <summary>
/// A scoring target resolved in the lake: the input Parquet files, the column of the input that keys each row to a
/// profile (<see cref="KeyColumn"/>, null for recipes that score from events and key by the event customer column), and
/// how the output dataset carries that key: field <see cref="KeyPath"/>, primary identity in <see cref="Namespace"/>.
/// </summary>
internal sealed record ResolvedTarget(IReadOnlyList<string> Files, string? KeyColumn, string KeyPath, string Namespace, IReadOnlyList<string> EventFiles, string Description, bool OnePerProfile = false);

internal static class ScoringTargets
{
    /// <summary>Checks a target when a run is requested: 404 unknown dataset, 422 no data / no snapshot / the model's own output.</summary>
    public static async Task CheckAsync(LakeCatalog lake, Model model, ScoringTarget target, CancellationToken ct)
    {
        if (target.Snapshot)
        {
            if (NewestSnapshotFiles(await lake.ListAsync(ct)).Files.Count == 0)
                throw CatalogException.Rule($"There is no profile snapshot yet (a dataset named {ProfileSnapshots.NamePrefix}...): export a snapshot first, or score a dataset.",
                    new Dictionary<string, string[]> { ["target.snapshot"] = ["There is no profile snapshot yet."] });
            return;
        }
        var ds = await lake.FindAsync(target.DatasetId!, ct) ?? throw CatalogException.NotFound($"No dataset {target.DatasetId} in this sandbox.");
        if (ds.System && ds.Name == ScoringService.OutputDatasetName(model.Name))
            throw CatalogException.Rule("The target is the model's own output dataset; score the data the model was trained on (or a dataset of the same shape).",
                new Dictionary<string, string[]> { ["target.datasetId"] = ["The model's own output cannot be scored."] });
        if (LakeCatalog.DataFiles(ds).Count == 0)
            throw CatalogException.Rule($"The dataset '{ds.Name}' has no data yet: ingest a file into it first.",
                new Dictionary<string, string[]> { ["target.datasetId"] = [$"The dataset '{ds.Name}' has no data yet."] });
    }

    /// <summary>The part files of the newest committed snapshot batch of any snapshot dataset, and that dataset.</summary>
    public static (IReadOnlyList<string> Files, LakeDataset? Dataset) NewestSnapshotFiles(IReadOnlyList<LakeDataset> datasets) =>
        LakeCatalog.NewestSnapshot(datasets) is { } newest ? (LakeCatalog.DataFiles(newest), newest) : ([], null);

    /// <summary>Resolves the files and the key of a run (failures are messages for people: <see cref="ScoringFailure"/>).</summary>
    public static async Task<ResolvedTarget> ResolveAsync(LakeCatalog lake, ModelVersion version, ModelManifest manifest, ScoringRun run, CancellationToken ct)
    {
        var all = await lake.ListAsync(ct);
        // Event data: the version's event dataset (event features, or recipes that score from events).
        IReadOnlyList<string> eventFiles = [];
        LakeDataset? eventDs = null;
        var fromEvents = (manifest.Plan is null && manifest.Onnx is null) || manifest.Recipe == Recipe.Clv;
        var needsEvents = manifest.UsesEventFeatures || fromEvents;
        if (needsEvents)
        {
            if (version.EventDatasetId is null || (eventDs = all.FirstOrDefault(d => d.Id == version.EventDatasetId)) is null)
                throw new ScoringFailure("The model scores from events, but its event dataset no longer exists.");
            eventFiles = LakeCatalog.DataFiles(eventDs);
            if (eventFiles.Count == 0) throw new ScoringFailure($"The event dataset '{eventDs.Name}' has no data.");
        }

        if (fromEvents)
        {
            // Keyed by the event customer column: the output carries it in that column's identity namespace.
            var customer = manifest.Events?.Customer ?? throw new ScoringFailure("The model has no event customer column to key its results by.");
            var field = eventDs!.Schema.Find(customer);
            var ns = field?.Identity?.Namespace ?? eventDs.Schema.PrimaryIdentity?.Identity?.Namespace
                     ?? throw new ScoringFailure($"The event column '{customer}' is not an identity field, so the results cannot be linked to profiles.");
            return new ResolvedTarget([], null, customer, ns, eventFiles, $"events of '{eventDs.Name}'");
        }

        if (run.TargetSnapshot)
        {
            var (files, snap) = NewestSnapshotFiles(all);
            if (files.Count == 0) throw new ScoringFailure("There is no profile snapshot anymore; export a snapshot first.");
            // The snapshot has one column identity.<namespace> per namespace: key by the primary identity of the profile datasets.
            var columns = snap!.Schema.Fields.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
            var primaries = all.Where(d => d.ProfileEnabled && !d.System && d.Schema.Class == SchemaClass.Profile && d.Schema.PrimaryIdentity is not null)
                .Select(d => d.Schema.PrimaryIdentity!).ToList();
            var chosen = primaries.FirstOrDefault(p => columns.Contains("identity." + p.Identity!.Namespace));
            if (chosen is null)
            {
                var anyNs = columns.Where(c => c.StartsWith("identity.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).FirstOrDefault()
                            ?? throw new ScoringFailure("The snapshot has no identity column to key the results by.");
                var nsCode = anyNs["identity.".Length..];
                return new ResolvedTarget(files, anyNs, nsCode.ToLowerInvariant() + "Id", nsCode, eventFiles, $"snapshot '{snap.Name}'");
            }
            return new ResolvedTarget(files, "identity." + chosen.Identity!.Namespace, chosen.Path, chosen.Identity.Namespace, eventFiles, $"snapshot '{snap.Name}'");
        }

        var ds = all.FirstOrDefault(d => d.Id == run.TargetDatasetId) ?? throw new ScoringFailure($"The target dataset {run.TargetDatasetId} no longer exists.");
        var dataFiles = LakeCatalog.DataFiles(ds);
        if (dataFiles.Count == 0) throw new ScoringFailure($"The dataset '{ds.Name}' has no data.");
        var primary = ds.Schema.PrimaryIdentity
                      ?? throw new ScoringFailure($"The dataset '{ds.Name}' has no primary identity, so its rows cannot be linked to profiles; give its schema a primary identity.");
        // A profile dataset ingested twice holds two records of a profile: score its newest record once.
        return new ResolvedTarget(dataFiles, primary.Path, primary.Path, primary.Identity!.Namespace, eventFiles, $"dataset '{ds.Name}'", OnePerProfile: ds.Schema.Class == SchemaClass.Profile);
    }
}

/// <summary>A scoring run that cannot go on; the message is for people and becomes the run's error.</summary>
public sealed class ScoringFailure(string message) : Exception(message);
