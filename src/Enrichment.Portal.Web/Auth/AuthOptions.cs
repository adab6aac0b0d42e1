namespace Enrichment.Portal.Web.Auth;

/// <summary><c>Auth:*</c>: bootstrap secrets (API.md, Conventions). Never logged, except generated ones once on first start.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";
    /// <summary>An <c>admin</c> API key with this value exists in sandbox <c>prod</c> (created if missing).</summary>
    public string? BootstrapApiKey { get; set; }
    /// <summary>The UI user <c>admin</c> has this password (created if missing).</summary>
    public string? AdminPassword { get; set; }
    /// <summary>Login attempts allowed per client address per minute.</summary>
    public int LoginAttemptsPerMinute { get; set; } = 10;
    /// <summary>Failed sign-ins allowed per client address over all user names within <see cref="FailedSignInWindow"/>; then 429 until the oldest leaves the window.</summary>
    public int FailedSignInsPerAddress { get; set; } = Enrichment.Portal.Core.Auth.LoginBackoff.DefaultAddressLimit;
    /// <summary>The window of <see cref="FailedSignInsPerAddress"/>.</summary>
    public TimeSpan FailedSignInWindow { get; set; } = TimeSpan.FromMinutes(15);
    /// <summary>How long a login lasts without activity.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);
}
