// Audiences benchmark (#15): N generated profiles (tier, tenure, insights.churn.score; flat attribute keys as the store keeps them)
// x E events each (purchase / visit over the last 60 days) written in bulk by SQL into a migrated profile store (SQLite by default,
// PostgreSQL with EP_BENCH_POSTGRES=<connection string>), then the product's own code paths:
//   1. full evaluation of a three-condition rule (churn score > 0.7, tier = gold, 2+ purchases in the last 30 days),
//   2. the estimate of that rule (what the rule builder shows while the rule is edited),
//   3. incremental evaluation after a batch that changed 10,000 profiles,
//   4. webhook export of M audience changes (entered) to a loopback receiver (Kestrel, signature checked) through WebhookSender,
//   5. file destination (CSV, then Parquet) of an audience of every profile, through DestinationRunJob.
// The generated store is kept in /tmp/audiences-bench-<N>x<E>/ (SQLite) and reused by the next run with the same N and E.
// Usage: dotnet run -c Release -- [profiles=100000] [eventsPerProfile=10] [webhookMembers=100000] [batchSize=1000] [steps=all|eval,estimate,inc,hook,file]
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Enrichment.Portal.Core;
using Enrichment.Portal.Core.Audiences;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

var n = args.Length > 0 ? int.Parse(args[0]) : 100_000;
var perProfile = args.Length > 1 ? int.Parse(args[1]) : 10;
var hookMembers = args.Length > 2 ? int.Parse(args[2]) : 100_000;
var batchSize = args.Length > 3 ? int.Parse(args[3]) : 1000;
var steps = (args.Length > 4 ? args[4] : "all").Split(',');
bool Step(string s) => steps.Contains("all") || steps.Contains(s);
var pg = Environment.GetEnvironmentVariable("EP_BENCH_POSTGRES");
var work = Path.Combine(Path.GetTempPath(), $"audiences-bench-{n}x{perProfile}");
Directory.CreateDirectory(work);
var dbPath = Path.Combine(work, "catalog.db");
const string sandbox = "bench";
string? pgDb = null, pgConn = null;
if (pg is not null)
{
    pgDb = "audbench_" + Guid.NewGuid().ToString("N")[..8];
    pgConn = new Npgsql.NpgsqlConnectionStringBuilder(pg) { Database = pgDb, CommandTimeout = 600 }.ConnectionString;
    await using var admin = new Npgsql.NpgsqlConnection(pg);
    await admin.OpenAsync();
    await using var create = new Npgsql.NpgsqlCommand($"CREATE DATABASE {pgDb}", admin);
    await create.ExecuteNonQueryAsync();
}
Console.WriteLine($"{DateTime.UtcNow:u} {(pg is null ? "SQLite" : "PostgreSQL")}: {n:N0} profiles x {perProfile} events; webhook {hookMembers:N0} members in batches of {batchSize:N0}; " +
                  $"{Environment.ProcessorCount} cores; load {File.ReadAllText("/proc/loadavg").Trim()}");

CatalogDb NewDb() => pg is null
    ? new SqliteCatalogDb(new DbContextOptionsBuilder<SqliteCatalogDb>().UseSqlite($"Data Source={dbPath};Default Timeout=600", s => s.MigrationsHistoryTable("__ef_migrations").CommandTimeout(600))
        .ConfigureWarnings(w => w.Ignore(Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.PendingModelChangesWarning)).Options, new SandboxContext { SandboxId = sandbox })
    : new PostgresCatalogDb(new DbContextOptionsBuilder<PostgresCatalogDb>().UseNpgsql(pgConn, s => s.MigrationsHistoryTable("__ef_migrations").CommandTimeout(600))
        .ConfigureWarnings(w => w.Ignore(Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.PendingModelChangesWarning)).Options, new SandboxContext { SandboxId = sandbox });

async Task<long> Exec(CatalogDb db, string sql, params object[] ps) => await db.Database.ExecuteSqlRawAsync(sql, ps);

