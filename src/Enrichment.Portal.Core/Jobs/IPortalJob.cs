using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Jobs;

/// <summary>
/// A kind of background job. It receives the id of what it works on (a batch, a training run ...), runs in its own
/// DI scope with the sandbox of its <see cref="JobRun"/> selected, and must be idempotent: running it twice, or after
/// a crash half way, gives the same result. Report progress through <see cref="JobProgress"/>.
/// </summary>
public interface IPortalJob
{
    Task RunAsync(string targetId, CancellationToken ct);
}

/// <summary>
/// Stops the work of one job kind whose job run has its own record (a batch, say), so that the two never disagree:
/// the record and the run end cancelled together, or the cancel comes too late and changes neither.
/// Registered keyed by kind; kinds without one are cancelled by marking the run (see <see cref="JobScheduler.CancelAsync"/>).
/// </summary>
public interface IJobCanceller
{
    Task<JobCancelResult> CancelAsync(JobRun run, string actor, CancellationToken ct);
}

public enum JobCancelOutcome { Cancelled, AlreadyFinished, TooLate }

/// <summary>What a cancel did, with a sentence for people.</summary>
public sealed record JobCancelResult(JobCancelOutcome Outcome, string Message)
{
    public static readonly JobCancelResult Done = new(JobCancelOutcome.Cancelled, "The job is cancelled.");
    public static JobCancelResult Finished(string status) => new(JobCancelOutcome.AlreadyFinished, $"The job has already finished ({status}).");
}

public sealed class JobKindOptions
{
    public HashSet<string> Kinds { get; } = new(StringComparer.Ordinal);
    /// <summary>Kind -> the authorization policy (<see cref="Auth.Policies"/>) of the roles that may start it, and so cancel it.</summary>
    public Dictionary<string, string> StartPolicies { get; } = new(StringComparer.Ordinal);
}

/// <summary>Registered job kinds: kind name to implementation, resolved as keyed scoped services.</summary>
public sealed class JobKindRegistry(IOptions<JobKindOptions> options)
{
    public bool Contains(string kind) => options.Value.Kinds.Contains(kind);
    public IReadOnlyCollection<string> Kinds => options.Value.Kinds;

    /// <summary>The policy of the roles that start jobs of this kind (admins only for unknown kinds).</summary>
    public string StartPolicy(string kind) => options.Value.StartPolicies.GetValueOrDefault(kind, Auth.Policies.Admin);
}

/// <summary>
/// What a kind does with its own record (batch, training run, scoring run) when <see cref="JobRecovery"/> gives up on a run
/// interrupted <see cref="JobRecovery.MaxAttempts"/> times: mark it failed with the reason, so that it can be re-run (a
/// batch left <c>processing</c> could not be retried). Registered keyed by kind; runs outside a sandbox scope.
/// </summary>
public interface IJobGiveUp
{
    Task OnGivenUpAsync(JobRun run, string reason, CancellationToken ct);
}
