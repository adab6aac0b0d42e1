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
        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        var data = new byte[prefix.Length + body.Length];
        prefix.CopyTo(data, 0);
        body.CopyTo(data.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), data));
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
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

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
        try
        {
            var names = await db.Set<Audience>().AsNoTracking().Where(a => d.SegmentIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, ct);
            var client = http.CreateClient(HttpClientName);
            var interval = d.RateLimit is { } rate ? TimeSpan.FromSeconds(1 / rate) : TimeSpan.Zero;
            var lastSend = TimeSpan.MinValue;
            var cursor = d.Cursor;
            while (cursor < to)
            {
                var chunk = await db.Set<AudienceChange>().AsNoTracking().Where(c => d.SegmentIds.Contains(c.AudienceId) && c.Id > cursor && c.Id <= to)
                    .OrderBy(c => c.Id).Take(d.BatchSize).ToListAsync(ct);
                if (chunk.Count == 0) break;
                var from = cursor;
                var upTo = chunk[^1].Id;
                var batchId = $"{d.Id}-{from + 1}-{upTo}";
                var body = await BodyAsync(d, batchId, chunk, names, ct);

                // Per-destination rate limit: at most RateLimit batches per second.
                if (interval > TimeSpan.Zero && lastSend != TimeSpan.MinValue)
                {
                    var wait = lastSend + interval - watch.Elapsed;
                    if (wait > TimeSpan.Zero) await Task.Delay(wait, clock, ct);
                }
                lastSend = watch.Elapsed;

                var (ok, attempts, retried, error) = await SendAsync(client, d, batchId, body, o, ct);
                retries += retried;
                var batchEntered = chunk.Count(c => c.Entered);
                await using var tx = await db.Database.BeginTransactionAsync(ct);
                if (ok)
                {
                    batches++;
                    members += chunk.Count;
                    entered += batchEntered;
                    exited += chunk.Count - batchEntered;
                    bytes += body.Length;
                }
                else
                {
                    dead++;
                    lastError = error;
                    db.Add(new DestinationDeadLetter
                    {
                        DestinationId = d.Id, RunId = run.Id, BatchId = batchId, FromChange = from + 1, ToChange = upTo, Changes = chunk.Count,
                        Attempts = attempts, Error = error, At = clock.GetUtcNow(),
                    });
                    await db.SaveChangesAsync(ct);
                    log.LogWarning("Webhook batch {BatchId} of destination {DestinationId} dead-lettered after {Attempts} attempts: {Error}", batchId, d.Id, attempts, error);
                }
                await db.Set<Destination>().Where(x => x.Id == d.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.Cursor, upTo), ct);
                await UpdateRunAsync(run.Id, "running", null, members, entered, exited, bytes, batches, retries, dead, lastError, ct);
                await tx.CommitAsync(ct);
                cursor = upTo;
                await progress.ReportAsync(to == run.FromChange ? 1 : (double)(cursor - run.FromChange) / (to - run.FromChange), $"{batches:N0} batches, {members:N0} changes sent", ct: ct);
            }
            var status = dead > 0 ? "partial" : "succeeded";
            await UpdateRunAsync(run.Id, status, clock.GetUtcNow(), members, entered, exited, bytes, batches, retries, dead,
                dead > 0 ? $"{dead} batch(es) dead-lettered; last error: {lastError}" : null, ct);
            await progress.ReportAsync(1, $"{members:N0} changes in {batches:N0} batches, {bytes:N0} bytes, {retries:N0} retries, {dead:N0} dead-lettered in {watch.Elapsed.TotalSeconds:0.0} s", force: true, ct: ct);
        }
        catch (Exception e)
        {
            var status = e is OperationCanceledException ? "cancelled" : "failed";
            await UpdateRunAsync(run.Id, status, clock.GetUtcNow(), members, entered, exited, bytes, batches, retries, dead, e.Message, CancellationToken.None);
            if (e is OperationCanceledException) throw;
            throw new JobFailedException("The webhook run failed: " + e.Message);
        }
    }

    private Task UpdateRunAsync(string id, string status, DateTimeOffset? finished, long members, long entered, long exited, long bytes, long batches,
        long retries, long dead, string? error, CancellationToken ct) =>
        db.Set<DestinationRun>().Where(r => r.Id == id).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, status).SetProperty(r => r.FinishedAt, finished)
            .SetProperty(r => r.Members, members).SetProperty(r => r.Entered, entered).SetProperty(r => r.Exited, exited).SetProperty(r => r.Bytes, bytes)
            .SetProperty(r => r.Batches, batches).SetProperty(r => r.Retries, retries).SetProperty(r => r.DeadLetters, dead).SetProperty(r => r.Error, error), ct);

    private static bool Retryable(HttpStatusCode code) => (int)code >= 500 || code is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    /// <summary>POSTs one batch through a retry (exponential backoff) and per-attempt timeout pipeline.</summary>
    private async Task<(bool Ok, int Attempts, int Retries, string? Error)> SendAsync(HttpClient client, Destination d, string batchId, byte[] body, WebhookOptions o, CancellationToken ct)
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
                using var request = new HttpRequestMessage(HttpMethod.Post, d.Target) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new("application/json") { CharSet = "utf-8" };
                request.Headers.Add(WebhookSigner.TimestampHeader, timestamp);
                request.Headers.Add(WebhookSigner.SignatureHeader, WebhookSigner.Sign(d.Secret ?? "", timestamp, body));
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
        var chunk = await db.Set<AudienceChange>().AsNoTracking().Where(c => d.SegmentIds.Contains(c.AudienceId) && c.Id >= dl.FromChange && c.Id <= dl.ToChange)
            .OrderBy(c => c.Id).ToListAsync(ct);
        if (chunk.Count == 0) throw CatalogException.Conflict("The changes of this batch no longer exist (its audience was deleted or left the destination).");
        var names = await db.Set<Audience>().AsNoTracking().Where(a => d.SegmentIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, ct);
        var body = await BodyAsync(d, dl.BatchId, chunk, names, ct);
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

    /// <summary>The batch's JSON: <c>{ batchId, destinationId, changes: [{ changeId, segmentId, segmentName, profileId, change, at, identities, attributes }] }</c>.</summary>
    private async Task<byte[]> BodyAsync(Destination d, string batchId, List<AudienceChange> chunk, Dictionary<string, string> names, CancellationToken ct)
    {
        var ids = chunk.Select(c => c.ProfileId).Distinct().ToList();
        var attrs = d.Attributes.Count == 0 ? [] : await db.Set<Profile>().AsNoTracking().Where(p => ids.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.Attributes, ct);
        var idents = d.Identities.Count == 0 ? [] : (await db.Set<ProfileIdentity>().AsNoTracking().Where(i => ids.Contains(i.ProfileId) && d.Identities.Contains(i.Namespace))
            .Select(i => new { i.ProfileId, i.Namespace, i.Value, i.FirstSeen }).ToListAsync(ct))
            .GroupBy(i => (i.ProfileId, i.Namespace)).ToDictionary(g => g.Key, g => g.OrderBy(i => i.FirstSeen).First().Value);
        var changes = new JsonArray();
        foreach (var c in chunk)
        {
            var flat = attrs.TryGetValue(c.ProfileId, out var a) ? ProfileValues.ParseFlat(a) : new Dictionary<string, JsonNode?>();
            var identities = new JsonObject();
            foreach (var n in d.Identities) identities[n] = idents.GetValueOrDefault((c.ProfileId, n));
            var attributes = new JsonObject();
            foreach (var p in d.Attributes) attributes[p] = DestinationRunJob.Value(flat, p);
            changes.Add(new JsonObject
            {
                ["changeId"] = c.Id, ["segmentId"] = c.AudienceId, ["segmentName"] = names.GetValueOrDefault(c.AudienceId), ["profileId"] = c.ProfileId,
                ["change"] = c.Entered ? "entered" : "exited", ["at"] = c.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                ["identities"] = identities, ["attributes"] = attributes,
            });
        }
        var doc = new JsonObject { ["batchId"] = batchId, ["destinationId"] = d.Id, ["fromChange"] = chunk[0].Id, ["toChange"] = chunk[^1].Id, ["changes"] = changes };
        return JsonSerializer.SerializeToUtf8Bytes(doc, Json);
    }
}
