// Audiences benchmark: N generated profiles (tier, tenure, insights.churn.score; flat attribute keys as the store keeps them) x E events each (purchase / visit over
// the last 60 days) in a fresh SQLite profile store, then
//   1. full evaluation of a three-condition rule (churn score > 0.7, tier = gold, 2+ purchases in the last 30 days),
//   2. incremental evaluation after a batch that changed 10,000 profiles,
//   3. webhook export of M audience changes (entered) to a loopback receiver (HttpListener) through WebhookSender.
// Usage: dotnet run -c Release -- [profiles=100000] [eventsPerProfile=10] [webhookMembers=100000] [batchSize=500]
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Audiences;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

var n = args.Length > 0 ? int.Parse(args[0]) : 100_000;
var perProfile = args.Length > 1 ? int.Parse(args[1]) : 10;
var hookMembers = args.Length > 2 ? int.Parse(args[2]) : 100_000;
var batchSize = args.Length > 3 ? int.Parse(args[3]) : 500;
var work = Path.Combine(Path.GetTempPath(), "audiences-bench-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(work);
var dbPath = Path.Combine(work, "catalog.db");
const string sandbox = "bench";
Console.WriteLine($"{DateTime.UtcNow:u} {n:N0} profiles x {perProfile} events; webhook {hookMembers:N0} members; {Environment.ProcessorCount} cores; load {File.ReadAllText("/proc/loadavg").Trim()}");

SqliteCatalogDb NewDb() => new(new DbContextOptionsBuilder<SqliteCatalogDb>().UseSqlite($"Data Source={dbPath};Default Timeout=60").Options, new SandboxContext { SandboxId = sandbox });
await using (var init = NewDb()) await init.Database.EnsureCreatedAsync();

var now = DateTimeOffset.UtcNow;
var rng = new Random(42);
var sw = Stopwatch.StartNew();
const int chunk = 20_000;
for (var start = 0; start < n; start += chunk)
{
    await using var db = NewDb();
    db.ChangeTracker.AutoDetectChangesEnabled = false;
    for (var i = start; i < Math.Min(n, start + chunk); i++)
    {
        var id = $"p{i:D8}";
        db.Add(new Profile
        {
            Id = id, SandboxId = sandbox, CreatedAt = now, UpdatedAt = now,
            Attributes = new JsonObject { ["tier"] = rng.Next(4) == 0 ? "gold" : "silver", ["tenure"] = rng.Next(1, 120), ["insights.churn"] = new JsonObject { ["score"] = Math.Round(rng.NextDouble(), 4) } }.ToJsonString(),
        });
        for (var e = 0; e < perProfile; e++)
            db.Add(new ProfileEvent
            {
                SandboxId = sandbox, ProfileId = id, DatasetId = "events", BatchId = "b0", RowNumber = (long)i * perProfile + e,
                Timestamp = now.AddMinutes(-rng.Next(60 * 24 * 60)), EventType = rng.Next(3) == 0 ? "purchase" : "visit",
                Fields = new JsonObject { ["amount"] = rng.Next(1, 500) }.ToJsonString(),
            });
    }
    await db.SaveChangesAsync();
}
Console.WriteLine($"generated in {sw.Elapsed.TotalSeconds:F1} s ({new FileInfo(dbPath).Length / 1e6:F0} MB)");

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

// 1. Full evaluation.
await using (var db = NewDb())
{
    var evaluator = new AudienceEvaluator(db, new AudienceLocks(), TimeProvider.System) { FixedCatalog = catalog };
    sw.Restart();
    var full = await evaluator.EvaluateFullAsync(audience, null, CancellationToken.None);
    Console.WriteLine($"full evaluation: {full.Size:N0} members of {n:N0} in {sw.Elapsed.TotalSeconds:F2} s");
}

// 2. Incremental after a batch of 10,000 changed profiles (their score changes).
var changed = Enumerable.Range(0, Math.Min(10_000, n)).Select(i => $"p{(long)i * n / Math.Min(10_000, n):D8}").Distinct().ToList();
await using (var db = NewDb())
{
    await using (var tx = await db.Database.BeginTransactionAsync())
    {
        foreach (var id in changed)
            await db.Database.ExecuteSqlRawAsync("UPDATE profiles SET attributes=json_set(attributes,'$.\"insights.churn\".score',{0}) WHERE id={1}", [Math.Round(rng.NextDouble(), 4), id]);
        await tx.CommitAsync();
    }
    var evaluator = new AudienceEvaluator(db, new AudienceLocks(), TimeProvider.System) { FixedCatalog = catalog };
    sw.Restart();
    var inc = await evaluator.EvaluateProfilesAsync(changed, "batch", CancellationToken.None);
    Console.WriteLine($"incremental after {changed.Count:N0} changed profiles: +{inc.Entered:N0} / -{inc.Exited:N0} in {sw.Elapsed.TotalSeconds:F2} s");
}

// 3. Webhook export of hookMembers changes to a loopback receiver.
var hookAudience = new Audience { SandboxId = sandbox, Name = "webhook bench", Status = AudienceStatus.Ready, RuleJson = """{"attribute":"tenure","op":"gt","value":0}""" };
await using (var db = NewDb())
{
    db.Add(hookAudience);
    await db.SaveChangesAsync();
    await db.Database.ExecuteSqlRawAsync(
        "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM k WHERE i+1 < {0}) " +
        "INSERT INTO audience_changes (sandbox_id, audience_id, profile_id, entered, at) SELECT {1}, {2}, printf('p%08d', i % {3}), 1, {4} FROM k", [hookMembers, sandbox, hookAudience.Id, n, now]);
}
var port = FreePort();
using var listener = new HttpListener();
listener.Prefixes.Add($"http://127.0.0.1:{port}/hook/");
listener.Start();
long received = 0, requests = 0;
_ = Task.Run(async () =>
{
    while (listener.IsListening)
    {
        HttpListenerContext c;
        try { c = await listener.GetContextAsync(); } catch { return; }
        using (var doc = await JsonDocument.ParseAsync(c.Request.InputStream))
            Interlocked.Add(ref received, doc.RootElement.GetProperty("changes").GetArrayLength());
        Interlocked.Increment(ref requests);
        c.Response.StatusCode = 200;
        c.Response.Close();
    }
});
var destination = new Destination
{
    SandboxId = sandbox, Name = "bench hook", Type = DestinationTypes.Webhook, Target = $"http://127.0.0.1:{port}/hook/", Format = "json", Mode = "changes",
    SegmentIds = [hookAudience.Id], Attributes = ["tier"], Secret = WebhookSigner.NewSecret(), BatchSize = batchSize,
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
    Console.WriteLine($"webhook: {received:N0} members in {requests:N0} batches of {batchSize} in {s:F2} s = {received / s:N0} members/s");
}
listener.Stop();
try { Directory.Delete(work, true); } catch (IOException) { }

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
