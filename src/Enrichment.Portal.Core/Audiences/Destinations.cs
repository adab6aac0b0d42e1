using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Profiles;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Audiences;

/// <summary>A destination as created through the API.</summary>
public sealed record DestinationRequest(string? Name, string? Type, string? Target, string? Format, string? Mode,
    IReadOnlyList<string>? SegmentIds, IReadOnlyList<string>? Attributes, IReadOnlyList<string>? Identities, string? Cron,
    int? BatchSize = null, double? RateLimit = null)
{
    /// <summary>A change (PATCH) that names <c>rateLimit: null</c> explicitly: the limit is removed (a missing property keeps it).</summary>
    public bool ClearRateLimit { get; init; }
}

/// <summary>
/// Destinations of the current sandbox and their runs. A <c>file</c> destination writes the members of its audiences
/// (<c>full</c>) or the entered / exited changes since its last run (<c>changes</c>) as CSV (formula cells neutralized) or
/// Parquet to <c>&lt;data&gt;/exports/&lt;sandbox&gt;/&lt;target&gt;/</c> or a folder inside the configured export root (<see cref="DestinationOptions.ExportRoot"/>). A <c>webhook</c> destination POSTs signed JSON batches of the changes after its cursor (<see cref="WebhookSender"/>).
/// </summary>
public sealed partial class DestinationService(CatalogDb db, AudienceEvaluator evaluator, JobScheduler jobs, IOptions<PortalOptions> options,
    IOptions<DestinationOptions> destinationOptions, IOptions<WebhookOptions> webhookOptions, TimeProvider clock, AudienceLocks locks)
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")]
    private static partial Regex FolderName();

    /// <summary>The folder of a file destination's target (<see cref="ResolveFolder"/>); a target no longer allowed fails the run.</summary>
    public string ExportFolder(string target) => ResolveFolder(target, out var error) ?? throw new JobFailedException(error!);

    public Task<List<Destination>> ListAsync(CancellationToken ct = default) => db.Set<Destination>().AsNoTracking().OrderBy(d => d.Name).ToListAsync(ct);

    public Task<Destination?> FindAsync(string id, CancellationToken ct = default) => db.Set<Destination>().AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, ct);

    public Task<List<DestinationDeadLetter>> DeadLettersAsync(string id, int limit = 100, CancellationToken ct = default) =>
        db.Set<DestinationDeadLetter>().AsNoTracking().Where(r => r.DestinationId == id).OrderByDescending(r => r.At).Take(Math.Clamp(limit, 1, 1000)).ToListAsync(ct);

    public Task<List<DestinationRun>> RunsAsync(string id, int limit = 50, CancellationToken ct = default) =>
        db.Set<DestinationRun>().AsNoTracking().Where(r => r.DestinationId == id).OrderByDescending(r => r.StartedAt).Take(Math.Clamp(limit, 1, 500)).ToListAsync(ct);
}

/// <summary>
/// Job kind <c>destination-run</c>: one run of a destination (target: its id). The run covers the membership changes up to
/// the newest one at its start; the file is named by that range and written under a temporary name, then renamed, and the
/// destination's cursor moves in the same transaction that marks the run done. A run interrupted by a crash leaves the
/// cursor where it was: the next run writes the same range again (the same file name), so no change is delivered twice.
/// </summary>
public sealed class DestinationRunJob(CatalogDb db, DestinationService service, WebhookSender webhooks, JobProgress progress, TimeProvider clock, AudienceLocks locks) : IPortalJob
{
    public const string Kind = "destination-run";

