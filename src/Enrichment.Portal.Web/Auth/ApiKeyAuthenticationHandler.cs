using System.Security.Claims;
using System.Text.Encodings.Web;
using Enrichment.Portal.Core.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Web.Auth;

/// <summary>Authenticates <c>X-Api-Key</c>: the key's sandbox and role become the principal's claims.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyService keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var values)) return AuthenticateResult.NoResult();
        var presented = values.ToString().Trim();
        var key = await keys.VerifyAsync(presented, Context.RequestAborted);
        if (key is null) return AuthenticateResult.Fail("Unknown or revoked API key.");
        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, "key:" + key.Id),
            new Claim(ClaimTypes.Name, "key:" + key.Name),
            new Claim(ClaimTypes.Role, key.Role),
            new Claim(PortalClaims.SandboxId, key.SandboxId),
            new Claim(PortalClaims.ApiKeyId, key.Id),
        ], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        return Task.CompletedTask;
    }
}
