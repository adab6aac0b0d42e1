using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Tests;
using Npgsql;

namespace Enrichment.Portal.Web.Tests.ScaleOut;

/// <summary>
/// A fresh PostgreSQL database and data directory with portal processes on it: one portal (UI/API) and any number of
/// <c>--worker</c> processes, each a separate <c>dotnet</c> process on its own loopback port. Hangfire's invisibility
/// timeout and heartbeat are short, so that a job of a killed worker is taken up by another within seconds.
/// </summary>
public sealed partial class ScaleOutCluster : IAsyncDisposable
{
    public const double InvisibilitySeconds = 6;
    private readonly string admin;
    private readonly List<PortalProcess> processes = [];
    public string Database { get; } = "ep_scaleout_" + Guid.NewGuid().ToString("N")[..12];
    public Core.Tests.TestData.TempDir Data { get; } = Core.Tests.TestData.NewTempDir();
    public string ConnectionString { get; }
    public PortalProcess Portal { get; private set; } = null!;
    public List<PortalProcess> Workers { get; } = [];

    public ScaleOutCluster(string adminConnectionString)
    {
        admin = adminConnectionString;
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = Database }.ConnectionString;
    }

    private Dictionary<string, string?> Settings(bool server) => new()
    {
        ["Database:Provider"] = "Postgres",
        ["ConnectionStrings:Catalog"] = ConnectionString,
        ["Jobs:Server"] = server ? "true" : "false",
        ["Jobs:WorkerCount"] = "3",
        ["Jobs:InvisibilityTimeoutSeconds"] = InvisibilitySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Jobs:HeartbeatSeconds"] = "2",
        ["Jobs:QueuePollSeconds"] = "1",
        ["Jobs:Diagnostics"] = "true",
        ["Scoring:ScheduleCheckSeconds"] = "1",
        ["Auth:LoginAttemptsPerMinute"] = "1000",
    };

    /// <summary>Starts the portal (running jobs itself only when <paramref name="portalRunsJobs"/>) and then the workers, in parallel.</summary>
    public async Task StartAsync(int workers, bool portalRunsJobs)
    {
        Portal = Add(new PortalProcess(Data.Path, Settings(portalRunsJobs), name: "portal"));
        await Portal.StartAsync();
        for (var i = 0; i < workers; i++) Workers.Add(Add(new PortalProcess(Data.Path, Settings(true), ["--worker"], $"worker-{i + 1}")));
        await Task.WhenAll(Workers.Select(w => w.StartAsync()));
    }

    private PortalProcess Add(PortalProcess p)
    {
        processes.Add(p);
        return p;
    }

    /// <summary>A new worker process in place of a killed one (same settings).</summary>
    public async Task<PortalProcess> ReplaceAsync(PortalProcess dead)
    {
        var fresh = Add(new PortalProcess(Data.Path, Settings(true), ["--worker"], dead.Name + "'"));
        Workers[Workers.IndexOf(dead)] = fresh;
        await fresh.StartAsync();
        return fresh;
    }

    /// <summary>Kills (-9) the portal (UI/API) process and starts a new one with the same settings (the workers go on).</summary>
    public async Task<PortalProcess> RestartPortalAsync(bool portalRunsJobs)
    {
        await Portal.KillAsync();
        Portal = Add(new PortalProcess(Data.Path, Settings(portalRunsJobs), name: Portal.Name + "'"));
        await Portal.StartAsync();
        return Portal;
    }

    public async Task<NpgsqlConnection> OpenAsync()
    {
        var c = new NpgsqlConnection(ConnectionString);
        await c.OpenAsync();
        return c;
    }

    public async Task<T?> ScalarAsync<T>(string sql, params object[] args)
    {
        await using var c = await OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        var v = await cmd.ExecuteScalarAsync();
        return v is null or DBNull ? default : (T)Convert.ChangeType(v, Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The worker process executing the job run of <paramref name="targetId"/> now (from Hangfire's processing state), or null.</summary>
    public async Task<PortalProcess?> RunnerOfAsync(string targetId)
    {
        var data = await ScalarAsync<string>(
            """
            SELECT s.data::text FROM job_runs r JOIN hangfire.state s ON s.jobid = r."HangfireJobId"::bigint
            WHERE r."TargetId" = $1 AND r."Status" = 'running' AND s.name = 'Processing' ORDER BY s.id DESC LIMIT 1
            """, targetId);
        if (data is null || ServerPid().Match(data) is not { Success: true } m) return null;
        var pid = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        return Workers.Concat([Portal]).FirstOrDefault(w => w.ProcessId == pid && !w.HasExited);
    }

    /// <summary>Waits until <paramref name="midway"/> holds for the job of <paramref name="targetId"/>, then kills (-9) the process running it.</summary>
    public async Task<PortalProcess> KillRunnerAsync(string targetId, Func<Task<bool>> midway, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        while (DateTime.UtcNow < until)
        {
            if (await RunnerOfAsync(targetId) is { } runner && await midway())
            {
                await runner.KillAsync();
                return runner;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"The job of {targetId} was never seen running midway. {await JobRowAsync(targetId)}");
    }

    public async Task<string> JobRowAsync(string targetId) =>
        await ScalarAsync<string>("""SELECT row_to_json(r)::text FROM job_runs r WHERE r."TargetId" = $1 ORDER BY r."CreatedAt" DESC LIMIT 1""", targetId) ?? "(no job run)";

    public Task<int> AttemptsAsync(string targetId) =>
        ScalarAsync<int>("""SELECT "Attempts" FROM job_runs WHERE "TargetId" = $1 ORDER BY "CreatedAt" DESC LIMIT 1""", targetId);

    [GeneratedRegex(@":(?:worker|portal):(\d+):", RegexOptions.IgnoreCase)]
    private static partial Regex ServerPid();

    /// <summary>Rows in the committed lake files of each dataset (by name).</summary>
    public async Task<SortedDictionary<string, long>> LakeRowsAsync()
    {
        var result = new SortedDictionary<string, long>(StringComparer.Ordinal);
        await using var c = await OpenAsync();
        await using var cmd = new NpgsqlCommand("""SELECT "Id", "SandboxId", "Name" FROM datasets WHERE "DeletedAt" IS NULL""", c);
        await using var r = await cmd.ExecuteReaderAsync();
        var lake = Path.Combine(Data.Path, "lake");
        while (await r.ReadAsync())
        {
            var files = LakeCatalog.DataFiles(Path.Combine(lake, r.GetString(1), r.GetString(0)));
            result[r.GetString(2)] = files.Count == 0 ? 0 : CountRows(files);
        }
        return result;
    }

    private static long CountRows(IReadOnlyList<string> files)
    {
        using var c = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT count(*) FROM read_parquet([{string.Join(",", files.Select(f => "'" + f.Replace("'", "''") + "'"))}])";
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in processes) p.Dispose();
        try
        {
            await using var c = new NpgsqlConnection(admin);
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Database}\" WITH (FORCE)", c);
            await cmd.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException) { }
        Data.Dispose();
    }

    /// <summary>Dumps the processes' output (for a failing test).</summary>
    public string Logs() => string.Join("\n", processes.Select(p => $"----- {p.Name} (pid {p.ProcessId})\n{Tail(p.Output)}"));

    private static string Tail(string s) => s.Length > 6000 ? s[^6000..] : s;
}

