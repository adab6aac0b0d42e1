using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;
using Enrichment.Portal.Web.Tests.Api;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Enrichment.Portal.Web.Tests.Reliability;

/// <summary>
/// Crash safety (issue #20): the real portal as a separate process, killed (-9) in the middle of an ingestion batch, a training
/// run, a scoring run, a privacy delete and a profile snapshot, and restarted on the same data directory (and database) each
/// time. Every job must end finished (re-queued at the start, or taken up again by Hangfire on PostgreSQL) and the stores must
/// hold exactly what a clean run of the same input makes, in figures known from the source: lake rows = source rows (committed
/// files only, nothing doubled), no temporary file left in the lake, profiles / identities / insights = the source's people.
/// Runs on SQLite (the default) and on PostgreSQL (when <c>EP_TEST_POSTGRES</c> is set; a fresh database per run).
/// </summary>
public sealed class CrashSafetyTests
{
    /// <summary>Source rows (Bank Marketing, first rows): one person each, with a CRM id and an e-mail.</summary>
    private const int Rows = 12_000;
    /// <summary>Lake batches of the (not profile-enabled) history dataset the privacy delete rewrites file by file.</summary>
    private const int HistoryBatches = 40;
    private const string Model = "Crash churn";

    private static void Report(string line) => TestContext.Current.TestOutputHelper?.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Killed_in_the_middle_of_each_job_and_restarted_every_job_finishes_and_the_stores_hold_a_clean_runs_result(string provider)
    {
        await using var rig = CrashRig.Create(provider);
        try
        {
            await RunAsync(rig);
        }
        catch (Exception e) when (e is not Xunit.Sdk.SkipException)
        {
            throw new Xunit.Sdk.XunitException($"{e}\n{rig.Logs()}");
        }
    }

