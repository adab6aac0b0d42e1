using Enrichment.Portal.Core.Sandboxes;

namespace Enrichment.Portal.Core.Audit;

/// <summary>Who did what, when. Never holds secrets or deleted personal values.</summary>
public sealed class AuditEntry : ISandboxScoped
{
    public long Id { get; set; }
    public string SandboxId { get; set; } = "";
    public DateTimeOffset At { get; set; } = DateTimeOffset.UtcNow;
    public string Actor { get; set; } = "";
    public string Action { get; set; } = "";
    public string? Target { get; set; }
    public string? Detail { get; set; }
}
