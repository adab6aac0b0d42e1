using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Web.Api;
using Microsoft.EntityFrameworkCore;
using static Enrichment.Portal.Web.Api.CatalogApiSupport;

namespace Enrichment.Portal.Web.Notebooks;

/// <summary>
/// "Open in notebook": <c>GET /api/v1/datasets/{id}/notebook</c>, <c>/profiles/snapshot/notebook</c>,
/// <c>/training-runs/{runId}/notebook</c> download a ready-to-run .ipynb; <c>GET /api/v1/clients/python</c> the client it uses.
/// </summary>
public static class NotebooksApi
{
    /// <summary>Label columns the dataset notebook picks when none is named (in this order, case-insensitive).</summary>
    private static readonly string[] LabelNames = ["churn", "churned", "label", "target", "y", "converted", "outcome", "purchased", "responded", "clv", "value"];

    public static void MapNotebooksApi(this RouteGroupBuilder v1)
    {
        v1.MapGet("/datasets/{id}/notebook", async (string id, string? label, string? positive, string? insight, HttpRequest request,
            LakeCatalog lake, CancellationToken ct) =>
        {
            var dataset = await lake.FindAsync(id, ct) ?? throw CatalogException.NotFound($"No dataset {id} in this sandbox.");
            if (LakeCatalog.IsSnapshot(dataset)) return await SnapshotAsync(label, positive, insight, request, lake, ct);
            var primary = dataset.Schema.PrimaryIdentity
                ?? throw CatalogException.Rule($"The dataset '{dataset.Name}' has no primary identity, so scores could not be pushed to profiles: use a profile dataset or the snapshot.");
            var fields = dataset.Schema.Fields;
            var labelField = PickLabel(label, fields.Select(f => f.Path), fields.Where(f => f.Type == FieldType.Boolean).Select(f => f.Path));
            var type = fields.FirstOrDefault(f => f.Path == labelField)?.Type;
            var ctx = new NotebookContext
            {
                Title = $"{dataset.Name}: explore, train, score",
                SourceText = $"the dataset {dataset.Name}",
                BaseUrl = BaseUrl(request),
                DatasetId = dataset.Id,
                IdentityColumn = primary.Path,
                IdentityNamespace = primary.Identity!.Namespace,
                Label = labelField,
                Positive = positive ?? (type == FieldType.Boolean ? "True" : null),
                Exclude = dataset.Schema.IdentityFields.Select(f => f.Path).Where(p => p != primary.Path).ToList(),
                Insight = InsightName(insight, (labelField ?? dataset.Name) + " notebook"),
            };
            return Download(NotebookTemplates.DatasetTemplate, ctx, dataset.Name);
        }).WithTags("Notebooks").WithName("DatasetNotebook")
          .WithSummary("A Jupyter notebook (.ipynb) for the dataset: load, explore, train scikit-learn with a held-out split, score, push insights.<insight> (?label, ?positive, ?insight). The API key is read from EP_API_KEY, never written");

        v1.MapGet("/profiles/snapshot/notebook", (string? label, string? positive, string? insight, HttpRequest request, LakeCatalog lake, CancellationToken ct) =>
            SnapshotAsync(label, positive, insight, request, lake, ct))
          .WithTags("Notebooks").WithName("SnapshotNotebook").WithSummary("The notebook for the newest profile snapshot (same parameters)");

        v1.MapGet("/training-runs/{runId}/notebook", async (string runId, string? insight, HttpRequest request, CatalogDb db, LakeCatalog lake, CancellationToken ct) =>
        {
            var run = await db.Set<TrainingRun>().AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct)
                ?? throw CatalogException.NotFound($"No training run {runId} in this sandbox.");
            var model = await db.Set<Model>().AsNoTracking().FirstOrDefaultAsync(m => m.Id == run.ModelId, ct)
                ?? throw CatalogException.NotFound($"No model {run.ModelId} in this sandbox.");
            if (model.LabelField is null)
                throw CatalogException.Rule($"The model '{model.Name}' ({model.Recipe}) has no label column to train on in a notebook; open the notebook of its dataset instead.");
            string? datasetId = null;
            string sourceText;
            string identityColumn, identityNamespace;
            IReadOnlyList<string> exclude;
            if (model.SourceSnapshot)
            {
                (identityColumn, identityNamespace, _) = await SnapshotIdentityAsync(lake, ct);
                sourceText = "the newest profile snapshot";
                exclude = [];
            }
            else
            {
                var dataset = await lake.FindAsync(model.SourceDatasetId ?? "", ct)
                    ?? throw CatalogException.Rule($"The source dataset of the model '{model.Name}' no longer exists.");
                var primary = dataset.Schema.PrimaryIdentity
                    ?? throw CatalogException.Rule($"The dataset '{dataset.Name}' has no primary identity, so scores could not be pushed to profiles.");
                datasetId = dataset.Id;
                sourceText = $"the dataset {dataset.Name}";
                identityColumn = primary.Path;
                identityNamespace = primary.Identity!.Namespace;
                exclude = dataset.Schema.IdentityFields.Select(f => f.Path).Where(p => p != primary.Path).ToList();
            }
            var ctx = new NotebookContext
            {
                Title = $"{model.Name}: your own model next to the portal's",
                SourceText = sourceText,
                BaseUrl = BaseUrl(request),
                DatasetId = datasetId,
                IdentityColumn = identityColumn,
                IdentityNamespace = identityNamespace,
                Label = model.LabelField,
                Positive = model.LabelPositive,
                Features = ModelJson.Read<List<string>>(model.FeaturesJson),
                Exclude = [.. exclude, .. ModelJson.Read<List<string>>(model.ExcludeFeaturesJson) ?? []],
                Insight = InsightName(insight, model.Name + " notebook"),
                ModelName = model.Name,
                RunId = run.Id,
                Recipe = model.Recipe,
                Metrics = ModelJson.Numbers(run.MetricsJson),
            };
            return Download(NotebookTemplates.TrainingRunTemplate, ctx, model.Name + "-" + run.Id);
        }).WithTags("Notebooks").WithName("TrainingRunNotebook")
          .WithSummary("A Jupyter notebook that starts from a model's training run (its features, label and metrics filled in); 422 for recipes without a label");

