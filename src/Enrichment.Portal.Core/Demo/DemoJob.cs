using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Audiences;
using Enrichment.Portal.Core.Audit;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Core.Scoring;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Core.Demo;

/// <summary>
/// "Load the demo": fills sandbox <c>demo</c> from the Online Retail transactions shipped with the portal (UCI, 541,909 invoice
/// lines of a UK online shop, 2010-12 to 2011-12), through the same services and jobs a person would use: an inferred profile
/// schema, a profile dataset, an ingestion batch, a churn model (will the customer buy nothing within 90 days of 2011-09-01?
/// the invoice lines themselves are the events), trained by the training job, a scoring run that writes
/// <c>insights.demo_churn</c> onto the profiles, and an audience of the highest churn risks, evaluated. Every step first looks for
/// what an earlier run made (by name, or the batch's idempotency key), so a second run adds nothing.
/// The target id of the job is the sandbox name.
/// </summary>
public sealed class DemoJob(IServiceScopeFactory scopes, JobProgress progress, IConfiguration config) : IPortalJob
{
    public const string Kind = "demo.load";
    public const string SandboxName = "demo";
    public const string SchemaName = "Online Retail customers";
    public const string DatasetName = "Online Retail invoice lines";
    public const string ModelName = "demo_churn";
    public const string AudienceName = "High churn risk";
    /// <summary>The churn label: no purchase in the <see cref="ChurnWindowDays"/> days from this date (the data ends on 2011-12-09).</summary>
    public const string ChurnCutoff = "2011-09-01";
    public const int ChurnWindowDays = 90;
    public const string BatchKey = "demo-online-retail";
    private const string Actor = "demo";
    private static readonly HashSet<string> TextColumns = new(StringComparer.OrdinalIgnoreCase) { "invoiceNo", "stockCode" };
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(20);

    /// <summary>The shipped data file: <c>Demo:File</c>, else <c>demo/online_retail.csv.gz</c> beside the program.</summary>
    public static string DataFile(IConfiguration config) =>
        config["Demo:File"] is { Length: > 0 } f ? f : Path.Combine(AppContext.BaseDirectory, "demo", "online_retail.csv.gz");

    /// <summary>Finds sandbox <paramref name="name"/> or creates it (the creator, if any, becomes its admin); returns its id.</summary>
    public static async Task<string> EnsureSandboxAsync(IServiceScopeFactory scopes, string name, string? creatorUserId, string actor, CancellationToken ct)
    {
        await using (var scope = scopes.CreateSandboxScope(null))
        {
            var db = scope.ServiceProvider.GetRequiredService<CatalogDb>();
            if (await db.Set<Sandbox>().AsNoTracking().FirstOrDefaultAsync(s => s.Name == name, ct) is { } found) return found.Id;
        }
        await using var s2 = scopes.CreateSandboxScope(null);
        try { return (await s2.ServiceProvider.GetRequiredService<SandboxService>().CreateAsync(name, "Demo (Online Retail)", creatorUserId, actor, ct)).Id; }
        catch (InvalidOperationException)
        {
            var db = s2.ServiceProvider.GetRequiredService<CatalogDb>();
            return (await db.Set<Sandbox>().AsNoTracking().FirstAsync(s => s.Name == name, ct)).Id;
        }
    }

    /// <summary>
    /// The instance administrators (admins of sandbox <c>prod</c>) become admins of the demo sandbox when they are not members yet,
    /// so a demo loaded with <c>--demo</c> or by another user shows up in their sandbox switcher. Audited as <c>user.add</c>.
    /// </summary>
    public static async Task AddInstanceAdminsAsync(IServiceScopeFactory scopes, string sandboxId, CancellationToken ct)
    {
        await using var scope = scopes.CreateSandboxScope(null);
        var db = scope.ServiceProvider.GetRequiredService<CatalogDb>();
        var prod = await db.Set<Sandbox>().AsNoTracking().FirstOrDefaultAsync(x => x.Name == Sandbox.ProdName, ct);
        if (prod is null || prod.Id == sandboxId) return;
        var admins = await db.Set<SandboxMembership>().IgnoreQueryFilters().AsNoTracking().Where(m => m.SandboxId == prod.Id && m.Role == Roles.Admin).Select(m => m.UserId).ToListAsync(ct);
        var members = await db.Set<SandboxMembership>().IgnoreQueryFilters().AsNoTracking().Where(m => m.SandboxId == sandboxId).Select(m => m.UserId).ToListAsync(ct);
        foreach (var userId in admins.Except(members))
        {
            db.Add(new SandboxMembership { UserId = userId, SandboxId = sandboxId, Role = Roles.Admin });
            db.Add(new AuditEntry { SandboxId = sandboxId, Actor = Actor, Action = "user.add", Target = userId });
        }
        await db.SaveChangesAsync(ct);
    }

