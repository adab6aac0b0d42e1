using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Enrichment.Portal.Tests;

/// <summary>
/// The real portal on a loopback port with a fresh data directory (a real SQLite file, real lake folder) and known
/// bootstrap credentials. Hangfire keeps process-wide state, so a test process runs one host at a time: share it.
/// </summary>
public sealed class PortalHost : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminKey = "ep_test_bootstrap_admin_key_0123456789abcdef";
    public const string AdminPassword = "admin-password-for-tests";

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "ep-host-" + Guid.NewGuid().ToString("N"));
    /// <summary>The file destinations' export root outside the data directory (Destinations:ExportRoot).</summary>
    public string ExportRoot => DataDirectory + "-exports";
    public int Port { get; } = FreePort();
    public Uri BaseUri => new($"http://127.0.0.1:{Port}");
    private readonly Dictionary<string, string?> _settings = new();

    public PortalHost With(string key, string? value) { _settings[key] = value; return this; }

    /// <summary>The file this host logs to (every category at Information, EF Core's SQL commands at Warning), under <see cref="TestLogs"/>.</summary>
    public string LogFile { get; } = TestLogs.NewFile("portalhost");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.ConfigureLogging(l => l
            .AddProvider(new FileLoggerProvider(LogFile))
            .AddFilter<FileLoggerProvider>(null, Microsoft.Extensions.Logging.LogLevel.Information)
            .AddFilter<FileLoggerProvider>("Microsoft.EntityFrameworkCore.Database.Command", Microsoft.Extensions.Logging.LogLevel.Warning));
        builder.ConfigureAppConfiguration(c => c.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Enrichment:DataDirectory"] = DataDirectory,
            ["Auth:BootstrapApiKey"] = AdminKey,
            ["Auth:AdminPassword"] = AdminPassword,
            ["Auth:LoginAttemptsPerMinute"] = "1000",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            ["Jobs:Diagnostics"] = "true",
            ["Destinations:ExportRoot"] = ExportRoot,
        }.Where(kv => !_settings.ContainsKey(kv.Key)).Concat(_settings)));
    }

    public ValueTask InitializeAsync()
    {
        UseKestrel(Port);
        StartServer();
        return ValueTask.CompletedTask;
    }

    public new async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var dir in new[] { DataDirectory, ExportRoot })
            try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>An HTTP client on the real socket, with an API key (or none).</summary>
    public HttpClient Api(string? apiKey = AdminKey)
    {
        var client = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromMinutes(5) };
        if (apiKey is not null) client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    /// <summary>Creates a sandbox (if missing) and a key with a role in it; returns the key's secret.</summary>
    public async Task<string> KeyAsync(string role, string sandbox = "prod")
    {
        using var admin = Api();
        return await KeyAsync(admin, role, sandbox);
    }

    /// <summary>A new key of <paramref name="role"/> in <paramref name="sandbox"/> (created if missing), made with a prod admin's client of any portal.</summary>
    public static async Task<string> KeyAsync(HttpClient admin, string role, string sandbox)
    {
        if (sandbox != "prod")
        {
            var created = await admin.PostAsJsonAsync("/api/v1/sandboxes", new { name = sandbox });
            if (created.StatusCode != HttpStatusCode.Conflict) created.EnsureSuccessStatusCode();
        }
        var response = await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = $"{role} key {Guid.NewGuid():N}", role, sandbox });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>();
    }

    public static async Task<JsonNode> JsonAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync()) ?? throw new InvalidOperationException("empty body");

    /// <summary>Polls a JSON resource until <paramref name="done"/> holds or the time runs out.</summary>
    public static async Task<JsonNode> PollAsync(HttpClient client, string url, Func<JsonNode, bool> done, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(3));
        JsonNode? last = null;
        while (DateTime.UtcNow < until)
        {
            last = await JsonAsync(await client.GetAsync(url));
            if (done(last)) return last;
            await Task.Delay(200);
        }
        throw new TimeoutException($"{url} did not reach the expected state; last: {last?.ToJsonString()}");
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