        v1.MapGet("/clients/python", () => Results.File(NotebookTemplates.ClientZip(), "application/zip", $"enrichment_portal-{NotebookTemplates.ClientVersion}.zip"))
          .WithTags("Notebooks").WithName("PythonClient").WithSummary("The Python client package (enrichment_portal/*.py) as a zip, for notebooks");
    }

    private static async Task<IResult> SnapshotAsync(string? label, string? positive, string? insight, HttpRequest request, LakeCatalog lake, CancellationToken ct)
    {
        var (identityColumn, identityNamespace, columns) = await SnapshotIdentityAsync(lake, ct);
        var labelField = PickLabel(label, columns, []);
        var ctx = new NotebookContext
        {
            Title = "Profile snapshot: explore, train, score",
            SourceText = "the newest profile snapshot",
            BaseUrl = BaseUrl(request),
            DatasetId = null,
            IdentityColumn = identityColumn,
            IdentityNamespace = identityNamespace,
            Label = labelField,
            Positive = positive,
            Insight = InsightName(insight, (labelField ?? "snapshot") + " notebook"),
        };
        return Download(NotebookTemplates.DatasetTemplate, ctx, "profile-snapshot");
    }

    /// <summary>The snapshot column a notebook identifies people by: <c>identity.&lt;ns&gt;</c> of a primary namespace of the profile datasets.</summary>
    private static async Task<(string Column, string Namespace, IReadOnlyList<string> Columns)> SnapshotIdentityAsync(LakeCatalog lake, CancellationToken ct)
    {
        var all = await lake.ListAsync(ct);
        var snapshot = LakeCatalog.NewestSnapshot(all)
            ?? throw CatalogException.NotFound("There is no profile snapshot yet: export one first (POST /api/v1/profiles/snapshot).");
        var columns = await Task.Run(() => LakeExport.Columns(LakeCatalog.DataFiles(snapshot)), ct);
        var preferred = all.Where(d => d.ProfileEnabled && !d.System).Select(d => d.Schema.PrimaryIdentity?.Identity?.Namespace)
            .Concat(all.Where(d => d.ProfileEnabled).Select(d => d.Schema.PrimaryIdentity?.Identity?.Namespace))
            .OfType<string>().Distinct();
        var ns = preferred.FirstOrDefault(n => columns.Contains("identity." + n))
            ?? columns.FirstOrDefault(c => c.StartsWith("identity.", StringComparison.Ordinal))?["identity.".Length..]
            ?? throw CatalogException.Rule("The newest snapshot has no identity column, so scores could not be pushed to profiles.");
        return ("identity." + ns, ns, columns);
    }

    private static string? PickLabel(string? asked, IEnumerable<string> columns, IEnumerable<string> booleans)
    {
        var list = columns.ToList();
        if (!string.IsNullOrWhiteSpace(asked))
        {
            if (!list.Contains(asked, StringComparer.Ordinal))
                throw CatalogException.Rule($"There is no column '{asked}' to use as the label.", new Dictionary<string, string[]> { ["label"] = [$"No column '{asked}'."] });
            return asked;
        }
        foreach (var name in LabelNames)
            if (list.FirstOrDefault(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase)) is { } hit) return hit;
        return booleans.FirstOrDefault();
    }

    /// <summary>The insight's name: asked (checked like an import name) or derived (letters, digits, spaces, '-', '_').</summary>
    private static string InsightName(string? asked, string fallback)
    {
        if (!string.IsNullOrWhiteSpace(asked))
        {
            var a = asked.Trim();
            if (a.Length > 100 || !a.All(c => char.IsLetterOrDigit(c) || c is '_' or '-' or ' '))
                throw CatalogException.Rule("An insight name may hold letters, digits, spaces, '-' and '_' only (at most 100).",
                    new Dictionary<string, string[]> { ["insight"] = ["Letters, digits, spaces, '-' and '_' only."] });
            return a;
        }
        var s = new string(fallback.Select(c => char.IsLetterOrDigit(c) || c is '_' or '-' or ' ' ? c : '-').ToArray()).Trim();
        return s.Length > 100 ? s[..100] : s;
    }

    private static string BaseUrl(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}";

    private static IResult Download(string template, NotebookContext ctx, string name)
    {
        var text = NotebookTemplates.Generate(template, ctx, DateTimeOffset.UtcNow);
        var safe = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());
        return Results.File(System.Text.Encoding.UTF8.GetBytes(text), NotebookTemplates.ContentType, safe + ".ipynb");
    }
}
