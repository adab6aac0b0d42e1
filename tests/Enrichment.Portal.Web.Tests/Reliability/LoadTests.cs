using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Enrichment.Portal.Tests;
using Microsoft.Data.Sqlite;

namespace Enrichment.Portal.Web.Tests.Reliability;

/// <summary>
/// Load (issue #20): the real portal as its own process on loopback (so client and server do not share a thread pool),
/// 50 streaming clients at a bounded rate for 60 s, CSV batches into the same sandbox and signed-in UI sessions loading
/// pages meanwhile. Every record has a unique id; once the pipeline drained, every accepted record must be in the lake
/// once and in the profile store once (by id): none lost, none doubled; no 5xx, no SQLite busy errors in the log.
/// A refused request (4xx/429) is retried and counted. <see cref="LoadRun"/> is shared with the longer soak in bench/.
/// </summary>
public sealed class LoadTests
{
    [Fact]
    public async Task Fifty_streaming_clients_with_batches_and_ui_sessions_lose_and_double_nothing()
    {
        var figures = await LoadRun.RunAsync(new LoadRun.Options(), line => TestContext.Current.TestOutputHelper?.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {line}"));
        File.WriteAllText(Path.Combine(TestLogs.RunDirectory, "load-figures.txt"), figures.Summary());
        Assert.True(figures.ServerErrors == 0, "5xx answers: " + figures.Summary());
        Assert.True(figures.TransportErrors == 0, "requests without an answer: " + figures.Summary());
        Assert.True(figures.GaveUp == 0, "records refused even after retries: " + figures.Summary());
        Assert.True(figures.Lost == 0, "accepted records missing: " + figures.Summary());
        Assert.True(figures.Doubled == 0, "records stored twice: " + figures.Summary());
        Assert.True(figures.BusyErrors.Count == 0, "SQLite busy/locked in the portal's log: " + string.Join("\n", figures.BusyErrors.Take(5)));
        Assert.True(figures.PageFailures == 0, "UI page loads that failed: " + figures.Summary());
        // The rate is a ceiling: on a busy machine a client waits for each answer and sends less (reported, not failed);
        // every client must still have streamed throughout.
        Assert.True(figures.SlowestClientRequests >= 10, "a client hardly got through: " + figures.Summary());
        Assert.True(figures.BatchRows == figures.BatchRowsStored, "batch rows: " + figures.Summary());
    }
}

/// <summary>One load run against a fresh portal process; returns the figures.</summary>
public static class LoadRun
{
    public sealed record Options(int Clients = 50, int Seconds = 60, int RecordsPerRequest = 5, int RequestsPerSecond = 4,
        int Batches = 3, int RowsPerBatch = 5_000, int UiSessions = 5, double UiPauseSeconds = 1.0);

    public sealed class Figures
    {
        public Options Options { get; init; } = new();
        public long StreamingPlanned, StreamingSent, StreamingAccepted, Requests, Refused, Retried, GaveUp, ServerErrors, TransportErrors;
        public long SlowestClientRequests = long.MaxValue;
        public long Lost, Doubled, LakeRows, ProfileIdentities, BatchRows, BatchRowsStored, PageLoads, PageFailures;
        public double DrainSeconds;
        public List<double> StreamLatencies { get; } = [];
        public List<double> PageLatencies { get; } = [];
        public List<string> BusyErrors { get; } = [];
        public List<string> ErrorLines { get; } = [];
        public Dictionary<int, long> Statuses { get; } = [];

        public static double Percentile(List<double> values, double p)
        {
            if (values.Count == 0) return double.NaN;
            var sorted = values.Order().ToList();
            return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
        }