    public async Task RunAsync(string targetId, CancellationToken ct)
    {
        var sandboxName = string.IsNullOrWhiteSpace(targetId) ? SandboxName : targetId;
        var file = DataFile(config);
        if (!File.Exists(file)) throw new InvalidOperationException($"The demo data file is missing: {file}.");
        await progress.ReportAsync(0.02, $"Sandbox '{sandboxName}'", force: true, ct: ct);
        var sandboxId = await EnsureSandboxAsync(scopes, sandboxName, null, Actor, ct);
        await AddInstanceAdminsAsync(scopes, sandboxId, ct);

        // 1. Schema, inferred from the file; CustomerID is the primary CRMID identity (a quarter of the lines have none: they are
        // kept in the lake and join no profile). Invoice numbers and stock codes are text ("C536379" is a cancellation).
        await progress.ReportAsync(0.05, "Schema: inferring it from the Online Retail file", force: true, ct: ct);
        var inferred = await SchemaInference.InferAsync(file, Path.GetFileName(file), SchemaClass.Profile, ct: ct);
        if (inferred.Error is not null) throw new InvalidOperationException($"The demo file cannot be read: {inferred.Error}");
        var customerPath = inferred.Fields.Single(f => f.Column == "CustomerID").Path;
        string schemaId, datasetId;
        await using (var scope = scopes.CreateSandboxScope(sandboxId))
        {
            var schemas = scope.ServiceProvider.GetRequiredService<SchemaService>();
            var schema = await schemas.Query().FirstOrDefaultAsync(s => s.Name == SchemaName, ct);
            if (schema is null)
            {
                var fields = inferred.ToSchemaFields().Select(f => f.Path == customerPath
                    ? f with { Type = FieldType.String, Identity = new IdentityMapping("CRMID", Primary: true), Required = false }
                    : f with { Identity = null, Type = TextColumns.Contains(f.Path) ? FieldType.String : f.Type }).ToList();
                schema = await schemas.CreateAsync(new SchemaDraft(SchemaName, SchemaClass.Profile, fields, "The customers of the Online Retail shop (the demo)."), Actor, ct);
            }
            schemaId = schema.Id;
            if (!schema.ProfileEnabled) await schemas.EnableProfileAsync(schemaId, Actor, ct);

            // 2. Dataset, in the profile.
            var datasets = scope.ServiceProvider.GetRequiredService<DatasetService>();
            var dataset = await datasets.Query().FirstOrDefaultAsync(d => d.Name == DatasetName, ct)
                          ?? await datasets.CreateAsync(DatasetName, schemaId, "UCI Online Retail (Chen, Sain & Guo 2012), shipped with the portal (CC BY 4.0).", Actor, ct);
            datasetId = dataset.Id;
            if (!dataset.ProfileEnabled) await datasets.EnableProfileAsync(datasetId, Actor, ct: ct);
        }

        // 3. Ingestion (one batch, by its idempotency key).
        await progress.ReportAsync(0.10, "Ingestion: reading 541,909 invoice lines", force: true, ct: ct);
        string batchId;
        await using (var scope = scopes.CreateSandboxScope(sandboxId))
        {
            var ingestion = scope.ServiceProvider.GetRequiredService<IngestionService>();
            await using var stream = File.OpenRead(file);
            var created = await ingestion.CreateBatchAsync(datasetId, stream, Path.GetFileName(file),
                new BatchOptions { Mapping = new Dictionary<string, string>(inferred.Mapping) }, BatchKey, Actor, ct);
            batchId = created.Batch.Id;
            if (created.Batch.Status is BatchStatus.Failed or BatchStatus.Abandoned) await ingestion.RetryAsync(batchId, Actor, ct);
        }
        await WaitAsync(sandboxId, async sp =>
        {
            var b = await sp.GetRequiredService<IngestionService>().GetAsync(batchId, ct);
            return b.Status switch
            {
                BatchStatus.Success => (true, null),
                BatchStatus.Failed or BatchStatus.Abandoned => (true, $"The demo batch {batchId} ended {b.Status}: {b.FailureReason}"),
                _ => (false, null),
            };
        }, 0.10, 0.35, "Ingestion", ct);

        // 4. A churn model: the invoice lines are the events (features: recency, frequency, spend before the cutoff, plus the
        // customer's country); churned = no purchase in the 90 days after the cutoff. Trained by the training job.
        await progress.ReportAsync(0.40, "Model: training a churn model (no purchase within 90 days)", force: true, ct: ct);
        string modelId;
        string? runId = null;
        await using (var scope = scopes.CreateSandboxScope(sandboxId))
        {
            var models = scope.ServiceProvider.GetRequiredService<ModelService>();
            var model = await models.Query().FirstOrDefaultAsync(m => m.Name == ModelName, ct);
            if (model is null)
            {
                string P(string column) => inferred.Fields.Single(f => f.Column == column).Path;
                // Only an attribute that does not change from line to line is a profile feature: the newest line's date and
                // amounts fall after the cutoff and would leak the label.
                model = await models.CreateAsync(new ModelDefinition
                {
                    Name = ModelName, Recipe = "churn", SourceDatasetId = datasetId,
                    Description = $"Demo: how likely an Online Retail customer is to buy nothing within {ChurnWindowDays} days of {ChurnCutoff}, from their purchases before it.",
                    Features = [P("Country")],
                    Parameters = new JsonObject
                    {
                        ["eventDatasetId"] = datasetId, ["customerField"] = customerPath, ["timestampField"] = P("InvoiceDate"),
                        ["amountField"] = P("Quantity"), ["cutoff"] = ChurnCutoff, ["windowDays"] = ChurnWindowDays,
                    },
                    Seed = 7,
                }, Actor, ct);
            }
            modelId = model.Id;
            if (model.ActiveVersionId is null)
            {
                var open = await models.RunsQuery(modelId).Where(r => r.Status == TrainingStatus.Queued || r.Status == TrainingStatus.Running).FirstOrDefaultAsync(ct);
                runId = (open ?? await models.TrainAsync(modelId, Actor, ct)).Id;
            }
        }
        if (runId is not null)
            await WaitAsync(sandboxId, async sp =>
            {
                var r = await sp.GetRequiredService<ModelService>().GetRunAsync(runId, ct);
                return r.Status switch
                {
                    TrainingStatus.Succeeded => (true, null),
                    TrainingStatus.Failed => (true, $"The demo model's training failed: {r.Error}"),
                    _ => (false, null),
                };
            }, 0.40, 0.65, "Training", ct);

        // 5. Scoring into insights.demo_consumer.
        await progress.ReportAsync(0.70, "Scoring: writing insights onto the profiles", force: true, ct: ct);
        string? scoringId = null;
        await using (var scope = scopes.CreateSandboxScope(sandboxId))
        {
            var db = scope.ServiceProvider.GetRequiredService<CatalogDb>();
            var runs = db.Set<ScoringRun>().AsNoTracking().Where(r => r.ModelId == modelId);
            if (!await runs.AnyAsync(r => r.Status == ScoringStatus.Succeeded, ct))
                scoringId = (await runs.FirstOrDefaultAsync(r => r.Status == ScoringStatus.Queued || r.Status == ScoringStatus.Running, ct)
                             ?? await scope.ServiceProvider.GetRequiredService<ScoringService>().StartAsync(modelId, null, Actor, ct)).Id;
        }
        if (scoringId is not null)
            await WaitAsync(sandboxId, async sp =>
            {
                var r = await sp.GetRequiredService<ScoringService>().GetRunAsync(scoringId, ct);
                return r.Status switch
                {
                    ScoringStatus.Succeeded => (true, null),
                    ScoringStatus.Failed => (true, $"The demo scoring run failed: {string.Join(" ", r.Log.TakeLast(3))}"),
                    _ => (false, null),
                };
            }, 0.70, 0.85, "Scoring", ct);

        // 6. An audience on the insight, evaluated.
        await progress.ReportAsync(0.88, $"Audience: '{AudienceName}'", force: true, ct: ct);
        string evalJob;
        await using (var scope = scopes.CreateSandboxScope(sandboxId))
        {
            var audiences = scope.ServiceProvider.GetRequiredService<AudienceService>();
            var audience = (await audiences.ListAsync(ct)).FirstOrDefault(a => a.Name == AudienceName);
            if (audience is null)
            {
                var threshold = await TopQuarterThresholdAsync(audiences, ct);
                audience = await audiences.CreateAsync(AudienceName,
                    $"The quarter of customers the demo churn model scores highest (score >= {threshold:0.####}): the likeliest to order no more.",
                    ScoreRule(threshold), Actor, ct);
            }
            evalJob = (await audiences.EvaluateAsync(audience.Id, Actor, ct)).Id;
        }
        await WaitAsync(sandboxId, async sp =>
        {
            var run = await sp.GetRequiredService<CatalogDb>().Set<JobRun>().AsNoTracking().FirstAsync(r => r.Id == evalJob, ct);
            return run.Status switch
            {
                JobStatus.Succeeded => (true, null),
                JobStatus.Failed or JobStatus.Cancelled => (true, $"The demo audience's evaluation ended {run.Status}: {run.Error}"),
                _ => (false, null),
            };
        }, 0.88, 0.99, "Audience", ct);
        await progress.ReportAsync(1, $"The demo is ready in sandbox '{sandboxName}'", force: true, ct: ct);
    }

