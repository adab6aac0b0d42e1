using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>An accepted batch of a profile-enabled dataset, as Parquet files of the lake.</summary>
/// <param name="BatchTime">The time fragments are written at when the schema has no <c>timestamp</c>.</param>
public sealed record ProfileBatch(
    string SandboxId, string DatasetId, string BatchId, SchemaDefinition Schema,
    IReadOnlyList<string> ParquetFiles, DateTimeOffset BatchTime)
{
    /// <summary>Namespace code -> info (type and normalizer). Default: the built-in namespaces; unknown codes are person ids.</summary>
    public Func<string, NamespaceInfo?>? Namespaces { get; init; }
}

/// <summary>A few streamed records (values by dotted path) of a profile-enabled dataset.</summary>
public sealed record ProfileRecordBatch(
    string SandboxId, string DatasetId, SchemaDefinition Schema,
    IReadOnlyList<IReadOnlyDictionary<string, object?>> Records, DateTimeOffset ReceivedAt)
{
    /// <summary>Batch id the events are keyed under (with a content hash as row number).</summary>
    public string BatchId { get; init; } = "stream";
    public Func<string, NamespaceInfo?>? Namespaces { get; init; }
}

/// <summary>Progress of <see cref="ProfileIngestor.ApplyBatchAsync"/>: records processed so far.</summary>
public sealed record ProfileIngestProgress(long Records, long Profiles);

/// <summary>What a batch did to the profile store.</summary>
/// <param name="IdentitiesAdded">New identities in the graph.</param>
/// <param name="ProfilesUpdated">Profiles that existed before the chunk and got new identities, merges or changed attributes.</param>
/// <param name="Events">Events inserted (a re-run inserts none).</param>
public sealed record ProfileIngestResult(
    long Records, long ProfilesCreated, long ProfilesUpdated, long ProfilesMerged, long IdentitiesAdded,
    long IdentitiesEvicted, long RecordsWithoutIdentity, long Events, TimeSpan IdentityStage, TimeSpan ProfileStage)
{
    /// <summary>Where the profile stage spent its time (load fragments, apply + fragment upserts, merge, profile updates, commit).</summary>
    public IReadOnlyDictionary<string, TimeSpan> ProfileStageParts { get; init; } = new Dictionary<string, TimeSpan>();
    /// <summary>Profiles whose stored merge was patched with this dataset's values only (no other fragments loaded).</summary>
    public long ProfilesPatched { get; init; }
    /// <summary>Profiles merged again from all their fragments (merge survivors, and paths another dataset provided until now).</summary>
    public long ProfilesMergedInFull { get; init; }
}