        public string Summary() => string.Create(CultureInfo.InvariantCulture,
            $"""
            clients {Options.Clients} x {Options.RequestsPerSecond} req/s x {Options.RecordsPerRequest} records for {Options.Seconds} s; {Options.Batches} batches of {Options.RowsPerBatch:N0} rows; {Options.UiSessions} UI sessions
            streaming: planned {StreamingPlanned:N0} (the rate's ceiling), sent {StreamingSent:N0} (in {Requests:N0} requests, {Requests / (double)Options.Seconds:F0} req/s; slowest client {SlowestClientRequests} requests), accepted {StreamingAccepted:N0}, refused requests {Refused:N0} (retried {Retried:N0}, gave up on {GaveUp:N0} records), 5xx {ServerErrors}, no answer {TransportErrors}
            statuses: {string.Join(", ", Statuses.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}: {kv.Value:N0}"))}
            stored: lake rows {LakeRows:N0}, profile identities {ProfileIdentities:N0}; lost {Lost}, doubled {Doubled}; drained {DrainSeconds:F1} s after the load
            batches: rows {BatchRows:N0}, in the profile store {BatchRowsStored:N0}
            streaming latency ms: p50 {Percentile(StreamLatencies, 50):F1}, p95 {Percentile(StreamLatencies, 95):F1}, p99 {Percentile(StreamLatencies, 99):F1}, max {(StreamLatencies.Count > 0 ? StreamLatencies.Max() : 0):F1}
            page loads: {PageLoads:N0} ({PageFailures} failed); ms p50 {Percentile(PageLatencies, 50):F1}, p95 {Percentile(PageLatencies, 95):F1}, p99 {Percentile(PageLatencies, 99):F1}
            error lines in the portal log: {ErrorLines.Count}; SQLite busy/locked: {BusyErrors.Count}
            """);
    }