var now = DateTimeOffset.UtcNow;
var sw = Stopwatch.StartNew();
var generated = pg is null && File.Exists(Path.Combine(work, "generated"));
if (!generated)
{
    if (pg is null) foreach (var f in Directory.GetFiles(work)) File.Delete(f);
    await using (var init = NewDb()) await init.Database.MigrateAsync();
    // Bulk generation in SQL (not the ingestion path): profiles, then events in chunks of 1M rows.
    await using (var db = NewDb())
    {
        db.Database.SetCommandTimeout(3600);
        if (pg is null)
        {
            await Exec(db, "PRAGMA journal_mode=DELETE");
            await Exec(db, "PRAGMA cache_size=-524288");
            await Exec(db,
                "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM k WHERE i+1 < {0}) " +
                "INSERT INTO profiles (id, sandbox_id, created_at, updated_at, identity_count, hit_limit, attributes, provenance) " +
                "SELECT printf('p%08d', i) || substr('0123456789abcdefghjkmnpqrstvwxyz', i % 32 + 1, 1), {1}, {2}, {2}, 1, 0, json_object('tier', CASE WHEN abs(random()) % 4 = 0 THEN 'gold' ELSE 'silver' END, " +
                "'tenure', 1 + abs(random()) % 119, 'insights.churn', json_object('score', (abs(random()) % 10000) / 10000.0)), '{{}}' FROM k",
                n, sandbox, now.UtcTicks);
            for (long start = 0; start < (long)n * perProfile; start += 1_000_000)
            {
                var end = Math.Min((long)n * perProfile, start + 1_000_000);
                await Exec(db,
                    "WITH RECURSIVE k(i) AS (SELECT {0} UNION ALL SELECT i+1 FROM k WHERE i+1 < {1}) " +
                    "INSERT INTO profile_events (sandbox_id, profile_id, dataset_id, batch_id, row_number, timestamp, event_type, fields) " +
                    "SELECT {2}, printf('p%08d', i / {3}) || substr('0123456789abcdefghjkmnpqrstvwxyz', (i / {3}) % 32 + 1, 1), 'events', 'b0', i, {4} - (abs(random()) % 86400) * 600000000, " +
                    "CASE WHEN abs(random()) % 3 = 0 THEN 'purchase' ELSE 'visit' END, json_object('amount', 1 + abs(random()) % 499) FROM k",
                    start, end, sandbox, perProfile, now.UtcTicks);
                Console.Write($"\r{end:N0} events, {sw.Elapsed.TotalSeconds:F0} s");
            }
            Console.WriteLine();
            await Exec(db, "ANALYZE");
            await Exec(db, "PRAGMA journal_mode=WAL"); // as the portal runs its catalog
        }
        else
        {
            await Exec(db,
                "INSERT INTO profiles (id, sandbox_id, created_at, updated_at, identity_count, hit_limit, attributes, provenance) " +
                "SELECT 'p' || lpad(i::text, 8, '0') || substr('0123456789abcdefghjkmnpqrstvwxyz', (i % 32)::int + 1, 1), {1}, {2}, {2}, 1, false, json_build_object('tier', CASE WHEN random() < 0.25 THEN 'gold' ELSE 'silver' END, " +
                "'tenure', 1 + floor(random() * 119)::int, 'insights.churn', json_build_object('score', round(random()::numeric, 4)))::text, '{{}}' FROM generate_series(0, {0} - 1) i",
                n, sandbox, now);
            for (long start = 0; start < (long)n * perProfile; start += 1_000_000)
            {
                var end = Math.Min((long)n * perProfile, start + 1_000_000);
                await Exec(db,
                    "INSERT INTO profile_events (sandbox_id, profile_id, dataset_id, batch_id, row_number, timestamp, event_type, fields) " +
                    "SELECT {2}, 'p' || lpad((i / {3})::text, 8, '0') || substr('0123456789abcdefghjkmnpqrstvwxyz', ((i / {3}) % 32)::int + 1, 1), 'events', 'b0', i, {4}::timestamptz - floor(random() * 86400) * interval '1 minute', " +
                    "CASE WHEN random() < 1.0/3 THEN 'purchase' ELSE 'visit' END, json_build_object('amount', 1 + floor(random() * 499)::int)::text FROM generate_series({0}::bigint, {1}::bigint - 1) i",
                    start, end, sandbox, perProfile, now);
                Console.Write($"\r{end:N0} events, {sw.Elapsed.TotalSeconds:F0} s");
            }
            Console.WriteLine();
            await Exec(db, "VACUUM ANALYZE profiles");
            await Exec(db, "VACUUM ANALYZE profile_events");
        }
    }
    if (pg is null) File.WriteAllText(Path.Combine(work, "generated"), now.UtcTicks.ToString());
    Console.WriteLine($"generated in {sw.Elapsed.TotalSeconds:F1} s" + (pg is null ? $" ({new FileInfo(dbPath).Length / 1e6:F0} MB)" : ""));
}
else
{
    // The events were generated relative to that time: keep "the last 30 days" meaning the same.
    now = new DateTimeOffset(long.Parse(File.ReadAllText(Path.Combine(work, "generated"))), TimeSpan.Zero);
    Console.WriteLine($"reusing the store generated at {now:u} ({new FileInfo(dbPath).Length / 1e6:F0} MB)");
}
var clock = new FixedClock(now);

