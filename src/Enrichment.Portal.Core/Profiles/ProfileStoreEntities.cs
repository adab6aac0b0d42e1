using Enrichment.Portal.Core.Sandboxes;

namespace Enrichment.Portal.Core.Profiles;

// The profiles of the profile store and what they are merged from: fragments of profile datasets and events of event datasets.

/// <summary>A unified profile (a connected component of the identity graph) with its materialized merged attributes (default merge policy).</summary>
public sealed class Profile : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public int IdentityCount { get; set; }
    /// <summary>True once the graph reached the identity limit and identities were evicted.</summary>
    public bool HitLimit { get; set; }
    /// <summary>Merged attributes by the default policy, as a flat JSON object keyed by dotted path (map entries as <c>path.key</c>).</summary>
    public string Attributes { get; set; } = "{}";
    /// <summary>Flat JSON object: dotted path -> dataset id the value came from.</summary>
    public string Provenance { get; set; } = "{}";
}

/// <summary>The attributes one dataset holds for one identity-of-record (the primary identity of the record).</summary>
public sealed class ProfileFragment : ISandboxScoped
{
    public string SandboxId { get; set; } = "";
    public string DatasetId { get; set; } = "";
    /// <summary><c>namespace</c> + U+001F + value of the identity the record is keyed by.</summary>
    public string RecordKey { get; set; } = "";
    public string ProfileId { get; set; } = "";
    public string BatchId { get; set; } = "";
    public DateTimeOffset WrittenAt { get; set; }
    /// <summary>Flat JSON object keyed by dotted path.</summary>
    public string Attributes { get; set; } = "{}";
}

/// <summary>An event of an event dataset, indexed by profile.</summary>
public sealed class ProfileEvent : ISandboxScoped
{
    public long Id { get; set; }
    public string SandboxId { get; set; } = "";
    public string ProfileId { get; set; } = "";
    public string DatasetId { get; set; } = "";
    /// <summary>Batch id, with <see cref="RowNumber"/> the idempotency key (streamed records: a content hash).</summary>
    public string BatchId { get; set; } = "";
    public long RowNumber { get; set; }
    public DateTimeOffset Timestamp { get; set; }
    public string EventType { get; set; } = "";
    /// <summary>Flat JSON object of the event's fields keyed by dotted path.</summary>
    public string Fields { get; set; } = "{}";
}
