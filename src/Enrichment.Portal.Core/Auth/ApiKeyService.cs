using System.Security.Cryptography;
using System.Text;
using Enrichment.Portal.Core.Catalog;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Auth;

/// <summary>The result of creating a key: the secret is in <see cref="Secret"/> and nowhere else, ever.</summary>
public sealed record CreatedApiKey(ApiKey Key, string Secret);

/// <summary>Creates, verifies and revokes API keys. Keys are stored as SHA-256 hashes (they are long random secrets).</summary>
public sealed class ApiKeyService(CatalogDb db, TimeProvider clock)
{
    public const string SecretPrefix = "ep_";

    public static string Hash(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static string NewSecret() =>
        SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Creates a key in the current sandbox (or <paramref name="sandboxId"/> for system work).</summary>
    public async Task<CreatedApiKey> CreateAsync(string name, string role, string? createdBy, string? secret = null, string? sandboxId = null, CancellationToken ct = default)
    {
        if (!Roles.IsValid(role)) throw new ArgumentException($"Unknown role '{role}'. Roles: {string.Join(", ", Roles.All)}.", nameof(role));
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A key needs a name.", nameof(name));
        secret ??= NewSecret();
        var key = new ApiKey
        {
            Name = name.Trim(), Role = role, CreatedBy = createdBy, Hash = Hash(secret),
            Prefix = secret[..Math.Min(10, secret.Length)], CreatedAt = clock.GetUtcNow(),
        };
        if (sandboxId is not null) key.SandboxId = sandboxId;
        db.Add(key);
        await db.SaveChangesAsync(ct);
        return new CreatedApiKey(key, secret);
    }

    /// <summary>Finds the active key for a presented secret, across sandboxes, and records its use (at most once a minute).</summary>
    public async Task<ApiKey?> VerifyAsync(string presented, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(presented) || presented.Length > 200) return null;
        var hash = Hash(presented);
        var key = await db.Set<ApiKey>().IgnoreQueryFilters().FirstOrDefaultAsync(k => k.Hash == hash && k.RevokedAt == null, ct);
        if (key is null) return null;
        var now = clock.GetUtcNow();
        if (key.LastUsedAt is null || now - key.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            await db.Set<ApiKey>().IgnoreQueryFilters().Where(k => k.Id == key.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), ct);
            key.LastUsedAt = now;
        }
        return key;
    }

    public async Task<bool> RevokeAsync(string id, CancellationToken ct = default)
    {
        var key = await db.Set<ApiKey>().FirstOrDefaultAsync(k => k.Id == id, ct);
        if (key is null) return false;
        key.RevokedAt ??= clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return true;
    }
}