// A clean audience state for this run.
await using (var db = NewDb())
    foreach (var t in new[] { "audience_changes", "audience_members", "audience_sizes", "destination_runs", "destination_dead_letters", "destinations", "audiences" })
        await Exec(db, $"DELETE FROM {t}");

var catalog = new RuleCatalog();
catalog.AddSchema(new SchemaDefinition("crm", SchemaClass.Profile,
[
    new SchemaField { Path = "tier", Type = FieldType.String },
    new SchemaField { Path = "tenure", Type = FieldType.Number },
    new SchemaField { Path = "insights", Type = FieldType.Map, ValueType = FieldType.Object },
]));
catalog.AddSchema(new SchemaDefinition("events", SchemaClass.Event,
[
    new SchemaField { Path = "timestamp", Type = FieldType.DateTime },
    new SchemaField { Path = "eventType", Type = FieldType.String },
    new SchemaField { Path = "amount", Type = FieldType.Number },
]));
catalog.InsightModels.Add("churn");

var audience = new Audience
{
    SandboxId = sandbox, Name = "likely churners, gold, buying", Status = AudienceStatus.Ready,
    RuleJson = """{"all":[{"attribute":"insights.churn.score","op":"gt","value":0.7},{"attribute":"tier","op":"eq","value":"gold"},{"event":{"eventType":"purchase","withinDays":30},"op":"gte","value":2}]}""",
};
await using (var db = NewDb()) { db.Add(audience); await db.SaveChangesAsync(); }
AudienceEvaluator Evaluator(CatalogDb db, AudienceOptions? o = null) => new(db, new AudienceLocks(), clock, o is null ? null : Options.Create(o)) { FixedCatalog = catalog };

// 1. Full evaluation.
if (Step("eval"))
    await using (var db = NewDb())
    {
        sw.Restart();
        var full = await Evaluator(db).EvaluateFullAsync(audience, null, CancellationToken.None);
        Console.WriteLine($"full evaluation: {full.Size:N0} members of {n:N0} in {sw.Elapsed.TotalSeconds:F2} s");
    }

// 2. The estimate (the rule builder's live figure) with a sample of 10.
if (Step("estimate"))
    await using (var db = NewDb())
    {
        var ev = Evaluator(db);
        var exact = Evaluator(db, new AudienceOptions { ExactEstimateBelow = long.MaxValue });
        foreach (var (label, json) in new[] { ("three conditions", audience.RuleJson), ("score condition alone", """{"attribute":"insights.churn.score","op":"gt","value":0.7}""") })
        {
            var rule = await ev.CompileAsync(json, null, CancellationToken.None);
            for (var run = 1; run <= 2; run++)
            {
                sw.Restart();
                var e = await ev.EstimateAsync(rule, 10, CancellationToken.None);
                Console.WriteLine($"estimate ({label}) {run}: {e.Size:N0} ± {e.Margin:N0} of {e.Total:N0} ({(e.Exact ? "exact" : $"sampled {e.Sampled:N0}")}, sample {e.Sample.Count}) in {sw.Elapsed.TotalSeconds:F2} s");
            }
            sw.Restart();
            var x = await exact.EstimateAsync(rule, 10, CancellationToken.None);
            Console.WriteLine($"exact count ({label}): {x.Size:N0} in {sw.Elapsed.TotalSeconds:F2} s");
        }
    }

