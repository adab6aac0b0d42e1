using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Microsoft.EntityFrameworkCore;
using MudBlazor;

namespace Enrichment.Portal.Web.Components;

public enum GuidedStepState { Done, Next, Blocked, Planned }

/// <summary>One implementation step of the guided path (UX.md), with its state in the current sandbox.</summary>
public sealed record GuidedStep(int Number, string Title, string Why, GuidedStepState State, string? Href, string? Fact);
public sealed record SandboxFact(string Label, string Value);
public sealed record SandboxNotice(Severity Severity, string Text);
public sealed record SandboxOverview(IReadOnlyList<GuidedStep> Steps, IReadOnlyList<SandboxFact> Facts, IReadOnlyList<SandboxNotice> Notices)
{
    /// <summary>Guardrails at warning or exceeded (most pressing first).</summary>
    public IReadOnlyList<Enrichment.Portal.Core.Guardrails.GuardrailItem> Guardrails { get; init; } = [];
}

/// <summary>What the home page shows: the guided path's progress and the sandbox's figures, from the catalog.</summary>
public sealed class SandboxOverviewService(CatalogDb db, Enrichment.Portal.Core.Guardrails.GuardrailService guardrails)
{
    public async Task<SandboxOverview> BuildAsync(CancellationToken ct = default)
    {
        var jobs = await db.Set<JobRun>().CountAsync(ct);
        var failed = await db.Set<JobRun>().CountAsync(j => j.Status == JobStatus.Failed, ct);
        var running = await db.Set<JobRun>().CountAsync(j => j.Status == JobStatus.Running || j.Status == JobStatus.Queued, ct);
        var keys = await db.Set<ApiKey>().CountAsync(k => k.RevokedAt == null, ct);
        var users = await db.Set<SandboxMembership>().CountAsync(ct);
        var catalog = await CatalogStepsAsync(ct);
        var profiles = await new Enrichment.Portal.Core.Profiles.ProfileService(db).StatsAsync(ct);

        var steps = new List<GuidedStep>
        {
            catalog.Schema,
            catalog.Dataset,
            await IngestStepAsync(catalog.Dataset.State == GuidedStepState.Done, ct),
            new(4, "Enable for profile and watch profiles stitch", "Records that share an identity become one customer profile.",
                profiles.Profiles > 0 ? GuidedStepState.Done : catalog.Dataset.State == GuidedStepState.Done ? GuidedStepState.Next : GuidedStepState.Blocked,
                profiles.Profiles > 0 ? "/profiles" : "/wizard?step=4", profiles.Profiles > 0 ? Plural(profiles.Profiles, "profile") : null),
        };
        var train = await TrainStepAsync(ct);
        steps.Add(train);
        var (score, insights) = await ScoreStepsAsync(train.State == GuidedStepState.Done, ct);
        steps.Add(score);
        steps.Add(insights);
        var facts = new List<SandboxFact>
        {
            new("Jobs run", Format.Count(jobs)),
            new("Jobs running or queued", Format.Count(running)),
            new("Active API keys", Format.Count(keys)),
            new("Users", Format.Count(users)),
            new("Profiles", Format.Count(profiles.Profiles)),
            new("Identities", Format.Count(profiles.Identities)),
            new("Profile events", Format.Count(profiles.Events)),
        };
        var notices = new List<SandboxNotice>();
        if (failed > 0) notices.Add(new(Severity.Warning, $"{Plural(failed, "job")} failed: see Jobs for the reasons."));
        return new SandboxOverview(steps, facts, notices) { Guardrails = await guardrails.AttentionAsync(ct) };
    }

    /// <summary>Step 3: done when a batch succeeded; next once a dataset exists.</summary>
    private async Task<GuidedStep> IngestStepAsync(bool hasDataset, CancellationToken ct)
    {
        // The user's own data: batches of system datasets (snapshots, scoring outputs) are not counted.
        var userDatasets = db.Set<Enrichment.Portal.Core.Datasets.Dataset>().Where(d => !d.System).Select(d => d.Id);
        var ok = db.Set<Enrichment.Portal.Core.Ingestion.Batch>().Where(b => b.Status == Enrichment.Portal.Core.Ingestion.BatchStatus.Success && userDatasets.Contains(b.DatasetId));
        var batches = await ok.CountAsync(ct);
        var records = batches == 0 ? 0 : await ok.SumAsync(b => b.RecordsWritten, ct);
        return new(3, "Ingest data", "Upload a file: each record is checked against the schema, bad rows are set aside with their reason, the rest is kept.",
            batches > 0 ? GuidedStepState.Done : hasDataset ? GuidedStepState.Next : GuidedStepState.Blocked, batches > 0 ? "/ingestion" : "/wizard?step=3",
            batches == 0 ? null : $"{Format.Count(records)} records in {Format.Count(batches)} batch(es)");
    }

