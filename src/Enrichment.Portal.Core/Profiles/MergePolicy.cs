using Enrichment.Portal.Core.Sandboxes;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>How fragments become one profile.</summary>
public static class MergeMethods
{
    /// <summary>Newest value per attribute wins.</summary>
    public const string Timestamp = "timestamp";
    /// <summary>Values of the datasets earlier in <see cref="MergePolicy.DatasetOrder"/> win.</summary>
    public const string DatasetPrecedence = "dataset-precedence";

    public static bool IsValid(string method) => method is Timestamp or DatasetPrecedence;
}

/// <summary>A merge policy of a sandbox. Exactly one is the default; its merge is materialized on the profiles.</summary>
public sealed class MergePolicy : ISandboxScoped
{
    public const string DefaultName = "Default Timeout-based";

    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    public string Name { get; set; } = "";
    public string Method { get; set; } = MergeMethods.Timestamp;
    public List<string> DatasetOrder { get; set; } = [];
    public bool IsDefault { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}
