namespace Enrichment.Portal.Core;

/// <summary>
/// <c>Guardrails:*</c>: the limits of a deployment (ARCHITECTURE.md, Guardrail; docs/GUARDRAILS.md). Defaults are the
/// published figures of Adobe Experience Platform. Hard limits reject; soft limits warn.
/// </summary>
public sealed class GuardrailOptions
{
    public const string Section = "Guardrails";

    /// <summary>The default of <see cref="FieldsPerSchema"/> (AEP: 10,000).</summary>
    public const int DefaultFieldsPerSchema = 10_000;

    /// <summary>Hard limit of fields in one schema (AEP: 10,000).</summary>
    public int FieldsPerSchema { get; set; } = DefaultFieldsPerSchema;

    /// <summary>Soft limit of datasets of profile schemas per sandbox (AEP: 20).</summary>
    public int ProfileDatasetsPerSandbox { get; set; } = 20;

    /// <summary>Soft limit of datasets of event schemas per sandbox (AEP: 20).</summary>
    public int EventDatasetsPerSandbox { get; set; } = 20;

    /// <summary>Hard limit of identities in one identity graph; past it the oldest cookie/device identities are evicted (AEP: 50).</summary>
    public int IdentitiesPerGraph { get; set; } = 50;

    /// <summary>Soft limit of events (ExperienceEvents) on one profile (AEP: 5,000).</summary>
    public int EventsPerProfile { get; set; } = 5000;

    /// <summary>Hard limit of the size of one profile record in bytes (AEP: 100 KB).</summary>
    public int ProfileRecordBytes { get; set; } = 100 * 1024;

    /// <summary>Hard limit of the size of one event record in bytes (AEP: 10 KB).</summary>
    public int EventRecordBytes { get; set; } = 10 * 1024;

    /// <summary>Soft limit of items in one array of a profile fragment (AEP: 500).</summary>
    public int ArrayItemsPerFragment { get; set; } = 500;

    /// <summary>Soft limit of batches ingested per day (UTC) per sandbox; streaming micro-batches do not count (AEP: 90).</summary>
    public int BatchesPerDay { get; set; } = 90;

    /// <summary>Soft limit of audiences (segments) per sandbox (AEP: 4,000).</summary>
    public int AudiencesPerSandbox { get; set; } = 4000;

    /// <summary>Hard limit of one uploaded batch file in bytes; 0 (default): the upload limit <c>Ingestion:MaxUploadBytes</c>.</summary>
    public long BatchFileBytes { get; set; }

    /// <summary>Usage at or above this share of a limit is a warning (default 0.8).</summary>
    public double WarningRatio { get; set; } = 0.8;

    /// <summary>How long computed usage is reused before it is counted again (default 15 s).</summary>
    public int CacheSeconds { get; set; } = 15;
}
