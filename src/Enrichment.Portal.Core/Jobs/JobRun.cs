using Enrichment.Portal.Core.Sandboxes;

namespace Enrichment.Portal.Core.Jobs;

public static class JobStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsFinal(string status) => status is Succeeded or Failed or Cancelled;
}

/// <summary>
/// The catalog's record of one background job: what the UI, the API and a restart read. Hangfire's storage is only
/// the queue; this row is the truth. Kept up to date by <see cref="JobRunFilter"/>.
/// </summary>
public sealed class JobRun : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    /// <summary>Registered job kind (e.g. <c>ingestion</c>, <c>training</c>).</summary>
    public string Kind { get; set; } = "";
    /// <summary>The id the job works on (a batch, a training run ...); passed to the job's RunAsync.</summary>
    public string? TargetId { get; set; }
    public string Status { get; set; } = JobStatus.Queued;
    public double Progress { get; set; }
    public string? ProgressText { get; set; }
    public string? Error { get; set; }
    public int Attempts { get; set; }
    public string? HangfireJobId { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public DateTimeOffset? HeartbeatAt { get; set; }
}