    public async Task RunAsync(string targetId, CancellationToken ct)
    {
        // Runs of one destination never overlap (a second delivery of a run, a run started while a cut-off one is still ending).
        await using var alone = await locks.AcquireNamedAsync("run/destination/" + targetId, db, ct);
        var d = await db.Set<Destination>().AsNoTracking().FirstOrDefaultAsync(x => x.Id == targetId, ct) ?? throw new JobFailedException($"No destination {targetId}.");
        if (d.Type == DestinationTypes.Webhook) { await webhooks.RunAsync(d, progress, ct); return; }
        var started = clock.GetUtcNow();
        var watch = Stopwatch.StartNew();
        var to = await db.Set<AudienceChange>().Where(c => d.SegmentIds.Contains(c.AudienceId)).MaxAsync(c => (long?)c.Id, ct) ?? 0;
        var run = new DestinationRun { DestinationId = d.Id, JobRunId = progress.JobRunId, StartedAt = started, FromChange = d.Mode == "changes" ? d.Cursor : 0, ToChange = to };
        await DestinationRuns.MarkInterruptedAsync(db, d.Id, clock, ct);
        db.Add(run);
        await db.SaveChangesAsync(ct);
        try
        {
            var folder = service.ExportFolder(d.Target);
            Directory.CreateDirectory(folder);
            var stamp = started.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
            var file = Path.Combine(folder, d.Mode == "changes" ? $"{Safe(d.Name)}-changes-{run.FromChange}-{run.ToChange}.{d.Format}" : $"{Safe(d.Name)}-full-{stamp}.{d.Format}");
            var (rows, entered, exited) = await WriteAsync(d, run, file, ct);
            var bytes = new FileInfo(file).Length;
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var now = clock.GetUtcNow();
            await db.Set<DestinationRun>().Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, "succeeded").SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.Members, rows).SetProperty(r => r.Entered, entered).SetProperty(r => r.Exited, exited).SetProperty(r => r.Bytes, bytes)
                .SetProperty(r => r.File, file), ct);
            if (d.Mode == "changes") await db.Set<Destination>().Where(x => x.Id == d.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.Cursor, to), ct);
            await tx.CommitAsync(ct);
            await progress.ReportAsync(1, $"{rows:N0} rows, {bytes:N0} bytes in {watch.Elapsed.TotalSeconds:0.0} s", force: true, ct: ct);
        }
        catch (Exception e)
        {
            var now = clock.GetUtcNow();
            var status = e is OperationCanceledException ? "cancelled" : "failed";
            await db.Set<DestinationRun>().Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, status).SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.Error, e.Message), CancellationToken.None);
            if (e is OperationCanceledException) throw;
            throw new JobFailedException("The destination run failed: " + e.Message);
        }
    }

    private static string Safe(string name) => new(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());

    /// <summary>Writes the run's rows: CSV directly; Parquet through DuckDB from a temporary all-text CSV.</summary>
    private async Task<(long Rows, long Entered, long Exited)> WriteAsync(Destination d, DestinationRun run, string file, CancellationToken ct)
    {
        var csv = file + ".tmp.csv";
        long rows = 0, entered = 0, exited = 0;
        var names = await db.Set<Audience>().AsNoTracking().Where(a => d.SegmentIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, ct);
        var header = new List<string> { "segmentId", "segmentName", "profileId" };
        header.AddRange(d.Mode == "changes" ? ["change", "at"] : ["since"]);
        header.AddRange(d.Identities.Select(n => "identity." + n));
        header.AddRange(d.Attributes);
        var parquet = d.Format == "parquet";
        await using (var w = new StreamWriter(csv, false, new UTF8Encoding(false)))
        {
            await w.WriteLineAsync(string.Join(",", header.Select(h => Cell(h, parquet))));
            foreach (var segment in d.SegmentIds)
            {
                // Rows of one audience in pages of 2,000 members: the profile values are read per page.
                var page = new List<(string Profile, DateTimeOffset At, bool? Entered)>();
                async Task FlushAsync()
                {
                    if (page.Count == 0) return;
                    var ids = page.Select(p => p.Profile).Distinct().ToList();
                    var attrs = await db.Set<Profile>().AsNoTracking().Where(p => ids.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.Attributes, ct);
                    var idents = (await db.Set<ProfileIdentity>().AsNoTracking().Where(i => ids.Contains(i.ProfileId) && d.Identities.Contains(i.Namespace))
                        .Select(i => new { i.ProfileId, i.Namespace, i.Value, i.FirstSeen }).ToListAsync(ct))
                        .GroupBy(i => (i.ProfileId, i.Namespace)).ToDictionary(g => g.Key, g => g.OrderBy(i => i.FirstSeen).First().Value);
                    foreach (var (profile, at, ent) in page)
                    {
                        var flat = attrs.TryGetValue(profile, out var a) ? ProfileValues.ParseFlat(a) : new Dictionary<string, JsonNode?>();
                        var cells = new List<string?> { segment, names.GetValueOrDefault(segment), profile };
                        if (ent is { } e) { cells.Add(e ? "entered" : "exited"); if (e) entered++; else exited++; }
                        cells.Add(at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                        cells.AddRange(d.Identities.Select(n => idents.GetValueOrDefault((profile, n))));
                        cells.AddRange(d.Attributes.Select(p => Value(flat, p)));
                        await w.WriteLineAsync(string.Join(",", cells.Select(c => Cell(c, parquet))));
                        rows++;
                    }
                    page.Clear();
                }
                if (d.Mode == "changes")
                {
                    var after = run.FromChange;
                    while (true)
                    {
                        var chunk = await db.Set<AudienceChange>().AsNoTracking().Where(c => c.AudienceId == segment && c.Id > after && c.Id <= run.ToChange)
                            .OrderBy(c => c.Id).Take(2000).Select(c => new { c.Id, c.ProfileId, c.At, c.Entered }).ToListAsync(ct);
                        if (chunk.Count == 0) break;
                        page.AddRange(chunk.Select(c => (c.ProfileId, c.At, (bool?)c.Entered)));
                        after = chunk[^1].Id;
                        await FlushAsync();
                    }
                }
                else
                {
                    var after = "";
                    while (true)
                    {
                        var chunk = await db.Set<AudienceMember>().AsNoTracking().Where(m => m.AudienceId == segment && string.Compare(m.ProfileId, after) > 0)
                            .OrderBy(m => m.ProfileId).Take(2000).Select(m => new { m.ProfileId, m.Since }).ToListAsync(ct);
                        if (chunk.Count == 0) break;
                        page.AddRange(chunk.Select(m => (m.ProfileId, m.Since, (bool?)null)));
                        after = chunk[^1].ProfileId;
                        await FlushAsync();
                    }
                }
                await progress.ReportAsync(0.5, $"{rows:N0} rows written", ct: ct);
            }
        }
        var tmp = file + ".tmp";
        if (parquet)
        {
            using var c = new DuckDBConnection("Data Source=:memory:");
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"COPY (SELECT * FROM read_csv('{csv.Replace("'", "''")}', header=true, all_varchar=true)) TO '{tmp.Replace("'", "''")}' (FORMAT parquet)";
            cmd.ExecuteNonQuery();
            File.Delete(csv);
        }
        else File.Move(csv, tmp, overwrite: true);
        File.Move(tmp, file, overwrite: true);
        return (rows, entered, exited);
    }

    /// <summary>An attribute's value as text: <c>insights.&lt;model&gt;.&lt;field&gt;</c> reads a field of the insight object.</summary>
    internal static string? Value(Dictionary<string, JsonNode?> flat, string path)
    {
        JsonNode? node;
        if (!flat.TryGetValue(path, out node) && path.StartsWith("insights.", StringComparison.Ordinal))
        {
            var dot = path.IndexOf('.', "insights.".Length);
            if (dot > 0 && flat.TryGetValue(path[..dot], out var o) && o is JsonObject obj) node = obj[path[(dot + 1)..]];
        }
        return node switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            _ => node.ToJsonString(),
        };
    }

    /// <summary>A CSV cell (RFC 4180 quoting); for people's CSV files, formula-looking text is neutralized.</summary>
    private static string Cell(string? value, bool forParquet)
    {
        if (value is null) return "";
        var v = forParquet ? value : CsvSafety.Neutralize(value);
        return v.IndexOfAny([',', '"', '\n', '\r']) >= 0 || v.Length == 0 ? "\"" + v.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : v;
    }
}
