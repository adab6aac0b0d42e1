using Enrichment.Portal.Core.Sandboxes;

namespace Enrichment.Portal.Core.Profiles;

// The identity graph of the profile store (written by Identity/IdentityStitcher): identities, links, aliases of merged profiles, evictions.

/// <summary>One identity (namespace code + normalized value) of the identity graph and the profile it belongs to.</summary>
public sealed class ProfileIdentity : ISandboxScoped
{
    public string SandboxId { get; set; } = "";
    /// <summary>Namespace code, as the namespace defines it (e.g. <c>Email</c>).</summary>
    public string Namespace { get; set; } = "";
    /// <summary>The normalized value.</summary>
    public string Value { get; set; } = "";
    public string ProfileId { get; set; } = "";
    /// <summary>Time of the first record that carried the identity (eviction goes oldest first).</summary>
    public DateTimeOffset FirstSeen { get; set; }
}

/// <summary>An edge of the identity graph: two identities seen in the same record.</summary>
public sealed class ProfileLink : ISandboxScoped
{
    public string SandboxId { get; set; } = "";
    public string FromNamespace { get; set; } = "";
    public string FromValue { get; set; } = "";
    public string ToNamespace { get; set; } = "";
    public string ToValue { get; set; } = "";
    public string ProfileId { get; set; } = "";
    public string DatasetId { get; set; } = "";
    public string BatchId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A profile id that was merged into another one; lookups by the old id resolve to <see cref="ProfileId"/>.</summary>
public sealed class ProfileAlias : ISandboxScoped
{
    public string AliasId { get; set; } = "";
    public string SandboxId { get; set; } = "";
    public string ProfileId { get; set; } = "";
    public DateTimeOffset MergedAt { get; set; }
}

/// <summary>An identity removed from a graph because the graph exceeded its identity limit.</summary>
public sealed class IdentityEviction : ISandboxScoped
{
    public long Id { get; set; }
    public string SandboxId { get; set; } = "";
    public string ProfileId { get; set; } = "";
    public string Namespace { get; set; } = "";
    public string Value { get; set; } = "";
    public DateTimeOffset FirstSeen { get; set; }
    public DateTimeOffset EvictedAt { get; set; }
}