/// <summary>What the stores hold, independent of ids and timing: the profiles keyed by their identities.</summary>
public sealed record StoreSnapshot(long Profiles, long Identities, SortedDictionary<string, string> ProfilesByIdentities, SortedDictionary<string, long> SuccessRows, SortedDictionary<string, long> LakeRows, SortedDictionary<string, int> Versions)
{
    public static async Task<StoreSnapshot> TakeAsync(ScaleOutCluster cluster)
    {
        await using var c = await cluster.OpenAsync();
        var profiles = await Long(c, "SELECT count(*) FROM profiles");
        var identities = await Long(c, "SELECT count(*) FROM profile_identities");
        var byIds = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await using (var cmd = new NpgsqlCommand(
            """
            SELECT string_agg(i.namespace || ':' || i.value, ',' ORDER BY i.namespace, i.value), p.attributes
            FROM profiles p JOIN profile_identities i ON i.profile_id = p.id GROUP BY p.id, p.attributes
            """, c))
        await using (var r = await cmd.ExecuteReaderAsync())
            while (await r.ReadAsync()) byIds[r.GetString(0)] = Normalize(r.GetString(1));
        var success = await Map(c, """SELECT d."Name", sum(b."RecordsWritten")::bigint FROM batches b JOIN datasets d ON d."Id" = b."DatasetId" WHERE b."Status" = 'success' GROUP BY d."Name" """);
        var versions = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var (k, v) in await Map(c, """SELECT m."Name", count(v."Id")::bigint FROM models m LEFT JOIN model_versions v ON v."ModelId" = m."Id" GROUP BY m."Name" """))
            versions[k] = (int)v;
        return new StoreSnapshot(profiles, identities, byIds, success, await cluster.LakeRowsAsync(), versions);
    }

    /// <summary>The merged attributes without what differs between two runs of the same work: version ids and score times.</summary>
    private static string Normalize(string json)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        // Insights are kept per model as "insights.<model>": { score, modelVersion, scoredAt }.
        foreach (var (key, value) in node)
            if (key.StartsWith("insights", StringComparison.Ordinal) && value is JsonObject m) { m.Remove("modelVersion"); m.Remove("scoredAt"); }
        return Sorted(node)!.ToJsonString();
    }

    private static JsonNode? Sorted(JsonNode? n) => n switch
    {
        JsonObject o => new JsonObject(o.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, Sorted(kv.Value)))),
        JsonArray a => new JsonArray(a.Select(Sorted).ToArray()),
        JsonValue v => JsonNode.Parse(v.ToJsonString()),
        _ => null,
    };

    private static async Task<long> Long(NpgsqlConnection c, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, c);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    private static async Task<SortedDictionary<string, long>> Map(NpgsqlConnection c, string sql)
    {
        var d = new SortedDictionary<string, long>(StringComparer.Ordinal);
        await using var cmd = new NpgsqlCommand(sql, c);
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) d[r.GetString(0)] = r.GetInt64(1);
        return d;
    }
}