    private static readonly object[] Fields =
    [
        new { path = "id", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
        new { path = "client", type = "integer" }, new { path = "seq", type = "integer" }, new { path = "note", type = "string" },
    ];

    public static async Task<Figures> RunAsync(Options o, Action<string> report)
    {
        var data = Path.Combine(Path.GetTempPath(), "ep-load-" + Guid.NewGuid().ToString("N"));
        using var portal = new PortalProcess(data, new Dictionary<string, string?> { ["Auth:LoginAttemptsPerMinute"] = "1000" }, name: "load-portal");
        var f = new Figures { Options = o };
        try
        {
            await portal.StartAsync();
            report($"portal up on {portal.BaseUri} (pid {portal.ProcessId})");
            using var api = portal.Api();
            var schema = (await PostAsync(api, "/api/v1/schemas", new { name = "Load record", @class = "profile", fields = Fields }))["id"]!.GetValue<string>();
            Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schema}/enable-profile", null)).StatusCode);
            var stream = await DatasetAsync(api, "Load stream", schema);
            var batches = await DatasetAsync(api, "Load batches", schema);

            using var cts = new CancellationTokenSource();
            var start = Stopwatch.StartNew();
            var clients = Enumerable.Range(0, o.Clients).Select(c => StreamClientAsync(portal, stream, c, o, f, start)).ToList();
            var uploads = BatchesAsync(portal, batches, o, f, data, start);
            var ui = Enumerable.Range(0, o.UiSessions).Select(_ => UiSessionAsync(portal, o, f, start)).ToList();
            await Task.WhenAll(clients);
            await Task.WhenAll(ui);
            report($"load done after {start.Elapsed.TotalSeconds:F0} s: {f.StreamingAccepted:N0} streamed records accepted");
            await uploads;
            report("batches done");

            // Drain: every accepted streamed record and every batch row in the profile store (or time out and count what is missing).
            var drain = Stopwatch.StartNew();
            var sandbox = await ScalarAsync<string>(data, "SELECT \"Id\" FROM sandboxes WHERE \"Name\" = 'prod'");
            var until = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            HashSet<string> ids = [];
            while (DateTime.UtcNow < until)
            {
                ids = await IdentitiesAsync(data, sandbox!);
                if (ids.Count(i => i.StartsWith('s')) >= f.StreamingAccepted && ids.Count(i => i.StartsWith('b')) >= f.BatchRows) break;
                await Task.Delay(500);
            }
            f.DrainSeconds = drain.Elapsed.TotalSeconds;
            await Task.Delay(2000); // anything written twice would show now
            ids = await IdentitiesAsync(data, sandbox!);
            f.ProfileIdentities = ids.Count(i => i.StartsWith('s'));
            f.BatchRowsStored = ids.Count(i => i.StartsWith('b'));
            lock (Accepted)
            {
                var accepted = Accepted.GetValueOrDefault(portal.Port) ?? [];
                f.Lost = accepted.Count(id => !ids.Contains(id));
            }

            // The lake: each accepted id once (a micro-batch written twice would double it).
            var lake = await PostAsync(api, "/api/v1/queries", new { sql = "SELECT count(*) AS n, count(DISTINCT id) AS d FROM load_stream", limit = 10 });
            var row = lake["rows"]![0]!;
            f.LakeRows = row[0]!.GetValue<long>();
            var distinct = row[1]!.GetValue<long>();
            f.Doubled = f.LakeRows - distinct;
            var fragments = await ScalarAsync<long>(data, "SELECT count(*) FROM profile_fragments WHERE sandbox_id = $s AND dataset_id = $d", ("$s", sandbox!), ("$d", stream));
            f.Doubled += Math.Max(0, fragments - f.ProfileIdentities);
            if (distinct != f.StreamingAccepted) f.Lost = Math.Max(f.Lost, f.StreamingAccepted - distinct);

            var output = portal.Output.Split('\n');
            f.ErrorLines.AddRange(output.Where(l => l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("crit:", StringComparison.Ordinal)));
            f.BusyErrors.AddRange(output.Where(l => l.Contains("database is locked", StringComparison.OrdinalIgnoreCase) || l.Contains("SQLITE_BUSY", StringComparison.OrdinalIgnoreCase)));
            report(f.Summary());
            return f;
        }
        catch (Exception e) { throw new Xunit.Sdk.XunitException($"{e}\n{f.Summary()}\n--- portal output ---\n{Tail(portal.Output)}"); }
        finally
        {
            await portal.StopAsync(kill: false);
            lock (Accepted) Accepted.Remove(portal.Port);
            try { Directory.Delete(data, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static string Tail(string s) => s.Length > 20_000 ? s[^20_000..] : s;

    /// <summary>Ids of the records the portal accepted, per portal port.</summary>
    private static readonly Dictionary<int, HashSet<string>> Accepted = [];

    private static void Count(Figures f, HttpStatusCode status)
    {
        lock (f) f.Statuses[(int)status] = f.Statuses.GetValueOrDefault((int)status) + 1;
    }

    private static async Task StreamClientAsync(PortalProcess portal, string dataset, int client, Options o, Figures f, Stopwatch clock)
    {
        using var api = portal.Api();
        api.Timeout = TimeSpan.FromSeconds(60);
        var interval = TimeSpan.FromSeconds(1.0 / o.RequestsPerSecond);
        var total = o.Seconds * o.RequestsPerSecond;
        lock (f) f.StreamingPlanned += (long)total * o.RecordsPerRequest;
        // Spread the clients over the first interval so they do not all fire at once.
        var next = TimeSpan.FromTicks(interval.Ticks * client / o.Clients);
        var seq = 0;
        long mine = 0;
        for (var r = 0; r < total && clock.Elapsed < TimeSpan.FromSeconds(o.Seconds + 5); r++)
        {
            var wait = next - clock.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait);
            next += interval;
            if (next < clock.Elapsed) next = clock.Elapsed; // behind: no catch-up burst, the rate stays bounded
            var records = Enumerable.Range(0, o.RecordsPerRequest).Select(_ => new { id = $"s{client}-{seq}", client, seq = seq++, note = "load" }).ToList();
            for (var attempt = 1; ; attempt++)
            {
                var sw = Stopwatch.StartNew();
                HttpResponseMessage response;
                try { response = await api.PostAsJsonAsync($"/api/v1/collection/{dataset}", records); }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    Interlocked.Increment(ref f.TransportErrors);
                    break;
                }
                var ms = sw.Elapsed.TotalMilliseconds;
                var body = await response.Content.ReadAsStringAsync();
                Count(f, response.StatusCode);
                Interlocked.Increment(ref f.Requests);
                Interlocked.Add(ref f.StreamingSent, records.Count);
                lock (f) f.StreamLatencies.Add(ms);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    var json = JsonNode.Parse(body)!;
                    var accepted = json["accepted"]!.GetValue<int>();
                    var rejected = json["rejected"]!.AsArray();
                    var rejectedIndexes = rejected.Select(x => x!["index"]!.GetValue<int>()).ToHashSet();
                    lock (Accepted)
                    {
                        if (!Accepted.TryGetValue(portal.Port, out var set)) Accepted[portal.Port] = set = [];
                        for (var i = 0; i < records.Count; i++) if (!rejectedIndexes.Contains(i)) set.Add(records[i].id);
                    }
                    Interlocked.Add(ref f.StreamingAccepted, accepted);
                    mine++;
                    if (rejected.Count > 0) Interlocked.Add(ref f.GaveUp, rejected.Count); // valid records: a rejection is a defect
                    break;
                }
                if ((int)response.StatusCode >= 500) { Interlocked.Increment(ref f.ServerErrors); break; }
                // Refused (429 or another 4xx): retry the same records after the advised wait, a few times.
                Interlocked.Increment(ref f.Refused);
                if (attempt >= 5) { Interlocked.Add(ref f.GaveUp, records.Count); break; }
                Interlocked.Increment(ref f.Retried);
                var retryAfter = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                await Task.Delay(retryAfter > TimeSpan.FromSeconds(5) ? TimeSpan.FromSeconds(5) : retryAfter);
            }
        }
        lock (f) f.SlowestClientRequests = Math.Min(f.SlowestClientRequests, mine);
    }

    private static async Task BatchesAsync(PortalProcess portal, string dataset, Options o, Figures f, string data, Stopwatch clock)
    {
        using var api = portal.Api();
        var dir = Path.Combine(data + "-files");
        Directory.CreateDirectory(dir);
        try
        {
            var ids = new List<string>();
            for (var b = 0; b < o.Batches; b++)
            {
                // Spread over the load: the first after a few seconds, the last well before its end.
                var at = TimeSpan.FromSeconds(5 + b * Math.Max(1, o.Seconds - 20) / Math.Max(1, o.Batches));
                if (at > clock.Elapsed) await Task.Delay(at - clock.Elapsed);
                var file = Path.Combine(dir, $"batch{b}.csv");
                var sb = new StringBuilder("id,client,seq,note\n");
                for (var i = 0; i < o.RowsPerBatch; i++) sb.Append(CultureInfo.InvariantCulture, $"b{b}-{i},{1000 + b},{i},batch\n");
                await File.WriteAllTextAsync(file, sb.ToString());
                var response = await Enrichment.Portal.Web.Tests.Api.BatchIngestionApiTests.UploadAsync(api, dataset, file);
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"batch upload: {(int)response.StatusCode} {body}");
                ids.Add(JsonNode.Parse(body)!["id"]!.GetValue<string>());
                Interlocked.Add(ref f.BatchRows, o.RowsPerBatch);
            }
            foreach (var id in ids)
            {
                var done = await PortalHost.PollAsync(api, $"/api/v1/batches/{id}", j => j["status"]!.GetValue<string>() is "success" or "failed" or "abandoned", TimeSpan.FromMinutes(4));
                Assert.True(done["status"]!.GetValue<string>() == "success", done.ToJsonString());
            }
        }
        finally { try { Directory.Delete(dir, recursive: true); } catch (IOException) { } }
    }

