using Enrichment.Portal.Core;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Web.Auth;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Web.Hosting;

/// <summary>
/// Start-up work, before the portal serves: apply the catalog's migrations, make sure sandbox <c>prod</c>, the
/// bootstrap admin user and key exist (API.md, Conventions: Bootstrap), and re-queue jobs a dead process left.
/// </summary>
public sealed class PortalInitializer(
    CatalogDb db, ApiKeyService keys, UserService users, JobRecovery recovery,
    IOptions<AuthOptions> auth, IOptions<PortalOptions> portal, IOptions<DatabaseOptions> database,
    IEnumerable<IStartupTask> startupTasks, ILogger<PortalInitializer> log)
{
    public const string CredentialsFile = "first-run-credentials.txt";

    public async Task InitializeAsync(CancellationToken ct)
    {
        OwnerOnlyFiles.Secure(portal.Value.FullDataDirectory);
        if (db.Database.IsSqlite())
        {
            await db.Database.OpenConnectionAsync(ct);
            await using (var cmd = db.Database.GetDbConnection().CreateCommand())
            {
                cmd.CommandText = "PRAGMA journal_mode=WAL;";
                await cmd.ExecuteNonQueryAsync(ct);
            }
            await db.Database.CloseConnectionAsync();
        }
        await db.Database.MigrateAsync(ct);

        var prod = await db.Set<Sandbox>().FirstOrDefaultAsync(s => s.Name == Sandbox.ProdName, ct);
        if (prod is null)
        {
            prod = new Sandbox { Name = Sandbox.ProdName, Title = "Production" };
            db.Add(prod);
            await db.SaveChangesAsync(ct);
            log.LogInformation("Created sandbox {Sandbox}", prod.Name);
        }
        await BootstrapAsync(prod, ct);
        foreach (var task in startupTasks) await task.RunAsync(ct);
        var requeued = await recovery.RecoverAsync(sharedQueue: database.Value.IsPostgres, ct);
        if (requeued > 0) log.LogWarning("Re-queued {Count} job runs left unfinished by a stopped process", requeued);
    }

    private async Task BootstrapAsync(Sandbox prod, CancellationToken ct)
    {
        var key = auth.Value.BootstrapApiKey?.Trim();
        var password = auth.Value.AdminPassword;
        var firstStart = !await db.Set<AppUser>().AnyAsync(ct) && !await db.Set<ApiKey>().IgnoreQueryFilters().AnyAsync(ct);
        string? generatedKey = null, generatedPassword = null;
        if (string.IsNullOrEmpty(key) && string.IsNullOrEmpty(password) && firstStart)
        {
            key = generatedKey = ApiKeyService.NewSecret();
            password = generatedPassword = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12)).Replace('+', 'x').Replace('/', 'y');
        }

        if (!string.IsNullOrEmpty(key))
        {
            var hash = ApiKeyService.Hash(key);
            if (!await db.Set<ApiKey>().IgnoreQueryFilters().AnyAsync(k => k.Hash == hash && k.RevokedAt == null, ct))
            {
                await keys.CreateAsync("bootstrap", Roles.Admin, "system", key, prod.Id, ct);
                log.LogInformation("Created the bootstrap admin API key in sandbox {Sandbox}", prod.Name);
            }
        }
        if (!string.IsNullOrEmpty(password))
        {
            var admin = await db.Set<AppUser>().IgnoreQueryFilters().Include(u => u.Memberships).FirstOrDefaultAsync(u => u.UserName == "admin", ct);
            if (admin is null)
            {
                await users.CreateAsync("admin", "Administrator", password, prod.Id, Roles.Admin, ct);
                log.LogInformation("Created the admin user");
            }
            else
            {
                await users.SetPasswordAsync(admin, password, ct);
                if (admin.Memberships.All(m => m.SandboxId != prod.Id))
                {
                    db.Add(new SandboxMembership { UserId = admin.Id, SandboxId = prod.Id, Role = Roles.Admin });
                    await db.SaveChangesAsync(ct);
                }
            }
        }
        if (generatedKey is not null)
        {
            var path = Path.Combine(portal.Value.FullDataDirectory, CredentialsFile);
            var text = $"Enrichment Portal first-run credentials (generated {DateTimeOffset.UtcNow:u}).\n" +
                       $"UI login: user 'admin', password '{generatedPassword}'\nAPI key (admin, sandbox prod): {generatedKey}\n" +
                       "Set Auth:AdminPassword / Auth:BootstrapApiKey to choose your own. Delete this file once you have noted them.\n";
            await File.WriteAllTextAsync(path, text, ct);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            // Printed once, on purpose (API.md): the operator has no other way to learn them.
            log.LogWarning("\n==================== FIRST-RUN CREDENTIALS ====================\n" +
                           "  Sign in as user 'admin' with password: {Password}\n" +
                           "  Admin API key (sandbox prod):          {ApiKey}\n" +
                           "  Also written to {Path}\n" +
                           "===============================================================",
                generatedPassword, generatedKey, path);
        }
    }
}
