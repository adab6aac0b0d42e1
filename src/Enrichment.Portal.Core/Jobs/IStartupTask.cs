namespace Enrichment.Portal.Core.Jobs;

/// <summary>Work an area needs done at start, after migrations (e.g. seeding its defaults, registering recurring jobs).</summary>
public interface IStartupTask
{
    Task RunAsync(CancellationToken ct);
}
