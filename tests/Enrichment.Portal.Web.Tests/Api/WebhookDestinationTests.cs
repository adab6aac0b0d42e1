using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Audiences;
using Enrichment.Portal.Tests;
using Enrichment.Portal.Core.Tests;
using static Enrichment.Portal.Web.Tests.Api.CatalogApiHelpers;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>
/// Webhook destinations against a loopback receiver (HttpListener on a free port) that checks every signature: injected
/// 500s are retried, each change arrives once (across a run cancelled after the receiver took a batch but before the portal
/// recorded the acknowledgment, and across a portal killed with SIGKILL during a run and restarted on the same data
/// directory: the re-sent batch has the same id, the receiver dedupes it), a batch that never succeeds is dead-lettered (run
/// and API), the rate limit spaces batches, the secret is returned once and is in no later answer and no log line.
/// The portal runs as a separate process (<see cref="PortalProcess"/>: it is killed and restarted; short backoff, every log
/// level written to its output, which the test reads).
/// </summary>
public sealed class WebhookDestinationTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);
    private readonly TestData.TempDir _dir = TestData.NewTempDir();
    private readonly List<PortalProcess> _processes = [];

    private PortalProcess NewPortal()
    {
        var p = new PortalProcess(_dir.Path)
            .With("Webhooks:BaseDelay", "00:00:00.050").With("Webhooks:MaxAttempts", "4").With("Webhooks:AttemptTimeout", "00:00:05")
            .With("Webhooks:AllowPrivateNetworks", "true")
            .With("Logging:LogLevel:Default", "Trace").With("Logging:LogLevel:Microsoft.AspNetCore", "Trace");
        _processes.Add(p);
        return p;
    }

    public void Dispose()
    {
        foreach (var p in _processes) p.Dispose();
        _dir.Dispose();
    }

    /// <summary>The loopback receiver. <see cref="Respond"/> decides each answer (status code) from the batch id and its attempt number.</summary>
    private sealed class Receiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        public string Url { get; }
        public string Secret = "";
        public Func<string, int, int> Respond = (_, _) => 200;
        public Func<string, int, Task>? BeforeAnswer;
        public readonly ConcurrentDictionary<string, int> Attempts = new();
        public readonly ConcurrentDictionary<string, JsonNode> Accepted = new();
        public readonly ConcurrentQueue<(string Batch, TimeSpan At)> FirstAttempts = new();
        public readonly System.Diagnostics.Stopwatch Clock = System.Diagnostics.Stopwatch.StartNew();
        public int BadSignatures, Duplicates;

        public Receiver()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            var port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            Url = $"http://127.0.0.1:{port}/hook/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _ = LoopAsync();
        }

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext c;
                try { c = await _listener.GetContextAsync(); } catch { return; }
                _ = Task.Run(() => HandleAsync(c));
            }
        }

        private async Task HandleAsync(HttpListenerContext c)
        {
            using var ms = new MemoryStream();
            await c.Request.InputStream.CopyToAsync(ms);
            var body = ms.ToArray();
            var ts = c.Request.Headers[WebhookSigner.TimestampHeader] ?? "";
            var batch = c.Request.Headers[WebhookSigner.BatchIdHeader] ?? "";
            var status = 200;
            if (!WebhookSigner.Verify(Secret, ts, body, c.Request.Headers[WebhookSigner.SignatureHeader]) || c.Request.Headers[WebhookSigner.IdempotencyHeader] != batch)
            {
                Interlocked.Increment(ref BadSignatures);
                status = 401;
            }
            else
            {
                var attempt = Attempts.AddOrUpdate(batch, 1, (_, n) => n + 1);
                if (attempt == 1) FirstAttempts.Enqueue((batch, Clock.Elapsed));
                status = Respond(batch, attempt);
                if (status == 200 && !Accepted.TryAdd(batch, JsonNode.Parse(body)!)) Interlocked.Increment(ref Duplicates);
                if (BeforeAnswer is not null) await BeforeAnswer(batch, attempt);
            }
            c.Response.StatusCode = status;
            c.Response.Close();
        }

        public List<long> ChangeIds() => Accepted.Values.SelectMany(b => b!["changes"]!.AsArray().Select(x => x!["changeId"]!.GetValue<long>())).ToList();

        public void Dispose() { _listener.Stop(); _listener.Close(); }
    }

    private static async Task<(HttpStatusCode, JsonNode)> PostAsync(HttpClient api, string url, object body)
    {
        var r = await api.PostAsJsonAsync(url, body);
        return (r.StatusCode, await PortalHost.JsonAsync(r));
    }

    private static async Task<(string Status, JsonNode Run)> RunAsync(HttpClient api, string destinationId, Func<string, Task>? whileRunning = null)
    {
        var (status, job) = await PostAsync(api, $"/api/v1/destinations/{destinationId}/run", new { });
        Assert.Equal(HttpStatusCode.Accepted, status);
        var jobId = job["jobId"]!.GetValue<string>();
        if (whileRunning is not null) await whileRunning(jobId);
        var done = await PortalHost.PollAsync(api, $"/api/v1/jobs/{jobId}", j => j["status"]!.GetValue<string>() is "succeeded" or "failed" or "cancelled", Wait);
        // A cancel marks the job at once; the run's row is finished by the job as it stops.
        var d = await PortalHost.PollAsync(api, $"/api/v1/destinations/{destinationId}", x => x["runs"]!.AsArray().First()!["status"]!.GetValue<string>() != "running", Wait);
        return (done["status"]!.GetValue<string>(), d["runs"]!.AsArray().First()!);
    }

    [Fact]
    public async Task Webhook_batches_are_signed_retried_sent_once_across_a_cancelled_run_and_a_killed_portal_and_dead_lettered()
    {
        var portal = NewPortal();
        await portal.StartAsync();
        var api = portal.Api();
        api.Timeout = TimeSpan.FromMinutes(3);
        var tag = Guid.NewGuid().ToString("N")[..8];
        var people = await AudiencesApiTests.PeopleAsync(api, tag, 30);
        var (_, created) = await PostAsync(api, "/api/v1/segments", new { name = Unique("Gold"), rule = new { attribute = "person.tier", op = "eq", value = "gold" } });
        var segment = created.Id();
        Assert.Equal(15, (await AudiencesApiTests.EvaluatedAsync(api, segment))["size"]!.GetValue<long>());

        // Bad webhook URLs and settings: 422 naming the field.
        foreach (var url in new[] { "not a url", "ftp://127.0.0.1/x", "/relative/path", "http://user:pw@127.0.0.1/x", "http://169.254.169.254/latest/meta-data/" })
        {
            var (bs, bad) = await PostAsync(api, "/api/v1/destinations", new { name = Unique("Bad hook"), type = "webhook", target = url, segmentIds = new[] { segment } });
            Assert.True(bs == HttpStatusCode.UnprocessableEntity, url + ": " + bad.ToJsonString());
            Assert.NotNull(bad["errors"]!["target"]);
        }
        var (rs, badRate) = await PostAsync(api, "/api/v1/destinations", new { name = Unique("Bad hook"), type = "webhook", target = "http://127.0.0.1:9/x", segmentIds = new[] { segment }, rateLimit = 0, batchSize = 0, mode = "full" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, rs);
        Assert.NotNull(badRate["errors"]!["rateLimit"]);
        Assert.NotNull(badRate["errors"]!["batchSize"]);
        Assert.NotNull(badRate["errors"]!["mode"]);

        using var receiver = new Receiver();
        var (cs, hook) = await PostAsync(api, "/api/v1/destinations", new
        {
            name = Unique("Gold hook"), type = "webhook", target = receiver.Url, segmentIds = new[] { segment }, identities = new[] { "CRMID" },
            attributes = new[] { "age" }, batchSize = 4, rateLimit = 5,
        });
        Assert.True(cs == HttpStatusCode.Created, hook.ToJsonString());
        var secret = hook["secret"]!.GetValue<string>();
        Assert.StartsWith("whsec_", secret);
        receiver.Secret = secret;
        var hookId = hook.Id();

        // Each batch's first attempt is a 500; the 3rd batch of the first run is taken by the
        // receiver and then the run is cancelled before the answer: the acknowledgment is lost.
        receiver.Respond = (_, attempt) => attempt == 1 ? 500 : 200;
        var hang = new TaskCompletionSource();
        var taken = new TaskCompletionSource();
        var seen = 0;
        receiver.BeforeAnswer = async (batch, attempt) =>
        {
            if (attempt == 2 && Interlocked.Increment(ref seen) == 3) { taken.TrySetResult(); await hang.Task; }
        };
        var (firstStatus, firstRun) = await RunAsync(api, hookId, async jobId =>
        {
            await taken.Task.WaitAsync(Wait);
            Assert.Equal(HttpStatusCode.Accepted, (await api.PostAsync($"/api/v1/jobs/{jobId}/cancel", null)).StatusCode);
        });
        hang.TrySetResult();
        Assert.Equal("cancelled", firstStatus);
        Assert.Equal("cancelled", firstRun["status"]!.GetValue<string>());
        Assert.Equal(2, firstRun["batches"]!.GetValue<long>());
        Assert.Equal(8, firstRun["members"]!.GetValue<long>());
        Assert.Equal(2, firstRun["retries"]!.GetValue<long>()); // the interrupted batch's retry is not counted
        Assert.Equal(3, receiver.Accepted.Count);

        // The second run resends the unacknowledged third batch (same id: the receiver dedupes it); the receiver takes the fourth
        // and the portal is killed (SIGKILL) before it hears the answer.
        var killed = new TaskCompletionSource();
        var held = new TaskCompletionSource();
        receiver.BeforeAnswer = async (batch, attempt) =>
        {
            if (receiver.Accepted.Count == 4 && attempt == 2 && held.TrySetResult()) await killed.Task;
        };
        var (ks, job) = await PostAsync(api, $"/api/v1/destinations/{hookId}/run", new { });
        Assert.Equal(HttpStatusCode.Accepted, ks);
        var killedJob = job["jobId"]!.GetValue<string>();
        await held.Task.WaitAsync(Wait);
        await portal.StopAsync(kill: true);
        killed.TrySetResult();
        var firstOutput = portal.OutputSoFar();
        Assert.Equal(4, receiver.Accepted.Count);
        Assert.Equal(1, receiver.Duplicates);

        // Restarted on the same data directory: the interrupted job runs again from the destination's cursor and resends the fourth
        // batch (deduped); the killed run's row is marked interrupted.
        receiver.BeforeAnswer = null;
        portal = NewPortal();
        await portal.StartAsync();
        api.Dispose();
        api = portal.Api();
        api.Timeout = TimeSpan.FromMinutes(3);
        var resumed = await PortalHost.PollAsync(api, $"/api/v1/jobs/{killedJob}", j => j["status"]!.GetValue<string>() is "succeeded" or "failed" or "cancelled", Wait);
        Assert.Equal("succeeded", resumed["status"]!.GetValue<string>());
        Assert.Equal(2, resumed["attempts"]!.GetValue<int>());
        var afterKill = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/destinations/{hookId}"));
        var runs = afterKill["runs"]!.AsArray();
        Assert.Equal(3, runs.Count);
        var secondRun = runs[0]!;
        Assert.Equal("succeeded", secondRun["status"]!.GetValue<string>());
        Assert.Equal(1, secondRun["batches"]!.GetValue<long>());
        Assert.Equal(3, secondRun["entered"]!.GetValue<long>());
        Assert.True(secondRun["bytes"]!.GetValue<long>() > 0);
        Assert.Equal("interrupted", runs[1]!["status"]!.GetValue<string>());
        Assert.Equal(1, runs[1]!["batches"]!.GetValue<long>());
        Assert.Equal(2, receiver.Duplicates);
        Assert.Equal(0, receiver.BadSignatures);
        var ids = receiver.ChangeIds();
        Assert.Equal(15, ids.Count);
        Assert.Equal(15, ids.Distinct().Count());
        var one = receiver.Accepted.Values.SelectMany(b => b!["changes"]!.AsArray()).First(c => c!["identities"]!["CRMID"]!.GetValue<string>() == $"C-{tag}-12")!;
        Assert.Equal("entered", one["change"]!.GetValue<string>());
        Assert.Equal("32", one["attributes"]!["age"]!.GetValue<string>());
        Assert.Equal(segment, one["segmentId"]!.GetValue<string>());

        // Rate limit 5 per second: batch k of a run starts at least (k-1) x 200 ms after the first (the sender's clock; the
        // receiver's first arrival may lag by the connection set-up, hence 300 ms for two intervals). Unlimited, the batches
        // would be ~50 ms apart (one short retry each).
        var firsts = receiver.FirstAttempts.ToList();
        Assert.True(firsts[2].At - firsts[0].At >= TimeSpan.FromMilliseconds(300), $"{firsts[2].At - firsts[0].At}");

        // One exits, one enters; the next batch always fails: 4 attempts, then the dead-letter list (run and API); the cursor moves on.
        Assert.Equal(HttpStatusCode.Accepted, (await api.PostAsJsonAsync($"/api/v1/collection/{people}", new object[]
        {
            new { id = $"C-{tag}-2", email = $"p2.{tag}@example.com", age = 22, vip = false, person = new { tier = "silver" } },
            new { id = $"C-{tag}-3", age = 23, vip = false, person = new { tier = "gold" } },
        })).StatusCode);
        await PortalHost.PollAsync(api, $"/api/v1/segments/{segment}", s => s["history"]!.AsArray().Count >= 2, Wait);
        receiver.Respond = (_, _) => 503;
        var (thirdStatus, thirdRun) = await RunAsync(api, hookId);
        Assert.Equal("succeeded", thirdStatus);
        Assert.Equal("partial", thirdRun["status"]!.GetValue<string>());
        Assert.Equal(1, thirdRun["deadLetters"]!.GetValue<long>());
        Assert.Equal(0, thirdRun["batches"]!.GetValue<long>());
        Assert.Equal(3, thirdRun["retries"]!.GetValue<long>());
        Assert.Contains("503", thirdRun["error"]!.GetValue<string>());
        var detail = await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/destinations/{hookId}"));
        var dead = detail["deadLetters"]!.AsArray().Single()!;
        Assert.Equal(2, dead["changes"]!.GetValue<int>());
        Assert.Equal(4, dead["attempts"]!.GetValue<int>());
        Assert.Equal(4, receiver.Attempts[dead["batchId"]!.GetValue<string>()]);
        var (_, idle) = await RunAsync(api, hookId);
        Assert.Equal(0, idle["members"]!.GetValue<long>());
        Assert.Equal(0, idle["deadLetters"]!.GetValue<long>());

        // A dead letter is resent on demand (same batch id); once acknowledged it leaves the list (a second resend is a 404).
        receiver.Respond = (_, _) => 200;
        var (rsStatus, resend) = await PostAsync(api, $"/api/v1/destinations/{hookId}/dead-letters/{dead["id"]!.GetValue<string>()}/resend", new { });
        Assert.True(rsStatus == HttpStatusCode.OK, resend.ToJsonString());
        Assert.Equal("resent", resend["status"]!.GetValue<string>());
        Assert.Equal(2, receiver.Accepted[dead["batchId"]!.GetValue<string>()]["changes"]!.AsArray().Count);
        var (again, _) = await PostAsync(api, $"/api/v1/destinations/{hookId}/dead-letters/{dead["id"]!.GetValue<string>()}/resend", new { });
        Assert.Equal(HttpStatusCode.NotFound, again);
        Assert.Empty((await PortalHost.JsonAsync(await api.GetAsync($"/api/v1/destinations/{hookId}")))["deadLetters"]!.AsArray());

        // The secret: in no later answer, in no log line of either process.
        var list = await (await api.GetAsync("/api/v1/destinations")).Content.ReadAsStringAsync();
        Assert.Contains(hookId, list);
        Assert.DoesNotContain(secret, list);
        Assert.DoesNotContain(secret, detail.ToJsonString());
        Assert.DoesNotContain("\"secret\"", detail.ToJsonString());
        await portal.StopAsync(kill: false);
        var output = firstOutput + portal.OutputSoFar();
        Assert.True(output.Split('\n').Length > 100, $"only {output.Split('\n').Length} log lines captured");
        Assert.Contains(hookId, output);
        Assert.DoesNotContain(secret, output, StringComparison.Ordinal);
        api.Dispose();
    }
}