    /// <summary>
    /// A batch whose process is killed in both of its attempts is given up at the next start: the job run ends failed with the
    /// reason, and so does the batch (it was left <c>processing</c>, which a retry refused with 409), its lake folder out of
    /// what readers see; a retry then stores every row exactly once. SQLite: the single process re-queues at its start.
    /// </summary>
    [Fact]
    public async Task A_batch_killed_in_both_attempts_ends_failed_with_its_reason_and_a_retry_stores_it_exactly_once()
    {
        await using var rig = CrashRig.Create("sqlite");
        try
        {
            var source = Source(rig.Files.Path, Rows);
            await rig.StartAsync();
            var api = rig.Api();
            var sandbox = await LakeTestData.SandboxIdAsync(api);
            var schema = (await ScoringFixture.Post(api, "/api/v1/schemas", new { name = "Twice customer", @class = "profile", fields = Fields }))["id"]!.GetValue<string>();
            Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schema}/enable-profile", null)).StatusCode);
            var dataset = (await ScoringFixture.Post(api, "/api/v1/datasets", new { name = "Twice customers", schemaId = schema }))["id"]!.GetValue<string>();
            Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{dataset}/enable-profile", null)).StatusCode);
            var batch = (await PortalHost.JsonAsync(await BatchIngestionApiTests.UploadAsync(api, dataset, source)))["id"]!.GetValue<string>();
            var job = await JobOfAsync(api, "ingestion", batch);
            for (var attempt = 1; attempt <= 2; attempt++)
            {
                var n = attempt;
                await rig.KillWhenAsync(async () => await JobAsync(api, job) is { } j && j.Status == "running" && j.Attempts == n && j.Progress is > 0.1 and < 0.9, $"ingestion (attempt {n})");
                api = await rig.RestartAsync();
            }
            var gaveUp = await PortalHost.PollAsync(api, $"/api/v1/jobs/{job}", r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(2));
            Assert.Equal("failed", gaveUp["status"]!.GetValue<string>());
            Assert.Contains("stopped 2 times", gaveUp["error"]!.GetValue<string>(), StringComparison.Ordinal);
            var failed = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/batches/{batch}"));
            Assert.True(failed["status"]!.GetValue<string>() == "failed", failed.ToJsonString());
            Assert.Contains("stopped 2 times", failed["failureReason"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(0, rig.LakeRows(sandbox, dataset));

            var retry = await api.PostAsync($"/api/v1/batches/{batch}/retry", null);
            Assert.True(retry.StatusCode == HttpStatusCode.Accepted, await retry.Content.ReadAsStringAsync());
            var done = await PortalHost.PollAsync(api, $"/api/v1/batches/{batch}", b => b["status"]!.GetValue<string>() is "success" or "failed" or "abandoned", TimeSpan.FromMinutes(3));
            Assert.True(done["status"]!.GetValue<string>() == "success", done.ToJsonString());
            Assert.Equal(Rows, done["recordsWritten"]!.GetValue<long>());
            Assert.Equal(Rows, rig.LakeRows(sandbox, dataset));
            Assert.Equal(Rows, await rig.LongAsync("SELECT count(*) FROM profiles"));
            Assert.Equal(2 * Rows, await rig.LongAsync("SELECT count(*) FROM profile_identities"));
            rig.NoTemporaryFiles();
            Report("killed in both attempts: job and batch failed with the reason; the retry stored every row once");
            await rig.Current.StopAsync(kill: false);
        }
        catch (Exception e) when (e is not Xunit.Sdk.SkipException)
        {
            throw new Xunit.Sdk.XunitException($"{e}\n{rig.Logs()}");
        }
    }

    private static async Task RunAsync(CrashRig rig)
    {
        var source = Source(rig.Files.Path, Rows);
        await rig.StartAsync();
        var api = rig.Api();
        var sandbox = await LakeTestData.SandboxIdAsync(api);
        var schema = (await ScoringFixture.Post(api, "/api/v1/schemas", new { name = "Crash customer", @class = "profile", fields = Fields }))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schema}/enable-profile", null)).StatusCode);
        var customers = (await ScoringFixture.Post(api, "/api/v1/datasets", new { name = "Crash customers", schemaId = schema }))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{customers}/enable-profile", null)).StatusCode);

        // 1. Ingestion: killed while the batch is between 10% and 90% (its lake folder written, some profile chunks committed).
        var upload = await BatchIngestionApiTests.UploadAsync(api, customers, source);
        var batch = (await PortalHost.JsonAsync(upload))["id"]!.GetValue<string>();
        var job = await JobOfAsync(api, "ingestion", batch);
        await rig.KillWhenAsync(async () => await JobAsync(api, job) is { } j && j.Status == "running" && j.Progress is > 0.1 and < 0.9, "ingestion");
        api = await rig.RestartAsync();
        var done = await PortalHost.PollAsync(api, $"/api/v1/batches/{batch}", b => b["status"]!.GetValue<string>() is "success" or "failed" or "abandoned", TimeSpan.FromMinutes(3));
        Assert.True(done["status"]!.GetValue<string>() == "success", done.ToJsonString());
        Assert.Equal(Rows, done["recordsWritten"]!.GetValue<long>());
        await FinishedAsync(api, job, "ingestion");
        Assert.Equal(Rows, rig.LakeRows(sandbox, customers));
        Assert.Equal(Rows, await rig.LongAsync("SELECT count(*) FROM profiles"));
        Assert.Equal(2 * Rows, await rig.LongAsync("SELECT count(*) FROM profile_identities"));
        rig.NoTemporaryFiles();

        // 2. Training: killed while the run is between 5% and 95%.
        var modelId = (await ScoringFixture.Post(api, "/api/v1/models", new
        {
            name = Model, recipe = "propensity", source = new { datasetId = customers },
            label = new { field = "y", positive = "yes" }, features = new[] { "age", "balance", "duration" },
        }))["id"]!.GetValue<string>();
        var train = await api.PostAsync($"/api/v1/models/{modelId}/train", null);
        Assert.Equal(HttpStatusCode.Accepted, train.StatusCode);
        var trainBody = await PortalHost.JsonAsync(train);
        var trainRun = trainBody["runId"]!.GetValue<string>();
        job = trainBody["jobId"]!.GetValue<string>();
        await rig.KillWhenAsync(async () => await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/training-runs/{trainRun}")) is var r
            && r["status"]!.GetValue<string>() == "running" && r["progress"]!.GetValue<double>() is > 0.05 and < 0.95, "training");
        api = await rig.RestartAsync();
        var trained = await PortalHost.PollAsync(api, $"/api/v1/training-runs/{trainRun}", r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(3));
        Assert.True(trained["status"]!.GetValue<string>() == "succeeded", trained.ToJsonString());
        await FinishedAsync(api, job, "training");
        Assert.Equal(1, await rig.LongAsync("""SELECT count(*) FROM model_versions WHERE "ModelId" = @p0""", modelId));
        rig.NoTemporaryFiles();

        // 3. Scoring: killed while the run is between 10% and 90% (its scores batch being ingested into the profiles).
        var score = await api.PostAsJsonAsync($"/api/v1/models/{modelId}/score", new { target = new { datasetId = customers } });
        Assert.True(score.StatusCode == HttpStatusCode.Accepted, await score.Content.ReadAsStringAsync());
        var scoreRun = (await PortalHost.JsonAsync(score))["runId"]!.GetValue<string>();
        job = await JobOfAsync(api, "scoring", scoreRun);
        await rig.KillWhenAsync(async () => await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/scoring-runs/{scoreRun}")) is var r
            && r["status"]!.GetValue<string>() == "running" && r["progress"]!.GetValue<double>() is > 0.1 and < 0.9, "scoring");
        api = await rig.RestartAsync();
        var scored = await PortalHost.PollAsync(api, $"/api/v1/scoring-runs/{scoreRun}", r => r["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(3));
        Assert.True(scored["status"]!.GetValue<string>() == "succeeded", scored.ToJsonString());
        Assert.Equal(Rows, scored["rowsScored"]!.GetValue<long>());
        await FinishedAsync(api, job, "scoring");
        var scores = await rig.DatasetIdAsync("Scores:%");
        Assert.Equal(Rows, rig.LakeRows(sandbox, scores));
        Assert.Equal(Rows, await rig.InsightsAsync());
        Assert.Equal(Rows, await rig.LongAsync("SELECT count(*) FROM profiles"));
        rig.NoTemporaryFiles();

        // 4. Privacy delete of one person: killed after some of the lake files holding the person were rewritten, not all.
        var history = await HistoryAsync(rig, api, sandbox, source);
        var before = DateTime.UtcNow;
        var delete = await api.DeleteAsync("/api/v1/profiles?namespace=CRMID&id=B5");
        Assert.True(delete.StatusCode == HttpStatusCode.Accepted, await delete.Content.ReadAsStringAsync());
        job = (await PortalHost.JsonAsync(delete))["jobId"]!.GetValue<string>();
        await rig.KillWhenAsync(() =>
        {
            var rewritten = history.Count(f => File.GetLastWriteTimeUtc(f) > before);
            return Task.FromResult(rewritten is > 0 && rewritten < HistoryBatches);
        }, "privacy delete", pollMilliseconds: 5);
        api = await rig.RestartAsync();
        await FinishedAsync(api, job, "privacy delete");
        const int people = Rows - 1;
        Assert.Equal(people, await rig.LongAsync("SELECT count(*) FROM profiles"));
        Assert.Equal(2 * people, await rig.LongAsync("SELECT count(*) FROM profile_identities"));
        Assert.Equal(0, await rig.LongAsync("SELECT count(*) FROM profile_identities WHERE value IN ('B5', 'b5@x.test')"));
        Assert.Equal(people, await rig.InsightsAsync());
        Assert.Equal(people, rig.LakeRows(sandbox, customers));
        Assert.Equal(people, rig.LakeRows(sandbox, scores));
        Assert.All(history, f => Assert.Equal(people, CountRows([f])));
        Assert.Equal(0, CountRows(history, "WHERE CAST(id AS VARCHAR) = 'B5' OR email = 'b5@x.test'"));
        rig.NoTemporaryFiles();

        // 5. Profile snapshot: killed while the snapshot is being written into its staging folder.
        var snap = await api.PostAsync("/api/v1/profiles/snapshot", null);
        Assert.Equal(HttpStatusCode.Accepted, snap.StatusCode);
        job = (await PortalHost.JsonAsync(snap))["jobId"]!.GetValue<string>();
        var staging = Path.Combine(rig.Data.Path, "lake", sandbox, LakeFolders.TempFolderName);
        await rig.KillWhenAsync(() => Task.FromResult(Directory.Exists(staging) && Directory.EnumerateDirectories(staging, "snapshot-*").Any()), "snapshot", pollMilliseconds: 2);
        api = await rig.RestartAsync();
        await FinishedAsync(api, job, "snapshot");
        var snapshotDataset = await rig.DatasetIdAsync(LakeCatalog.SnapshotPrefix + "%");
        var kept = LakeCatalog.CommittedBatchFolders(Path.Combine(rig.Data.Path, "lake", sandbox, snapshotDataset));
        Assert.NotEmpty(kept);
        Assert.Equal(people, CountRows(Directory.GetFiles(kept[^1], "part-*.parquet")));
        rig.NoTemporaryFiles();

        Report($"{rig.Kills} kills, {rig.Starts} starts: every job finished; {people} profiles, {2 * people} identities, {people} insights");
        await rig.Current.StopAsync(kill: false);
    }

    private static readonly object[] Fields =
    [
        new { path = "id", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
        new { path = "email", type = "string", identity = new { @namespace = "Email" } },
        new { path = "age", type = "integer" }, new { path = "job", type = "string" }, new { path = "balance", type = "integer" },
        new { path = "housing", type = "string" }, new { path = "duration", type = "integer" }, new { path = "y", type = "string" },
    ];

    /// <summary>The first <paramref name="n"/> Bank Marketing rows with a CRM id and an e-mail per row, as CSV.</summary>
    internal static string Source(string dir, int n)
    {
        var sb = new StringBuilder("id,email,age,job,balance,housing,duration,y\n");
        var i = 0;
        foreach (var line in File.ReadLines(TestData.Decompressed("bank_marketing/bank-full.csv.gz")).Skip(1).Take(n))
        {
            var f = line.Split(';').Select(x => x.Trim('"')).ToArray();
            sb.Append(CultureInfo.InvariantCulture, $"B{i},b{i}@x.test,{f[0]},{f[1]},{f[5]},{f[6]},{f[11]},{f[16]}\n");
            i++;
        }
        Assert.Equal(n, i);
        var path = Path.Combine(dir, "customers.csv");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    /// <summary>A dataset (not profile-enabled) of the same schema with <see cref="HistoryBatches"/> committed copies of the source in the lake.</summary>
    private static async Task<List<string>> HistoryAsync(CrashRig rig, HttpClient api, string sandbox, string source)
    {
        var schema = (await ScoringFixture.Post(api, "/api/v1/schemas", new { name = "Crash history", @class = "profile", fields = Fields }))["id"]!.GetValue<string>();
        var dataset = (await ScoringFixture.Post(api, "/api/v1/datasets", new { name = "Crash history", schemaId = schema }))["id"]!.GetValue<string>();
        var first = Path.Combine(rig.Files.Path, "history.parquet");
        Exec($"COPY (SELECT * FROM read_csv('{source}', header = true, all_varchar = true)) TO '{first}' (FORMAT parquet)");
        var files = new List<string>();
        for (var b = 0; b < HistoryBatches; b++)
        {
            var folder = Path.Combine(rig.Data.Path, "lake", sandbox, dataset, "b" + b.ToString("D3", CultureInfo.InvariantCulture));
            Directory.CreateDirectory(folder);
            var file = Path.Combine(folder, "part-00000.parquet");
            File.Copy(first, file);
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddHours(-1));
            await File.WriteAllTextAsync(Path.Combine(folder, LakeFolders.SuccessMarker), "");
            files.Add(file);
        }
        Assert.Equal(HistoryBatches * (long)Rows, rig.LakeRows(sandbox, dataset));
        return files;
    }

    private sealed record JobState(string Status, double Progress, int Attempts, string? Error);

    private static async Task<JobState?> JobAsync(HttpClient api, string jobId)
    {
        var response = await api.GetAsync($"/api/v1/jobs/{jobId}");
        if (!response.IsSuccessStatusCode) return null;
        var j = await PortalHost.JsonAsync(response);
        return new JobState(j["status"]!.GetValue<string>(), j["progress"]!.GetValue<double>(), j["attempts"]!.GetValue<int>(), j["error"]?.GetValue<string>());
    }

    private static async Task<string> JobOfAsync(HttpClient api, string kind, string target)
    {
        var list = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/jobs?kind={kind}&limit=50"));
        return list["items"]!.AsArray().First(j => j!["targetId"]?.GetValue<string>() == target)!["id"]!.GetValue<string>();
    }

    /// <summary>The job run ends succeeded after the restart (its second attempt: re-queued or taken up again, not run twice at once).</summary>
    private static async Task FinishedAsync(HttpClient api, string jobId, string what)
    {
        var j = await PortalHost.PollAsync(api, $"/api/v1/jobs/{jobId}", r => r["status"]!.GetValue<string>() is "succeeded" or "failed" or "cancelled", TimeSpan.FromMinutes(3));
        Report($"{what}: job {j["status"]} after {j["attempts"]} attempts: {j["progressText"]}");
        Assert.True(j["status"]!.GetValue<string>() == "succeeded", $"{what}: {j.ToJsonString()}");
        Assert.Equal(2, j["attempts"]!.GetValue<int>());
    }

    internal static long CountRows(IReadOnlyCollection<string> files, string where = "")
    {
        using var c = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT count(*) FROM read_parquet([{string.Join(",", files.Select(f => "'" + f.Replace("'", "''") + "'"))}]) {where}";
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static void Exec(string sql)
    {
        using var c = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>One data directory (and, on PostgreSQL, one fresh database) and the portal processes started on it one after another.</summary>
    private sealed class CrashRig : IAsyncDisposable
    {
        private readonly string? admin;
        private readonly string? database;
        private readonly Dictionary<string, string?> settings;
        private readonly List<PortalProcess> processes = [];
        private readonly List<HttpClient> clients = [];
        public TestData.TempDir Data { get; } = TestData.NewTempDir();
        public TestData.TempDir Files { get; } = TestData.NewTempDir();
        public PortalProcess Current { get; private set; } = null!;
        public int Kills { get; private set; }
        public int Starts => processes.Count;
        private bool Postgres => admin is not null;
        private string ConnectionString { get; }

        private CrashRig(string? admin)
        {
            this.admin = admin;
            settings = new(StringComparer.OrdinalIgnoreCase)
            {
                // Small profile-store transactions, so that a kill lands between two committed chunks of a batch.
                ["ProfileStore:ChunkSize"] = "2000",
                ["Auth:LoginAttemptsPerMinute"] = "1000",
            };
            if (admin is null)
            {
                ConnectionString = $"Data Source={Path.Combine(Data.Path, "catalog.db")};Mode=ReadOnly;Default Timeout=60";
                return;
            }
            database = "ep_crash_" + Guid.NewGuid().ToString("N")[..12];
            ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = database }.ConnectionString;
            settings["Database:Provider"] = "Postgres";
            settings["ConnectionStrings:Catalog"] = ConnectionString;
            // A job of a killed process becomes visible in the shared queue again after this (DEPLOYMENT.md).
            settings["Jobs:InvisibilityTimeoutSeconds"] = "6";
            settings["Jobs:HeartbeatSeconds"] = "2";
            settings["Jobs:QueuePollSeconds"] = "1";
        }

        public static CrashRig Create(string provider)
        {
            if (provider == "sqlite") return new CrashRig(null);
            var admin = Environment.GetEnvironmentVariable("EP_TEST_POSTGRES");
            if (string.IsNullOrEmpty(admin)) Assert.Skip("EP_TEST_POSTGRES is not set: no PostgreSQL server for this run (CI starts one).");
            return new CrashRig(admin);
        }

        public async Task StartAsync()
        {
            Current = new PortalProcess(Data.Path, settings, name: $"portal-{processes.Count + 1}");
            processes.Add(Current);
            await Current.StartAsync();
        }

        public HttpClient Api()
        {
            var c = Current.Api();
            clients.Add(c);
            return c;
        }

        /// <summary>Polls <paramref name="midway"/> and kills (-9) the portal the moment it holds.</summary>
        public async Task KillWhenAsync(Func<Task<bool>> midway, string what, int pollMilliseconds = 50)
        {
            var until = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (DateTime.UtcNow < until)
            {
                if (Current.HasExited) throw new InvalidOperationException($"{Current.Name} exited before the {what} was seen midway.");
                bool now;
                try { now = await midway(); }
                catch (HttpRequestException) { now = false; }
                if (now)
                {
                    await Current.KillAsync();
                    Kills++;
                    Report($"killed {Current.Name} (pid {Current.ProcessId}) in the middle of the {what}");
                    return;
                }
                await Task.Delay(pollMilliseconds);
            }
            throw new TimeoutException($"The {what} was never seen midway.");
        }

        /// <summary>A new portal process on the same data directory (and database); its API client.</summary>
        public async Task<HttpClient> RestartAsync()
        {
            await StartAsync();
            Report($"restarted as {Current.Name}");
            return Api();
        }

        private async Task<DbConnection> OpenAsync()
        {
            DbConnection c = Postgres ? new NpgsqlConnection(ConnectionString) : new SqliteConnection(ConnectionString);
            await c.OpenAsync();
            return c;
        }

        public async Task<long> LongAsync(string sql, params object[] args)
        {
            await using var c = await OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            for (var i = 0; i < args.Length; i++)
            {
                var p = cmd.CreateParameter();
                p.ParameterName = "p" + i;
                p.Value = args[i];
                cmd.Parameters.Add(p);
            }
            return Convert.ToInt64(await cmd.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        }

        /// <summary>Profiles whose merged attributes hold the model's insights.</summary>
        public Task<long> InsightsAsync() =>
            LongAsync("SELECT count(*) FROM profiles WHERE CAST(attributes AS TEXT) LIKE @p0", $"%\"insights.{Model}\"%");

        /// <summary>The one live dataset whose name is LIKE <paramref name="name"/>.</summary>
        public async Task<string> DatasetIdAsync(string name)
        {
            await using var c = await OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = """SELECT "Id" FROM datasets WHERE "Name" LIKE @p0 AND "DeletedAt" IS NULL""";
            var p = cmd.CreateParameter();
            p.ParameterName = "p0";
            p.Value = name;
            cmd.Parameters.Add(p);
            return await cmd.ExecuteScalarAsync() as string ?? throw new InvalidOperationException($"No dataset '{name}'.");
        }

        /// <summary>Rows in the committed lake files of a dataset (what readers see).</summary>
        public long LakeRows(string sandbox, string dataset)
        {
            var files = LakeCatalog.DataFiles(Path.Combine(Data.Path, "lake", sandbox, dataset));
            return files.Count == 0 ? 0 : CountRows(files);
        }

        /// <summary>No half-written file is left anywhere in the lake or the model folder: no temp folder content, no <c>*.tmp</c>.</summary>
        public void NoTemporaryFiles()
        {
            var stray = new List<string>();
            foreach (var root in new[] { Path.Combine(Data.Path, "lake"), Path.Combine(Data.Path, "models") }.Where(Directory.Exists))
            {
                stray.AddRange(Directory.EnumerateFiles(root, "*.tmp", SearchOption.AllDirectories));
                foreach (var tmp in Directory.EnumerateDirectories(root, LakeFolders.TempFolderName, SearchOption.AllDirectories))
                    stray.AddRange(Directory.EnumerateFileSystemEntries(tmp));
            }
            Assert.True(stray.Count == 0, "left in the lake: " + string.Join(", ", stray.Select(s => Path.GetRelativePath(Data.Path, s)).Take(5)));
        }

        public string Logs() => string.Join("\n", processes.Select(p => $"----- {p.Name} (pid {p.ProcessId})\n{(p.Output.Length > 4000 ? p.Output[^4000..] : p.Output)}"));

        public async ValueTask DisposeAsync()
        {
            foreach (var c in clients) c.Dispose();
            foreach (var p in processes) p.Dispose();
            SqliteConnection.ClearAllPools();
            if (Postgres)
            {
                try
                {
                    await using var c = new NpgsqlConnection(admin);
                    await c.OpenAsync();
                    await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", c);
                    await cmd.ExecuteNonQueryAsync();
                }
                catch (NpgsqlException) { }
            }
            Data.Dispose();
            Files.Dispose();
        }
    }
}