    private static readonly string[] Pages = ["/", "/profiles", "/jobs", "/audiences"];

    private static async Task UiSessionAsync(PortalProcess portal, Options o, Figures f, Stopwatch clock)
    {
        using var session = await CookieSession.SignInAsync(portal.BaseUri, "admin", PortalHost.AdminPassword);
        var i = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(o.Seconds))
        {
            var page = Pages[i++ % Pages.Length];
            var sw = Stopwatch.StartNew();
            try
            {
                using var response = await session.Client.GetAsync(page);
                var html = await response.Content.ReadAsStringAsync();
                var ms = sw.Elapsed.TotalMilliseconds;
                var ok = response.StatusCode == HttpStatusCode.OK && html.Contains("<html", StringComparison.OrdinalIgnoreCase);
                lock (f) { f.PageLoads++; f.PageLatencies.Add(ms); if (!ok) f.PageFailures++; }
                if ((int)response.StatusCode >= 500) Interlocked.Increment(ref f.ServerErrors);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                lock (f) { f.PageLoads++; f.PageFailures++; }
            }
            await Task.Delay(TimeSpan.FromSeconds(o.UiPauseSeconds));
        }
    }

    private static async Task<string> DatasetAsync(HttpClient api, string name, string schema)
    {
        var id = (await PostAsync(api, "/api/v1/datasets", new { name, schemaId = schema }))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{id}/enable-profile", null)).StatusCode);
        return id;
    }