    /// <summary>Step 5 from the model registry: done when a model has an active version; next once a dataset exists.</summary>
    private async Task<GuidedStep> TrainStepAsync(CancellationToken ct)
    {
        var models = await db.Set<Enrichment.Portal.Core.Models.Model>().CountAsync(ct);
        var trained = await db.Set<Enrichment.Portal.Core.Models.Model>().CountAsync(m => m.ActiveVersionId != null, ct);
        var datasets = await db.Set<Enrichment.Portal.Core.Datasets.Dataset>().CountAsync(d => d.DeletedAt == null, ct);
        var state = trained > 0 ? GuidedStepState.Done : datasets > 0 ? GuidedStepState.Next : GuidedStepState.Blocked;
        return new GuidedStep(5, "Train a model", "Churn, propensity, lifetime value, affinity, engagement or segments, measured on held-out customers.",
            state, trained > 0 ? "/models" : "/wizard?step=5", models == 0 ? null : $"{Plural(models, "model")}, {Format.Count(trained)} trained");
    }

    /// <summary>
    /// Steps 6 and 7: scoring is done when a scoring run succeeded (next once a model is trained); insights are done when a profile
    /// carries insights (scored or imported), next once a run succeeded.
    /// </summary>
    private async Task<(GuidedStep Score, GuidedStep Insights)> ScoreStepsAsync(bool trained, CancellationToken ct)
    {
        var runs = db.Set<Enrichment.Portal.Core.Scoring.ScoringRun>().Where(r => r.Status == Enrichment.Portal.Core.Scoring.ScoringStatus.Succeeded);
        var succeeded = await runs.CountAsync(ct);
        var rows = succeeded == 0 ? 0 : await runs.SumAsync(r => r.RowsScored, ct);
        var score = new GuidedStep(6, "Score it", "Apply the model to every profile in a background run; the results go through the same ingestion as any batch.",
            succeeded > 0 ? GuidedStepState.Done : trained ? GuidedStepState.Next : GuidedStepState.Blocked,
            succeeded > 0 ? "/models" : "/wizard?step=6", succeeded == 0 ? null : $"{Format.Count(rows)} rows scored in {Plural(succeeded, "run")}");
        var withInsights = await new Enrichment.Portal.Core.Insights.InsightQueries(db).CountProfilesWithInsightsAsync(ct);
        var insights = new GuidedStep(7, "See insights on profiles", "Scores land on each profile, where audiences and exports use them.",
            withInsights > 0 ? GuidedStepState.Done : succeeded > 0 ? GuidedStepState.Next : GuidedStepState.Blocked,
            withInsights > 0 ? "/wizard?step=7" : succeeded > 0 ? "/wizard?step=7" : null,
            withInsights == 0 ? null : $"{Plural(withInsights, "profile")} with insights");
        return (score, insights);
    }

    /// <summary>Steps 1 and 2 from the catalog: done when a profile schema has a primary identity / when a dataset exists.</summary>
    private async Task<(GuidedStep Schema, GuidedStep Dataset)> CatalogStepsAsync(CancellationToken ct)
    {
        // Schemas of the portal's own (system) datasets, e.g. the insights store, are not the user's: not counted.
        var systemSchemas = db.Set<Enrichment.Portal.Core.Datasets.Dataset>().Where(d => d.System).Select(d => d.SchemaId);
        var userSchemas = db.Set<Enrichment.Portal.Core.Schemas.Schema>().Where(s => !systemSchemas.Contains(s.Id));
        var schemas = await userSchemas.CountAsync(ct);
        var profileEnabled = await userSchemas.CountAsync(s => s.ProfileEnabled, ct);
        var ready = await db.Set<Enrichment.Portal.Core.Schemas.Schema>().AnyAsync(s => s.Class == Enrichment.Portal.Core.Schemas.SchemaClass.Profile && s.PrimaryIdentityPath != null, ct);
        var datasets = await db.Set<Enrichment.Portal.Core.Datasets.Dataset>().CountAsync(d => d.DeletedAt == null && !d.System, ct);
        var profileDatasets = await db.Set<Enrichment.Portal.Core.Datasets.Dataset>().CountAsync(d => d.DeletedAt == null && !d.System && d.ProfileEnabled, ct);
        var schemaStep = new GuidedStep(1, "Create a schema with identities",
            "A schema says what your records look like. Its identity fields (email, CRM id, cookie) are how records of one person find each other.",
            ready ? GuidedStepState.Done : GuidedStepState.Next, ready ? "/schemas" : "/wizard?step=1",
            schemas == 0 ? null : $"{Plural(schemas, "schema")}, {Format.Count(profileEnabled)} profile-enabled");
        var datasetStep = new GuidedStep(2, "Create a dataset", "A dataset stores the records of one schema; batches of files land in it.",
            datasets > 0 ? GuidedStepState.Done : ready ? GuidedStepState.Next : GuidedStepState.Blocked, datasets > 0 ? "/datasets" : "/wizard?step=2",
            datasets == 0 ? null : $"{Plural(datasets, "dataset")}, {Format.Count(profileDatasets)} profile-enabled");
        return (schemaStep, datasetStep);
    }

    private static string Plural(long n, string noun) => $"{Format.Count(n)} {noun}{(n == 1 ? "" : "s")}";
}
