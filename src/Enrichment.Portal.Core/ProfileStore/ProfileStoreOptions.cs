namespace Enrichment.Portal.Core.ProfileStore;

/// <summary>Options of the profile store.</summary>
public sealed class ProfileStoreOptions
{
    /// <summary>Most identities one graph (profile) keeps; past that, the oldest cookie/device identities are evicted first.</summary>
    public int MaxIdentitiesPerGraph { get; set; } = 50;
    /// <summary>Records per chunk (one transaction per chunk).</summary>
    public int ChunkSize { get; set; } = 10_000;
}