    private static async Task<JsonNode> PostAsync(HttpClient api, string url, object body)
    {
        var response = await api.PostAsJsonAsync(url, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    private static SqliteConnection Open(string data)
    {
        var c = new SqliteConnection($"Data Source={Path.Combine(data, "catalog.db")};Mode=ReadOnly;Default Timeout=60");
        c.Open();
        return c;
    }

    private static async Task<T?> ScalarAsync<T>(string data, string sql, params (string Name, object Value)[] args)
    {
        await using var c = Open(data);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v);
        var v2 = await cmd.ExecuteScalarAsync();
        return v2 is null or DBNull ? default : (T)Convert.ChangeType(v2, typeof(T), CultureInfo.InvariantCulture);
    }

    private static async Task<HashSet<string>> IdentitiesAsync(string data, string sandbox)
    {
        await using var c = Open(data);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT value FROM profile_identities WHERE sandbox_id = $s";
        cmd.Parameters.AddWithValue("$s", sandbox);
        var set = new HashSet<string>(StringComparer.Ordinal);
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) set.Add(r.GetString(0));
        return set;
    }
}

/// <summary>A browser-like client signed in through the real login form (antiforgery token, cookie), not following redirects.</summary>
public sealed partial class CookieSession : IDisposable
{
    public HttpClient Client { get; }
    private CookieSession(HttpClient client) => Client = client;

    /// <summary>A cookie client; <paramref name="localAddress"/> binds the client's side of the socket (e.g. 127.0.0.2) to act as another address.</summary>
    public static HttpClient NewClient(Uri baseUri, IPAddress? localAddress = null)
    {
        var handler = new SocketsHttpHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseCookies = true };
        if (localAddress is not null)
            handler.ConnectCallback = async (ctx, ct) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(localAddress, 0));
                    await socket.ConnectAsync(ctx.DnsEndPoint, ct);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch { socket.Dispose(); throw; }
            };
        return new HttpClient(handler) { BaseAddress = baseUri, Timeout = TimeSpan.FromMinutes(2) };
    }

    /// <summary>Posts the login form once: the answer (302 on success; 200 with the error, or 429 when refused).</summary>
    public static async Task<HttpResponseMessage> PostLoginAsync(HttpClient client, string user, string password)
    {
        var form = await client.GetStringAsync("/login");
        var token = Token().Match(form);
        if (!token.Success) throw new InvalidOperationException("No antiforgery token on /login: " + form[..Math.Min(form.Length, 2000)]);
        return await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login", ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value),
            ["Input.UserName"] = user, ["Input.Password"] = password,
        }));
    }

    public static async Task<CookieSession> SignInAsync(Uri baseUri, string user, string password)
    {
        var client = NewClient(baseUri);
        var response = await PostLoginAsync(client, user, password);
        if (response.StatusCode != HttpStatusCode.Redirect && response.StatusCode != HttpStatusCode.Found)
            throw new InvalidOperationException($"sign-in as {user}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return new CookieSession(client);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex Token();

    public void Dispose() => Client.Dispose();
}
