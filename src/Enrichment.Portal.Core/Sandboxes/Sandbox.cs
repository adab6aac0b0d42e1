namespace Enrichment.Portal.Core.Sandboxes;

public sealed class Sandbox
{
    public const string ProdName = "prod";

    public string Id { get; set; } = Ids.New();
    /// <summary>Short unique name (lower case letters, digits, '-'), e.g. <c>prod</c>, <c>dev</c>.</summary>
    public string Name { get; set; } = "";
    public string Title { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}
