using Enrichment.Portal.Core.Sandboxes;

namespace Enrichment.Portal.Core.Auth;

/// <summary>A person who logs into the UI. What they may do is given per sandbox by <see cref="SandboxMembership"/>.</summary>
public sealed class AppUser
{
    public string Id { get; set; } = Ids.New();
    public string UserName { get; set; } = "";
    public string DisplayName { get; set; } = "";
    public string PasswordHash { get; set; } = "";
    public bool Disabled { get; set; }
    public int FailedLogins { get; set; }
    public DateTimeOffset? LockedUntil { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? LastLoginAt { get; set; }
    public List<SandboxMembership> Memberships { get; set; } = [];
}

/// <summary>A user's role in one sandbox.</summary>
public sealed class SandboxMembership : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string UserId { get; set; } = "";
    public string SandboxId { get; set; } = "";
    public string Role { get; set; } = Roles.Viewer;
    public AppUser? User { get; set; }
    public Sandbox? Sandbox { get; set; }
}

/// <summary>An API key: shown once, stored as a SHA-256 hash, one role in one sandbox.</summary>
public sealed class ApiKey : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    public string Name { get; set; } = "";
    public string Role { get; set; } = Roles.Viewer;
    /// <summary>The first characters of the key, to tell keys apart in lists.</summary>
    public string Prefix { get; set; } = "";
    public string Hash { get; set; } = "";
    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}
