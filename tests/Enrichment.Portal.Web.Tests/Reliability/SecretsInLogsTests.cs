using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Enrichment.Portal.Tests;
using Npgsql;

namespace Enrichment.Portal.Web.Tests.Reliability;

/// <summary>
/// Secrets never reach the logs (issue #20). A portal process logging every category at Debug does every operation that
/// handles a secret — generated first-run credentials, users with passwords, right and wrong sign-ins, a password change,
/// API keys created, used, revoked and used again, a wrong key, a webhook destination with its signing secret and a run
/// of it, and (when EP_TEST_POSTGRES is set) a catalog on PostgreSQL whose connection string has a password — then every
/// log file of this test run (<see cref="TestLogs"/>: this process, the suite's shared in-process host and any other
/// portal process so far) is searched for each secret. The one place a secret may appear by design is the FIRST-RUN
/// CREDENTIALS block (the generated admin password and key, printed once; API.md); anywhere else it is a leak.
/// </summary>
public sealed partial class SecretsInLogsTests
{
    private static void Report(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    private static readonly Dictionary<string, string?> Debug = new()
    {
        ["Logging:LogLevel:Default"] = "Debug",
        ["Logging:LogLevel:Microsoft"] = "Debug",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Debug",
        ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Debug",
        ["Logging:LogLevel:System"] = "Debug",
        ["Logging:LogLevel:Hangfire"] = "Debug",
        ["Auth:LoginAttemptsPerMinute"] = "1000",
        ["Webhooks:AllowPrivateNetworks"] = "true", // the hook's target is a closed loopback port: its deliveries fail and are logged
    };

    [Fact]
    public async Task No_password_api_key_webhook_secret_or_connection_string_password_is_logged()
    {
        var secrets = new Dictionary<string, string>(); // what -> value
        using var data = Core.Tests.TestData.NewTempDir();
        // No configured credentials: the portal generates them and prints them once (the designed block).
        using (var portal = new PortalProcess(data.Path, new Dictionary<string, string?>(Debug) { ["Auth:BootstrapApiKey"] = null, ["Auth:AdminPassword"] = null }, name: "secrets-portal"))
        {
            await portal.StartAsync();
            var credentials = await File.ReadAllTextAsync(Path.Combine(data.Path, Enrichment.Portal.Web.Hosting.PortalInitializer.CredentialsFile));
            var adminPassword = Regex.Match(credentials, "password '([^']+)'").Groups[1].Value;
            var adminKey = Regex.Match(credentials, @"sandbox prod\): (\S+)").Groups[1].Value;
            Assert.False(string.IsNullOrEmpty(adminPassword) || string.IsNullOrEmpty(adminKey), credentials);
            secrets["generated admin password"] = adminPassword;
            secrets["generated admin key"] = adminKey;
            await SecretOperationsAsync(portal, adminKey, adminPassword, secrets);
            await portal.StopAsync(kill: false);
        }

        var pg = Environment.GetEnvironmentVariable("EP_TEST_POSTGRES");
        if (!string.IsNullOrEmpty(pg))
        {
            // The catalog on PostgreSQL: the connection string's password must not be logged (EF, Npgsql, Hangfire, health).
            await using var cluster = new ScaleOut.ScaleOutCluster(pg);
            var password = new NpgsqlConnectionStringBuilder(pg).Password!;
            secrets["PostgreSQL password (as Password=...)"] = "Password=" + password;
            secrets["PostgreSQL connection string"] = cluster.ConnectionString;
            using var portal = new PortalProcess(cluster.Data.Path, new Dictionary<string, string?>(Debug)
            {
                ["Database:Provider"] = "Postgres", ["ConnectionStrings:Catalog"] = cluster.ConnectionString,
            }, name: "secrets-portal-pg");
            await portal.StartAsync();
            await SecretOperationsAsync(portal, PortalHost.AdminKey, PortalHost.AdminPassword, secrets);
            await portal.StopAsync(kill: false);
        }
        else Report("EP_TEST_POSTGRES is not set: the PostgreSQL connection string part is skipped.");

        // The suite's own credentials are secrets too (every in-process test host and process uses them).
        secrets["test bootstrap key"] = PortalHost.AdminKey;
        secrets["test admin password"] = PortalHost.AdminPassword;

        var files = Directory.GetFiles(TestLogs.RunDirectory, "*.log");
        long lines = 0;
        var leaks = new List<string>();
        var inBlock = 0;
        foreach (var file in files)
        {
            var blockLeft = 0;
            foreach (var line in File.ReadLines(file))
            {
                lines++;
                if (line.Contains("FIRST-RUN CREDENTIALS", StringComparison.Ordinal)) blockLeft = 6;
                var designed = blockLeft-- > 0;
                foreach (var (what, value) in secrets)
                {
                    if (!line.Contains(value, StringComparison.Ordinal)) continue;
                    if (designed && what.StartsWith("generated", StringComparison.Ordinal)) { inBlock++; continue; }
                    leaks.Add($"{Path.GetFileName(file)}: {what} in: {line[..Math.Min(300, line.Length)]}");
                }
            }
        }
        var summary = $"{secrets.Count} secrets searched in {files.Length} log files, {lines:N0} lines: {leaks.Count} leaks; generated credentials shown {inBlock} times in the FIRST-RUN block";
        Report(summary);
        File.WriteAllText(Path.Combine(TestLogs.RunDirectory, "secrets-figures.txt"), summary + "\n" + string.Join("\n", leaks));
        Assert.True(leaks.Count == 0, summary + "\n" + string.Join("\n", leaks.Take(20)));
        Assert.Equal(2, inBlock); // the block was there (the search sees what it should), once per generated secret
        Assert.True(lines > 1000, summary); // Debug logging really was on
    }

    /// <summary>Everything that handles a secret, through the real HTTP API and login form of <paramref name="portal"/>.</summary>
    private static async Task SecretOperationsAsync(PortalProcess portal, string adminKey, string adminPassword, Dictionary<string, string> secrets)
    {
        var tag = portal.Name.EndsWith("-pg", StringComparison.Ordinal) ? "pg " : "";
        using var admin = portal.Api(adminKey);
        // A user with a password; right and wrong sign-ins through the form; an admin sets a new password.
        var userName = "secret-user-" + Guid.NewGuid().ToString("N")[..8];
        var password = "Pw-" + Guid.NewGuid().ToString("N");
        var wrong = "Wrong-" + Guid.NewGuid().ToString("N");
        var newPassword = "NewPw-" + Guid.NewGuid().ToString("N");
        secrets[tag + "user password"] = password;
        secrets[tag + "wrong password"] = wrong;
        secrets[tag + "new password"] = newPassword;
        var created = await admin.PostAsJsonAsync("/api/v1/users", new { userName, displayName = "Secret user", password, role = "engineer" });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var userId = (await PortalHost.JsonAsync(created))["id"]!.GetValue<string>();
        // A too-short password is refused: the problem answer and its log line must not echo it.
        var shortPassword = "Sh" + Guid.NewGuid().ToString("N")[..4];
        secrets[tag + "refused short password"] = shortPassword;
        var refused = await admin.PostAsJsonAsync("/api/v1/users", new { userName = userName + "x", password = shortPassword, role = "viewer" });
        Assert.True((int)refused.StatusCode is >= 400 and < 500, $"{(int)refused.StatusCode}");
        Assert.DoesNotContain(shortPassword, await refused.Content.ReadAsStringAsync());

        using (var ok = await CookieSession.SignInAsync(portal.BaseUri, userName, password))
            Assert.Equal(HttpStatusCode.OK, (await ok.Client.GetAsync("/")).StatusCode);
        using (var client = CookieSession.NewClient(portal.BaseUri))
        {
            var bad = await CookieSession.PostLoginAsync(client, userName, wrong);
            Assert.Contains("Unknown user name or wrong password", await bad.Content.ReadAsStringAsync());
            bad = await CookieSession.PostLoginAsync(client, "nobody-" + wrong, wrong);
            Assert.Contains("Unknown user name or wrong password", await bad.Content.ReadAsStringAsync());
        }
        using (var adminSession = await CookieSession.SignInAsync(portal.BaseUri, "admin", adminPassword))
            Assert.Equal(HttpStatusCode.OK, (await adminSession.Client.GetAsync("/admin/api-keys")).StatusCode);
        var patched = await admin.PatchAsJsonAsync($"/api/v1/users/{userId}", new { password = newPassword });
        Assert.True(patched.IsSuccessStatusCode, await patched.Content.ReadAsStringAsync());
        using (var again = await CookieSession.SignInAsync(portal.BaseUri, userName, newPassword)) { }

        // API keys: created, used, revoked, used again; a made-up key.
        var keyResponse = await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "secret key", role = "engineer", sandbox = "prod" });
        Assert.True(keyResponse.IsSuccessStatusCode, await keyResponse.Content.ReadAsStringAsync());
        var keyJson = await PortalHost.JsonAsync(keyResponse);
        var key = keyJson["key"]!.GetValue<string>();
        secrets[tag + "created API key"] = key;
        using (var withKey = portal.Api(key)) Assert.Equal(HttpStatusCode.OK, (await withKey.GetAsync("/api/v1/datasets")).StatusCode);
        Assert.True((await admin.DeleteAsync($"/api/v1/api-keys/{keyJson["id"]!.GetValue<string>()}")).IsSuccessStatusCode);
        using (var revoked = portal.Api(key)) Assert.Equal(HttpStatusCode.Unauthorized, (await revoked.GetAsync("/api/v1/datasets")).StatusCode);
        var madeUp = "ep_" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");
        secrets[tag + "made-up API key"] = madeUp;
        using (var wrongKey = portal.Api(madeUp)) Assert.Equal(HttpStatusCode.Unauthorized, (await wrongKey.GetAsync("/api/v1/datasets")).StatusCode);

