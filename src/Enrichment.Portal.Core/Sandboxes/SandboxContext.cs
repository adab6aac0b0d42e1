namespace Enrichment.Portal.Core.Sandboxes;

/// <summary>
/// The sandbox the current scope (HTTP request, Blazor circuit or job) works in. The catalog reads it for its
/// query filter and stamps it on new rows, so that sandbox isolation is enforced in one place.
/// </summary>
public sealed class SandboxContext
{
    public string? SandboxId { get; set; }

    /// <summary>The current sandbox id, or an exception when the scope has none (a bug, never user input).</summary>
    public string Require() => SandboxId ?? throw new InvalidOperationException("No sandbox is selected for this scope.");
}

/// <summary>A catalog object that belongs to exactly one sandbox.</summary>
public interface ISandboxScoped
{
    string SandboxId { get; set; }
}
