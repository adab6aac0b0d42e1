using System.Security.Claims;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Web.Auth;
using MudBlazor;

namespace Enrichment.Portal.Web.Components.Layout;

public sealed record NavLinkInfo(string Id, string Title, string Href, string Icon, string Policy = Policies.Read);
public sealed record NavGroup(string Title, IReadOnlyList<NavLinkInfo> Links);

/// <summary>The navigation of UX.md, filtered by the user's role. Add a link here when its page exists.</summary>
public static class NavGroups
{
    public static readonly IReadOnlyList<NavGroup> All =
    [
        new("Data", [
            new("schemas", "Schemas", "/schemas", Icons.Material.Filled.Schema),
            new("datasets", "Datasets", "/datasets", Icons.Material.Filled.Dataset),
            new("ingestion", "Ingestion", "/ingestion", Icons.Material.Filled.CloudUpload),
            new("identity-namespaces", "Identity namespaces", "/identity-namespaces", Icons.Material.Filled.Fingerprint),
        ]),
        new("Profiles", [
            new("profiles", "Profiles", "/profiles", Icons.Material.Filled.PersonSearch),
            new("audiences", "Audiences", "/audiences", Icons.Material.Filled.Groups),
            new("destinations", "Destinations", "/destinations", Icons.Material.Filled.Output),
        ]),
        new("Data science", [
            new("explore", "Explore", "/explore", Icons.Material.Filled.QueryStats, Policies.Scientist),
            new("query", "Query", "/query", Icons.Material.Filled.Terminal, Policies.Scientist),
            new("models", "Models", "/models", Icons.Material.Filled.ModelTraining),
            new("import-scores", "Import scores", "/models/import-scores", Icons.Material.Filled.Input, Policies.Scientist),
        ]),
        new("Operations", [
            new("guardrails", "Guardrails & latency", "/guardrails", Icons.Material.Filled.Speed),
            new("jobs", "Jobs", "/jobs", Icons.Material.Filled.WorkHistory),
        ]),
        new("Admin", [
            new("admin-users", "Users", "/admin/users", Icons.Material.Filled.People, Policies.Admin),
            new("admin-keys", "API keys", "/admin/api-keys", Icons.Material.Filled.Key, Policies.Admin),
            new("admin-sandboxes", "Sandboxes", "/admin/sandboxes", Icons.Material.Filled.Layers, Policies.Admin),
            new("api-reference", "API reference", "/api/reference", Icons.Material.Filled.Api, Policies.Read),
        ]),
    ];

    public static IEnumerable<NavGroup> For(ClaimsPrincipal user) =>
        All.Select(g => g with { Links = g.Links.Where(l => user.HasPolicy(l.Policy)).ToList() }).Where(g => g.Links.Count > 0);
}