    private static JsonObject ScoreRule(double threshold) =>
        new() { ["attribute"] = $"insights.{ModelName}.score", ["op"] = ">=", ["value"] = threshold };

    /// <summary>
    /// The score cut that keeps about the top quarter of the profiles, found by bisection on the audience estimate (the same
    /// query the audience runs), so the demo audience holds the likeliest customers whatever the scores' range.
    /// </summary>
    private static async Task<double> TopQuarterThresholdAsync(AudienceService audiences, CancellationToken ct)
    {
        double lo = 0, hi = 1;
        for (var i = 0; i < 16; i++)
        {
            var mid = (lo + hi) / 2;
            var e = await audiences.EstimateAsync(ScoreRule(mid), 1, ct);
            if (e.Share > 0.25) lo = mid; else hi = mid;
        }
        var cut = Math.Floor(hi * 10_000) / 10_000;
        // All scores equal (or the top quarter empty): keep everyone at or above the lower bound instead.
        return (await audiences.EstimateAsync(ScoreRule(cut), 1, ct)).Size > 0 ? cut : Math.Floor(lo * 10_000) / 10_000;
    }

    /// <summary>Polls <paramref name="check"/> (in a fresh scope of the sandbox) until it reports done; a message means it failed.</summary>
    private async Task WaitAsync(string sandboxId, Func<IServiceProvider, Task<(bool Done, string? Failure)>> check, double from, double to, string step, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        for (var i = 0; ; i++)
        {
            await using (var scope = scopes.CreateSandboxScope(sandboxId))
            {
                var (done, failure) = await check(scope.ServiceProvider);
                if (failure is not null) throw new InvalidOperationException(failure);
                if (done) return;
            }
            var elapsed = DateTime.UtcNow - started;
            if (elapsed > StepTimeout) throw new TimeoutException($"{step} of the demo did not finish within {StepTimeout.TotalMinutes:0} minutes.");
            await progress.ReportAsync(from + (to - from) * (1 - Math.Exp(-elapsed.TotalSeconds / 30)), $"{step}: running ({elapsed.TotalSeconds:0} s)", ct: ct);
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 100 * (i + 1))), ct);
        }
    }
}

public static class DemoServiceCollectionExtensions
{
    public static IServiceCollection AddDemo(this IServiceCollection services) =>
        services.AddPortalJob<DemoJob>(DemoJob.Kind, Auth.Policies.Engineer);
}