// 3. Incremental after a batch of 10,000 changed profiles (their score changes).
if (Step("inc"))
{
    // New scores on every run: a reused store already holds the previous run's, and the same scores would change no membership.
    var rng = new Random();
    var changed = Enumerable.Range(0, Math.Min(10_000, n)).Select(i => Pid((long)i * n / Math.Min(10_000, n))).Distinct().ToList();
    await using var db = NewDb();
    await using (var tx = await db.Database.BeginTransactionAsync())
    {
        foreach (var id in changed)
            await Exec(db, pg is null
                ? "UPDATE profiles SET attributes=json_set(attributes,'$.\"insights.churn\".score',{0}) WHERE id={1}"
                : "UPDATE profiles SET attributes=jsonb_set(attributes::jsonb,'{{insights.churn,score}}',to_jsonb({0}::float8))::text WHERE id={1}", Math.Round(rng.NextDouble(), 4), id);
        await tx.CommitAsync();
    }
    sw.Restart();
    var inc = await Evaluator(db).EvaluateProfilesAsync(changed, "batch", CancellationToken.None);
    Console.WriteLine($"incremental after {changed.Count:N0} changed profiles: +{inc.Entered:N0} / -{inc.Exited:N0} in {sw.Elapsed.TotalSeconds:F2} s");
}

// 4. Webhook export of hookMembers changes to a loopback receiver that checks every signature.
if (Step("hook"))
{
    var hookAudience = new Audience { SandboxId = sandbox, Name = "webhook bench", Status = AudienceStatus.Ready, RuleJson = """{"attribute":"tenure","op":"gt","value":0}""" };
    await using (var db = NewDb())
    {
        db.Add(hookAudience);
        await db.SaveChangesAsync();
        await Exec(db, pg is null
            ? "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM k WHERE i+1 < {0}) INSERT INTO audience_changes (sandbox_id, audience_id, profile_id, entered, at) SELECT {1}, {2}, printf('p%08d', i % {3}) || substr('0123456789abcdefghjkmnpqrstvwxyz', (i % {3}) % 32 + 1, 1), 1, {4} FROM k"
            : "INSERT INTO audience_changes (sandbox_id, audience_id, profile_id, entered, at) SELECT {1}, {2}, 'p' || lpad((i % {3})::text, 8, '0') || substr('0123456789abcdefghjkmnpqrstvwxyz', ((i % {3}) % 32)::int + 1, 1), true, {4}::timestamptz FROM generate_series(0, {0} - 1) i",
            hookMembers, sandbox, hookAudience.Id, n, pg is null ? now.UtcTicks : now);
    }
    var secret = WebhookSigner.NewSecret();
    long received = 0, requests = 0, badSignatures = 0;
    var port = FreePort();
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
    var receiver = builder.Build();
    receiver.MapPost("/hook", async (HttpContext c) =>
    {
        using var ms = new MemoryStream();
        await c.Request.Body.CopyToAsync(ms);
        var body = ms.GetBuffer().AsSpan(0, (int)ms.Length);
        if (!WebhookSigner.Verify(secret, c.Request.Headers[WebhookSigner.TimestampHeader].ToString(), body, c.Request.Headers[WebhookSigner.SignatureHeader].ToString()))
            Interlocked.Increment(ref badSignatures);
        using var doc = JsonDocument.Parse(ms.GetBuffer().AsMemory(0, (int)ms.Length));
        Interlocked.Add(ref received, doc.RootElement.GetProperty("changes").GetArrayLength());
        Interlocked.Increment(ref requests);
        return Results.Ok();
    });
    await receiver.StartAsync();
    var destination = new Destination
    {
        SandboxId = sandbox, Name = "bench hook", Type = DestinationTypes.Webhook, Target = $"http://127.0.0.1:{port}/hook", Format = "json", Mode = "changes",
        SegmentIds = [hookAudience.Id], Attributes = ["tier", "insights.churn.score"], Secret = secret, BatchSize = batchSize,
    };
    await using (var db = NewDb())
    {
        db.Add(destination);
        await db.SaveChangesAsync();
        using var client = new HttpClient(new SocketsHttpHandler { ConnectCallback = (c, ct) => WebhookAddressGuard.ConnectAsync(c.DnsEndPoint, true, ct) });
        var sender = new WebhookSender(db, new OneClient(client), Options.Create(new WebhookOptions { AllowPrivateNetworks = true }), TimeProvider.System, NullLogger<WebhookSender>.Instance);
        sw.Restart();
        await sender.RunAsync(destination, new JobProgress(null!, TimeProvider.System), CancellationToken.None);
        var s = sw.Elapsed.TotalSeconds;
        Console.WriteLine($"webhook: {received:N0} members in {requests:N0} batches of {batchSize:N0} in {s:F2} s = {received / s:N0} members/s ({badSignatures} bad signatures)");
    }
    await receiver.StopAsync();
}

