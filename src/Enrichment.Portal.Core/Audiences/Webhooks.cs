using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Profiles;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Enrichment.Portal.Core.Audiences;

/// <summary>Retry and timeout settings of webhook deliveries (configuration section <c>Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    /// <summary>HTTP attempts per batch, the first included.</summary>
    public int MaxAttempts { get; set; } = 5;
    /// <summary>The first retry's delay; each further retry doubles it (exponential backoff with jitter).</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>Timeout of one HTTP attempt.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>
    /// Whether webhooks may go to loopback and private-network addresses (<see cref="WebhookAddressGuard"/>). Default false: a
    /// destination can then not reach the portal's host or its internal network. Link-local / metadata addresses are never allowed.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }
    /// <summary>Batches of one destination in flight at once when it has no rate limit (a rate-limited destination sends one at a time).
    /// The cursor moves in change order: a run stopped midway resends from the first unacknowledged batch, so with more than one in
    /// flight it may resend up to <c>MaxInFlight - 1</c> batches the receiver already took (same batch id and Idempotency-Key).
    /// Default 1: a member is never sent twice for the same change; raise it only for receivers that dedupe by batch id.</summary>
    public int MaxInFlight { get; set; } = 1;
}

/// <summary>
/// Webhook signatures: <c>X-Portal-Signature: sha256=&lt;hex&gt;</c>, the HMAC-SHA256 with the destination's secret over
/// <c>timestamp + "." + body</c>, where timestamp is the <c>X-Portal-Timestamp</c> header (Unix seconds).
/// </summary>
public static class WebhookSigner
{
    public const string SignatureHeader = "X-Portal-Signature";
    public const string TimestampHeader = "X-Portal-Timestamp";
    public const string BatchIdHeader = "X-Portal-Batch-Id";
    public const string IdempotencyHeader = "Idempotency-Key";

    public static string NewSecret() => "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        hmac.AppendData(Encoding.UTF8.GetBytes(timestamp + "."));
        hmac.AppendData(body); // over the body's buffer itself: no copy of the body
        Span<byte> mac = stackalloc byte[32];
        hmac.GetHashAndReset(mac);
        return "sha256=" + Convert.ToHexStringLower(mac);
    }

    /// <summary>Checks a signature in constant time.</summary>
    public static bool Verify(string secret, string timestamp, ReadOnlySpan<byte> body, string? signature) =>
        signature is not null && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(secret, timestamp, body)), Encoding.ASCII.GetBytes(signature));
}

/// <summary>
/// One run of a webhook destination: the audience changes after the destination's cursor (up to the newest at the start)
/// are POSTed as JSON batches of <see cref="Destination.BatchSize"/> changes, each signed (<see cref="WebhookSigner"/>) and
/// carrying its batch id (<c>X-Portal-Batch-Id</c> and <c>Idempotency-Key</c>: the destination and the change range, the same
/// on every attempt and on a re-run). 5xx, 408, 429, network errors and timeouts are retried with exponential backoff
/// (Polly); other 4xx are not. A batch that fails its last attempt goes to the dead-letter list. The cursor moves past a
/// batch in the same transaction that records its acknowledgment (or dead letter), so a run stopped by a crash resends only
/// the unacknowledged batches: a receiver that dedupes by batch id sees every change once.
/// </summary>
public sealed class WebhookSender(CatalogDb db, IHttpClientFactory http, IOptions<WebhookOptions> options, TimeProvider clock, ILogger<WebhookSender> log)
{
    public const string HttpClientName = "portal-webhooks";

    /// <summary>One batch read and serialized, waiting to be sent or in flight.</summary>
    private sealed class Batch(long from, long upTo, string id, int count, int entered, ArrayBufferWriter<byte> body)
    {
        public long From => from;
        public long UpTo => upTo;
        public string Id => id;
        public int Count => count;
        public int Entered => entered;
        public ArrayBufferWriter<byte> Body => body;
        public Task<(bool Ok, int Attempts, int Retries, string? Error)>? Send;
    }

