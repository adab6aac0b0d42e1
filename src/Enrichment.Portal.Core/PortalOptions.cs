namespace Enrichment.Portal.Core;

/// <summary><c>Enrichment:*</c>: where the portal keeps its files.</summary>
public sealed class PortalOptions
{
    public const string Section = "Enrichment";
    /// <summary>Data directory: catalog (SQLite), data lake, uploads, first-run credentials. Default <c>./data</c>.</summary>
    public string DataDirectory { get; set; } = "data";

    public string FullDataDirectory => Path.GetFullPath(DataDirectory);
    public string LakeDirectory => Path.Combine(FullDataDirectory, "lake");
    public string UploadDirectory => Path.Combine(FullDataDirectory, "uploads");
    public string ModelDirectory => Path.Combine(FullDataDirectory, "models");
}