// 5. File destination of an audience of every profile (full mode): CSV and Parquet.
if (Step("file"))
{
    var all = new Audience { SandboxId = sandbox, Name = "everyone", Status = AudienceStatus.Ready, RuleJson = """{"attribute":"tenure","op":"gt","value":0}""" };
    await using (var db = NewDb()) { db.Add(all); await db.SaveChangesAsync(); }
    await using (var db = NewDb())
    {
        sw.Restart();
        var r = await Evaluator(db).EvaluateFullAsync(all, null, CancellationToken.None);
        Console.WriteLine($"full evaluation of a one-condition rule: {r.Size:N0} members in {sw.Elapsed.TotalSeconds:F2} s");
    }
    foreach (var format in new[] { "csv", "parquet" })
    {
        var d = new Destination
        {
            SandboxId = sandbox, Name = "bench-file-" + format, Type = DestinationTypes.File, Target = "bench", Format = format, Mode = "full",
            SegmentIds = [all.Id], Attributes = ["tier", "tenure", "insights.churn.score"],
        };
        await using var db = NewDb();
        db.Add(d);
        await db.SaveChangesAsync();
        var portal = Options.Create(new PortalOptions { DataDirectory = Path.Combine(work, "data") });
        var service = new DestinationService(db, Evaluator(db), null!, portal, Options.Create(new DestinationOptions()), Options.Create(new WebhookOptions()), clock, new AudienceLocks());
        var job = new DestinationRunJob(db, service, null!, new JobProgress(null!, clock), clock, new AudienceLocks());
        sw.Restart();
        await job.RunAsync(d.Id, CancellationToken.None);
        var s = sw.Elapsed.TotalSeconds;
        var run = await db.Set<DestinationRun>().AsNoTracking().SingleAsync(x => x.DestinationId == d.Id);
        Console.WriteLine($"file destination {format}: {run.Members:N0} rows, {run.Bytes / 1e6:F1} MB in {s:F2} s = {run.Members / s:N0} rows/s ({run.Status})");
        File.Delete(run.File!);
    }
}

if (pg is not null)
{
    Npgsql.NpgsqlConnection.ClearAllPools();
    await using var admin = new Npgsql.NpgsqlConnection(pg);
    await admin.OpenAsync();
    await using var drop = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS {pgDb} WITH (FORCE)", admin);
    await drop.ExecuteNonQueryAsync();
}
Console.WriteLine($"load at end {File.ReadAllText("/proc/loadavg").Trim()}");

// A generated profile id: the number, then a last character as the portal's ids end (Crockford base32; the sampled estimate
// reads it), independent of the generated attributes.
static string Pid(long i) => $"p{i:D8}{"0123456789abcdefghjkmnpqrstvwxyz"[(int)(i % 32)]}";

static int FreePort()
{
    using var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
}

sealed class OneClient(HttpClient client) : IHttpClientFactory
{
    public HttpClient CreateClient(string name) => client;
}

sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    private readonly long startTicks = Stopwatch.GetTimestamp();
    public override DateTimeOffset GetUtcNow() => now + Stopwatch.GetElapsedTime(startTicks);
}
