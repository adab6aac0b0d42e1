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

public sealed class JobKindOptions
{
    public HashSet<string> Kinds { get; } = new(StringComparer.Ordinal);
}

/// <summary>Registered job kinds: kind name to implementation, resolved as keyed scoped services.</summary>
public sealed class JobKindRegistry(IOptions<JobKindOptions> options)
{
    public bool Contains(string kind) => options.Value.Kinds.Contains(kind);
    public IReadOnlyCollection<string> Kinds => options.Value.Kinds;
}
