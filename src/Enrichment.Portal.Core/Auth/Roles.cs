namespace Enrichment.Portal.Core.Auth;

/// <summary>The roles of API.md. A role holds in one sandbox.</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string Engineer = "engineer";
    public const string Scientist = "scientist";
    public const string Marketer = "marketer";
    public const string Viewer = "viewer";

    public static readonly IReadOnlyList<string> All = [Admin, Engineer, Scientist, Marketer, Viewer];

    public static bool IsValid(string? role) => role is not null && All.Contains(role);
}

/// <summary>Authorization policy names; each lists the roles that hold it.</summary>
public static class Policies
{
    /// <summary>Any role: read what the sandbox holds.</summary>
    public const string Read = "read";
    /// <summary>Any role that may change something (not viewers): e.g. cancel a job it can see.</summary>
    public const string Write = "write";
    /// <summary>Schemas, namespaces, datasets, ingestion, merge policies.</summary>
    public const string Engineer = "engineer";
    /// <summary>Queries, exploration, models, runs, scoring.</summary>
    public const string Scientist = "scientist";
    /// <summary>Profiles, audiences, destinations.</summary>
    public const string Marketer = "marketer";
    /// <summary>Keys, users, sandboxes.</summary>
    public const string Admin = "admin";

    public static readonly IReadOnlyDictionary<string, string[]> RolesFor = new Dictionary<string, string[]>
    {
        [Read] = [Roles.Admin, Roles.Engineer, Roles.Scientist, Roles.Marketer, Roles.Viewer],
        [Write] = [Roles.Admin, Roles.Engineer, Roles.Scientist, Roles.Marketer],
        [Engineer] = [Roles.Admin, Roles.Engineer],
        [Scientist] = [Roles.Admin, Roles.Scientist],
        [Marketer] = [Roles.Admin, Roles.Marketer],
        [Admin] = [Roles.Admin],
    };
}

/// <summary>Claim types the portal puts on its principals (cookie and API key alike).</summary>
public static class PortalClaims
{
    public const string SandboxId = "ep:sandbox";
    public const string SandboxName = "ep:sandbox-name";
    public const string UserId = "ep:user";
    public const string ApiKeyId = "ep:key";
}
