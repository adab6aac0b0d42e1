using Enrichment.Portal.Core.Lake;

namespace Enrichment.Portal.Core.Ingestion;

/// <summary>
/// A stage of the <see cref="IngestionPipeline"/> after the lake: called once a batch's data is committed to the lake (an
/// upload's lake stage, or a streaming micro-batch), before the batch is marked <c>success</c>. Runs in the batch's sandbox;
/// must be idempotent (a batch can be re-run after a crash or a retry). Throwing fails the batch with the exception's message
/// and un-commits its folder. A stage records its own <see cref="BatchStage"/> rows with <see cref="BatchStageRecorder"/>.
/// Implement one of the slot interfaces below (the slot decides where it runs), not this one.
/// </summary>
public interface IBatchStage
{
    Task RunAsync(Batch batch, LakeDataset dataset, IReadOnlyList<string> files, CancellationToken ct);
}

/// <summary>Slot 1, right after the lake: checks that may fail the batch before anything reads it (scoring's test fault point).</summary>
public interface IAfterLakeCheck : IBatchStage;

/// <summary>
/// Slot 2, the identity and profile stages of a profile-enabled dataset: stitches the batch's identities into the identity
/// graph and merges its records into the profile store, recording <see cref="BatchStages.Identity"/> and
/// <see cref="BatchStages.Profile"/> (Profiles/IdentityAndProfileStage).
/// </summary>
public interface IIdentityAndProfileStage : IBatchStage;

/// <summary>
/// Slot 3, audiences: re-evaluates the audiences (segments) a batch's profiles may have entered or left. None is registered
/// yet: the audiences feature (issue #15) plugs in here with <c>services.AddScoped&lt;IAudienceStage, X&gt;()</c>, records
/// its own stage (add its name to <see cref="IngestionPipeline.StageNames"/>) and so shows in the latency panel.
/// </summary>
public interface IAudienceStage : IBatchStage;

/// <summary>
/// Slot 4, bookkeeping after the profile (and audience) stages: soft-guardrail warnings and the like. Records no stage.
/// </summary>
public interface IBatchBookkeeping : IBatchStage
{
    /// <summary>Called once the batch is marked successful (after every stage ran), e.g. to drop caches that count successful batches.</summary>
    Task OnBatchSucceededAsync(Batch batch, CancellationToken ct) => Task.CompletedTask;
}
