namespace Enrichment.Portal.Core.Catalog;

/// <summary><c>Guardrails:*</c>: the limits of the catalog (ARCHITECTURE.md, Guardrail).</summary>
public sealed class GuardrailOptions
{
    public const string Section = "Guardrails";

    /// <summary>Hard limit of fields in one schema (AEP: 10,000).</summary>
    public int FieldsPerSchema { get; set; } = Schemas.SchemaRules.DefaultMaxFields;

    /// <summary>Soft limit of datasets of profile schemas per sandbox (AEP: 20).</summary>
    public int ProfileDatasetsPerSandbox { get; set; } = 20;

    /// <summary>Soft limit of datasets of event schemas per sandbox (AEP: 20).</summary>
    public int EventDatasetsPerSandbox { get; set; } = 20;
}