        // A webhook destination: its signing secret, and a run that fails to deliver (errors logged).
        var schema = await PostAsync(admin, "/api/v1/schemas", new
        {
            name = "Secret person", @class = "profile",
            fields = new object[] { new { path = "id", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } }, new { path = "tier", type = "string" } },
        });
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/schemas/{schema["id"]}/enable-profile", null)).StatusCode);
        var dataset = await PostAsync(admin, "/api/v1/datasets", new { name = "Secret people", schemaId = schema["id"]!.GetValue<string>() });
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/datasets/{dataset["id"]}/enable-profile", null)).StatusCode);
        var streamed = await admin.PostAsJsonAsync($"/api/v1/collection/{dataset["id"]}", new[] { new { id = "p1", tier = "gold" }, new { id = "p2", tier = "gold" } });
        Assert.Equal(HttpStatusCode.Accepted, streamed.StatusCode);
        var segment = await PostAsync(admin, "/api/v1/segments", new { name = "Secret gold", rule = new { attribute = "tier", op = "eq", value = "gold" } });
        var hook = await PostAsync(admin, "/api/v1/destinations", new
        {
            name = "Secret hook", type = "webhook", target = "http://127.0.0.1:9/hook", segmentIds = new[] { segment["id"]!.GetValue<string>() },
            identities = new[] { "CRMID" }, attributes = new[] { "tier" },
        });
        secrets[tag + "webhook secret"] = hook["secret"]!.GetValue<string>();
        var run = await admin.PostAsync($"/api/v1/destinations/{hook["id"]}/run", null);
        Assert.True((int)run.StatusCode < 500, await run.Content.ReadAsStringAsync());
        // Give the run time to try (and fail) its deliveries; its log lines are what is searched.
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < until)
        {
            var d = await PortalHost.JsonAsync(await admin.GetAsync($"/api/v1/destinations/{hook["id"]}"));
            if (d.ToJsonString().Contains("\"failed\"", StringComparison.Ordinal) || d.ToJsonString().Contains("\"succeeded\"", StringComparison.Ordinal)) break;
            await Task.Delay(500);
        }
        Report($"{portal.Name}: {secrets.Count} secrets so far; log {portal.LogFile}");
    }

    private static async Task<JsonNode> PostAsync(HttpClient api, string url, object body)
    {
        var response = await api.PostAsJsonAsync(url, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }
}