    /// <summary>One change of a batch, with the member's attributes (flat JSON) when the destination sends attributes.</summary>
    private sealed record Row(long Id, string AudienceId, string ProfileId, bool Entered, DateTimeOffset At, string? Attributes);

    public async Task RunAsync(Destination d, JobProgress progress, CancellationToken ct)
    {
        var o = options.Value;
        var started = clock.GetUtcNow();
        var watch = Stopwatch.StartNew();
        var to = await db.Set<AudienceChange>().Where(c => d.SegmentIds.Contains(c.AudienceId)).MaxAsync(c => (long?)c.Id, ct) ?? 0;
        var run = new DestinationRun { DestinationId = d.Id, JobRunId = progress.JobRunId, StartedAt = started, FromChange = d.Cursor, ToChange = Math.Max(to, d.Cursor) };
        await DestinationRuns.MarkInterruptedAsync(db, d.Id, clock, ct);
        db.Add(run);
        await db.SaveChangesAsync(ct);
        long members = 0, entered = 0, exited = 0, bytes = 0, batches = 0, retries = 0, dead = 0;
        string? lastError = null;
        // Sends run on their own token: stopped when the run ends, whatever ends it.
        using var sends = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var inFlight = new Queue<Batch>();
        try
        {
            var names = await db.Set<Audience>().AsNoTracking().Where(a => d.SegmentIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, ct);
            var client = http.CreateClient(HttpClientName);
            var interval = d.RateLimit is { } rate ? TimeSpan.FromSeconds(1 / rate) : TimeSpan.Zero;
            // Batches in flight at once: one for a rate-limited destination (the receiver asked to be spared), else MaxInFlight.
            // The next batch is always read and serialized while the last one is in flight; the cursor still moves in order.
            var window = d.RateLimit is null ? Math.Max(1, o.MaxInFlight) : 1;
            var lastSend = TimeSpan.MinValue;
            var cursor = d.Cursor;
            var free = new Stack<ArrayBufferWriter<byte>>();
            var next = await NextBatchAsync(d, cursor, to, names, free, ct);
            while (next is not null || inFlight.Count > 0)
            {
                if (next is not null && inFlight.Count < window)
                {
                    // Per-destination rate limit: at most RateLimit batches per second.
                    if (interval > TimeSpan.Zero && lastSend != TimeSpan.MinValue)
                    {
                        var wait = lastSend + interval - watch.Elapsed;
                        if (wait > TimeSpan.Zero) await Task.Delay(wait, clock, ct);
                    }
                    lastSend = watch.Elapsed;
                    next.Send = SendAsync(client, d, next.Id, next.Body.WrittenMemory, o, sends.Token);
                    inFlight.Enqueue(next);
                    next = await NextBatchAsync(d, next.UpTo, to, names, free, ct);
                    continue;
                }

                var b = inFlight.Peek();
                var (ok, attempts, retried, error) = await b.Send!.WaitAsync(ct);
                inFlight.Dequeue();
                retries += retried;
                await using var tx = await db.Database.BeginTransactionAsync(ct);
                if (ok)
                {
                    batches++;
                    members += b.Count;
                    entered += b.Entered;
                    exited += b.Count - b.Entered;
                    bytes += b.Body.WrittenCount;
                }
                else
                {
                    dead++;
                    lastError = error;
                    db.Add(new DestinationDeadLetter
                    {
                        DestinationId = d.Id, RunId = run.Id, BatchId = b.Id, FromChange = b.From + 1, ToChange = b.UpTo, Changes = b.Count,
                        Attempts = attempts, Error = error, At = clock.GetUtcNow(),
                    });
                    await db.SaveChangesAsync(ct);
                    log.LogWarning("Webhook batch {BatchId} of destination {DestinationId} dead-lettered after {Attempts} attempts: {Error}", b.Id, d.Id, attempts, error);
                }
                await db.Set<Destination>().Where(x => x.Id == d.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.Cursor, b.UpTo), ct);
                await UpdateRunAsync(run.Id, "running", null, members, entered, exited, bytes, batches, retries, dead, lastError, ct);
                await tx.CommitAsync(ct);
                cursor = b.UpTo;
                b.Body.ResetWrittenCount();
                free.Push(b.Body);
                await progress.ReportAsync(to == run.FromChange ? 1 : (double)(cursor - run.FromChange) / (to - run.FromChange), $"{batches:N0} batches, {members:N0} changes sent", ct: ct);
            }
            var status = dead > 0 ? "partial" : "succeeded";
            await UpdateRunAsync(run.Id, status, clock.GetUtcNow(), members, entered, exited, bytes, batches, retries, dead,
                dead > 0 ? $"{dead} batch(es) dead-lettered; last error: {lastError}" : null, ct);
            await progress.ReportAsync(1, $"{members:N0} changes in {batches:N0} batches, {bytes:N0} bytes, {retries:N0} retries, {dead:N0} dead-lettered in {watch.Elapsed.TotalSeconds:0.0} s", force: true, ct: ct);
        }
        catch (Exception e)
        {
            // Batches still in flight are abandoned (not acknowledged: the cursor is before them, a re-run sends them again).
            await sends.CancelAsync();
            foreach (var b in inFlight)
                try { if (b.Send is not null) await b.Send; }
                catch (Exception) { /* cancelled with the run */ }
            var status = e is OperationCanceledException ? "cancelled" : "failed";
            await UpdateRunAsync(run.Id, status, clock.GetUtcNow(), members, entered, exited, bytes, batches, retries, dead, e.Message, CancellationToken.None);
            if (e is OperationCanceledException) throw;
            throw new JobFailedException("The webhook run failed: " + e.Message);
        }
    }

    /// <summary>The batch after change <paramref name="after"/> (up to <paramref name="to"/>), read and serialized; null when there is none.</summary>
    private async Task<Batch?> NextBatchAsync(Destination d, long after, long to, Dictionary<string, string> names, Stack<ArrayBufferWriter<byte>> free, CancellationToken ct)
    {
        if (after >= to) return null;
        var rows = await RowsAsync(d, after, to, d.BatchSize, ct);
        if (rows.Count == 0) return null;
        var id = $"{d.Id}-{after + 1}-{rows[^1].Id}";
        var body = free.Count > 0 ? free.Pop() : new ArrayBufferWriter<byte>(64 * 1024);
        await WriteBodyAsync(body, d, id, rows, names, ct);
        return new Batch(after, rows[^1].Id, id, rows.Count, rows.Count(r => r.Entered), body);
    }

    /// <summary>The changes of the destination's audiences in (<paramref name="after"/>, <paramref name="to"/>], in id order, at
    /// most <paramref name="take"/>, each with its member's attributes in the same query when the destination sends attributes.</summary>
    private async Task<List<Row>> RowsAsync(Destination d, long after, long to, int take, CancellationToken ct)
    {
        var changes = db.Set<AudienceChange>().AsNoTracking().Where(c => d.SegmentIds.Contains(c.AudienceId) && c.Id > after && c.Id <= to).OrderBy(c => c.Id).Take(take);
        if (d.Attributes.Count == 0)
            return await changes.Select(c => new Row(c.Id, c.AudienceId, c.ProfileId, c.Entered, c.At, null)).ToListAsync(ct);
        return await (from c in changes
                      join p in db.Set<Profile>().AsNoTracking() on c.ProfileId equals p.Id into g
                      from p in g.DefaultIfEmpty()
                      orderby c.Id
                      select new Row(c.Id, c.AudienceId, c.ProfileId, c.Entered, c.At, p == null ? null : p.Attributes)).ToListAsync(ct);
    }

    private Task UpdateRunAsync(string id, string status, DateTimeOffset? finished, long members, long entered, long exited, long bytes, long batches,
        long retries, long dead, string? error, CancellationToken ct) =>
        db.Set<DestinationRun>().Where(r => r.Id == id).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, status).SetProperty(r => r.FinishedAt, finished)
            .SetProperty(r => r.Members, members).SetProperty(r => r.Entered, entered).SetProperty(r => r.Exited, exited).SetProperty(r => r.Bytes, bytes)
            .SetProperty(r => r.Batches, batches).SetProperty(r => r.Retries, retries).SetProperty(r => r.DeadLetters, dead).SetProperty(r => r.Error, error), ct);

    private static bool Retryable(HttpStatusCode code) => (int)code >= 500 || code is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    /// <summary>POSTs one batch through a retry (exponential backoff) and per-attempt timeout pipeline.</summary>
    private async Task<(bool Ok, int Attempts, int Retries, string? Error)> SendAsync(HttpClient client, Destination d, string batchId, ReadOnlyMemory<byte> body, WebhookOptions o, CancellationToken ct)
    {
        var attempts = 0;
        var retried = 0;
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(0, o.MaxAttempts - 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = o.BaseDelay,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>().Handle<HttpRequestException>(e => e.InnerException is not WebhookAddressRefusedException).Handle<TimeoutRejectedException>()
                    .HandleResult(r => Retryable(r.StatusCode)),
                OnRetry = args =>
                {
                    retried++;
                    args.Outcome.Result?.Dispose();
                    return default;
                },
            })
            .AddTimeout(o.AttemptTimeout)
            .Build();
        try
        {
            using var response = await pipeline.ExecuteAsync(async token =>
            {
                attempts++;
                var timestamp = clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                using var request = new HttpRequestMessage(HttpMethod.Post, d.Target) { Content = new ReadOnlyMemoryContent(body) };
                request.Content.Headers.ContentType = new("application/json") { CharSet = "utf-8" };
                request.Headers.Add(WebhookSigner.TimestampHeader, timestamp);
                request.Headers.Add(WebhookSigner.SignatureHeader, WebhookSigner.Sign(d.Secret ?? "", timestamp, body.Span));
                request.Headers.Add(WebhookSigner.BatchIdHeader, batchId);
                request.Headers.Add(WebhookSigner.IdempotencyHeader, batchId);
                request.Headers.Add("X-Portal-Attempt", attempts.ToString(CultureInfo.InvariantCulture));
                return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
            }, ct);
            if (response.IsSuccessStatusCode) return (true, attempts, retried, null);
            return (false, attempts, retried, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException && !ct.IsCancellationRequested)
        {
            return (false, attempts, retried, e is TimeoutRejectedException ? $"timed out after {o.AttemptTimeout.TotalSeconds:0.#} s"
                : e.InnerException is WebhookAddressRefusedException r ? r.Message : e.Message);
        }
    }

    /// <summary>
    /// Sends a dead-lettered batch again (the same change range and batch id) through the same retries. Acknowledged: the dead
    /// letter is removed and the resend is a run of the destination; failed again: the dead letter keeps the new error.
    /// </summary>
    public async Task<DestinationRun> ResendAsync(Destination d, string deadLetterId, CancellationToken ct)
    {
        var dl = await db.Set<DestinationDeadLetter>().FirstOrDefaultAsync(x => x.Id == deadLetterId && x.DestinationId == d.Id, ct)
                 ?? throw CatalogException.NotFound($"No dead-lettered batch {deadLetterId} of destination {d.Id} (it may have been resent).");
        var watch = Stopwatch.StartNew();
        var chunk = await RowsAsync(d, dl.FromChange - 1, dl.ToChange, int.MaxValue, ct);
        if (chunk.Count == 0) throw CatalogException.Conflict("The changes of this batch no longer exist (its audience was deleted or left the destination).");
        var names = await db.Set<Audience>().AsNoTracking().Where(a => d.SegmentIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, ct);
        var buffer = new ArrayBufferWriter<byte>();
        await WriteBodyAsync(buffer, d, dl.BatchId, chunk, names, ct);
        var body = buffer.WrittenMemory;
        var run = new DestinationRun { DestinationId = d.Id, StartedAt = clock.GetUtcNow(), FromChange = dl.FromChange - 1, ToChange = dl.ToChange, File = "resend of " + dl.BatchId };
        var (ok, attempts, retried, error) = await SendAsync(http.CreateClient(HttpClientName), d, dl.BatchId, body, options.Value, ct);
        run.FinishedAt = clock.GetUtcNow();
        run.Retries = retried;
        if (ok)
        {
            var entered = chunk.Count(c => c.Entered);
            (run.Status, run.Batches, run.Members, run.Entered, run.Exited, run.Bytes) = ("succeeded", 1, chunk.Count, entered, chunk.Count - entered, body.Length);
            db.Remove(dl);
        }
        else
        {
            (run.Status, run.DeadLetters, run.Error) = ("failed", 1, error);
            dl.Attempts += attempts;
            dl.Error = error;
            dl.At = clock.GetUtcNow();
        }
        db.Add(run);
        await db.SaveChangesAsync(ct);
        log.LogInformation("Dead-lettered webhook batch {BatchId} of destination {DestinationId} resent: {Status} in {Ms} ms", dl.BatchId, d.Id, run.Status, watch.ElapsedMilliseconds);
        return run;
    }

    /// <summary>The batch's JSON: <c>{ batchId, destinationId, fromChange, toChange, changes: [{ changeId, segmentId, segmentName, profileId, change, at, identities, attributes }] }</c>,
    /// written with a <see cref="Utf8JsonWriter"/> into <paramref name="buffer"/>; attribute values as text (<see cref="MemberValues"/>).</summary>
    private async Task WriteBodyAsync(ArrayBufferWriter<byte> buffer, Destination d, string batchId, List<Row> chunk, Dictionary<string, string> names, CancellationToken ct)
    {
        var namespaces = d.Identities.Distinct().ToList();
        var paths = d.Attributes.Distinct().ToList();
        var idents = new Dictionary<(string, string), string>();
        if (namespaces.Count > 0)
        {
            var ids = chunk.Select(c => c.ProfileId).Distinct().ToList();
            idents = (await db.Set<ProfileIdentity>().AsNoTracking().Where(i => ids.Contains(i.ProfileId) && namespaces.Contains(i.Namespace))
                    .Select(i => new { i.ProfileId, i.Namespace, i.Value, i.FirstSeen }).ToListAsync(ct))
                .GroupBy(i => (i.ProfileId, i.Namespace)).ToDictionary(g => g.Key, g => g.OrderBy(i => i.FirstSeen).First().Value);
        }
        var values = new string?[paths.Count];
        using var w = new Utf8JsonWriter(buffer);
        w.WriteStartObject();
        w.WriteString("batchId", batchId);
        w.WriteString("destinationId", d.Id);
        w.WriteNumber("fromChange", chunk[0].Id);
        w.WriteNumber("toChange", chunk[^1].Id);
        w.WriteStartArray("changes");
        foreach (var c in chunk)
        {
            w.WriteStartObject();
            w.WriteNumber("changeId", c.Id);
            w.WriteString("segmentId", c.AudienceId);
            w.WriteString("segmentName", names.GetValueOrDefault(c.AudienceId));
            w.WriteString("profileId", c.ProfileId);
            w.WriteString("change", c.Entered ? "entered" : "exited");
            w.WriteString("at", c.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            w.WriteStartObject("identities");
            foreach (var n in namespaces) w.WriteString(n, idents.GetValueOrDefault((c.ProfileId, n)));
            w.WriteEndObject();
            w.WriteStartObject("attributes");
            MemberValues.Read(c.Attributes, paths, values);
            for (var i = 0; i < paths.Count; i++) w.WriteString(paths[i], values[i]);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        await w.FlushAsync(ct);
    }
}
