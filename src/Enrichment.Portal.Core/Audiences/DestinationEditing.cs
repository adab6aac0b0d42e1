using Cronos;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Audiences;

/// <summary>Settings of destinations (configuration section <c>Destinations</c>).</summary>
public sealed class DestinationOptions
{
    /// <summary>
    /// A folder outside the data directory file destinations may write to (for example a share an email tool reads). A file
    /// destination's target is then either a folder name (under <c>&lt;data&gt;/exports/&lt;sandbox&gt;/</c>) or an absolute path inside
    /// this root; a path that leaves it (<c>..</c>, a symbolic link) is refused. Null: only the data directory's exports.
    /// </summary>
    public string? ExportRoot { get; set; }
    /// <summary>Seconds between checks of destination schedules (default 10).</summary>
    public double ScheduleCheckSeconds { get; set; } = 10;
}

/// <summary>Creating and changing destinations: validation (422 naming the field), the schedule, the export folder.</summary>
public sealed partial class DestinationService
{
    /// <summary>Job states in which a destination's run is still to finish: a second run is refused meanwhile (no batch is sent twice).</summary>
    private static readonly string[] Unfinished = [JobStatus.Queued, JobStatus.Running];

    public async Task<Destination> CreateAsync(DestinationRequest r, string? actor, CancellationToken ct = default)
    {
        var d = new Destination { CreatedBy = actor, CreatedAt = clock.GetUtcNow() };
        await ApplyAsync(d, r, creating: true, ct);
        if (d.Type == DestinationTypes.Webhook) d.Secret = WebhookSigner.NewSecret();
        db.Add(d);
        db.Add(new Audit.AuditEntry { Actor = actor ?? "system", Action = "destination.create", Target = d.Id, Detail = $"{d.Type} {d.Name}" });
        await db.SaveChangesAsync(ct);
        return d;
    }

    /// <summary>Changes a destination; the type cannot change, the webhook secret stays, the cursor stays.</summary>
    public async Task<Destination> UpdateAsync(string id, DestinationRequest r, string? actor, CancellationToken ct = default)
    {
        var d = await db.Set<Destination>().FirstOrDefaultAsync(x => x.Id == id, ct) ?? throw CatalogException.NotFound($"No destination {id} in this sandbox.");
        if (r.Type is not null && r.Type != d.Type)
            throw CatalogException.Rule("The type of a destination cannot change: create another one.", new Dictionary<string, string[]> { ["type"] = ["The type of a destination cannot change."] });
        var merged = new DestinationRequest(r.Name ?? d.Name, d.Type, r.Target ?? d.Target, r.Format ?? d.Format, r.Mode ?? d.Mode,
            r.SegmentIds ?? d.SegmentIds, r.Attributes ?? d.Attributes, r.Identities ?? d.Identities, r.Cron ?? d.Cron ?? "",
            r.BatchSize ?? (d.Type == DestinationTypes.Webhook ? d.BatchSize : null), r.ClearRateLimit ? null : r.RateLimit ?? d.RateLimit);
        await ApplyAsync(d, merged, creating: false, ct);
        db.Add(new Audit.AuditEntry { Actor = actor ?? "system", Action = "destination.update", Target = d.Id, Detail = d.Name });
        await db.SaveChangesAsync(ct);
        return d;
    }

    public async Task DeleteAsync(string id, string? actor, CancellationToken ct = default)
    {
        var d = await db.Set<Destination>().FirstOrDefaultAsync(x => x.Id == id, ct) ?? throw CatalogException.NotFound($"No destination {id} in this sandbox.");
        if (await RunInProgressAsync(id, ct)) throw CatalogException.Conflict("The destination is running: cancel its job or wait for it to finish.");
        await db.Set<DestinationDeadLetter>().Where(x => x.DestinationId == id).ExecuteDeleteAsync(ct);
        await db.Set<DestinationRun>().Where(x => x.DestinationId == id).ExecuteDeleteAsync(ct);
        db.Remove(d);
        db.Add(new Audit.AuditEntry { Actor = actor ?? "system", Action = "destination.delete", Target = d.Id, Detail = d.Name });
        await db.SaveChangesAsync(ct);
    }

    public async Task<JobRun> RunAsync(string id, string? actor, CancellationToken ct = default)
    {
        if (await FindAsync(id, ct) is null) throw CatalogException.NotFound($"No destination {id} in this sandbox.");
        // The check and the enqueue under one lock (in-process and, on PostgreSQL, across processes): of concurrent requests one
        // starts a run, the others see it and get the 409.
        await using var gate = await locks.AcquireNamedAsync("start/destination/" + id, db, ct);
        if (await RunInProgressAsync(id, ct)) throw CatalogException.Conflict("A run of this destination is queued or running: wait for it to finish (GET /api/v1/jobs).");
        return await jobs.EnqueueAsync(DestinationRunJob.Kind, id, actor, ct);
    }

    public Task<bool> RunInProgressAsync(string id, CancellationToken ct = default) =>
        db.Set<JobRun>().AnyAsync(j => j.Kind == DestinationRunJob.Kind && j.TargetId == id && Unfinished.Contains(j.Status), ct);

    /// <summary>
    /// The folder a file destination writes to: a folder name under <c>&lt;data&gt;/exports/&lt;sandbox&gt;/</c>, or an absolute path inside
    /// <see cref="DestinationOptions.ExportRoot"/>. Null and the reason when the target is neither (also re-checked at each run,
    /// as the settings may have changed).
    /// </summary>
    public string? ResolveFolder(string target, out string? error)
    {
        error = null;
        if (FolderName().IsMatch(target)) return Path.Combine(options.Value.FullDataDirectory, "exports", db.Sandbox.Require(), target);
        var root = destinationOptions.Value.ExportRoot;
        if (!Path.IsPathFullyQualified(target))
        {
            error = "target is the export folder's name (letters, digits, '-' and '_', created under the data directory's exports)"
                    + (string.IsNullOrWhiteSpace(root) ? "." : $" or an absolute folder inside the export root {Path.GetFullPath(root)}.");
            return null;
        }
        if (string.IsNullOrWhiteSpace(root))
        {
            error = "An absolute folder needs an export root: set Destinations:ExportRoot, or give a folder name (under the data directory's exports).";
            return null;
        }
        var fullRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var full = Path.GetFullPath(target);
        if (!full.StartsWith(fullRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal) && full != fullRoot)
        {
            error = $"The folder {full} is outside the export root {fullRoot}.";
            return null;
        }
        // No step of the path below the root may be a symbolic link (it could lead out of the root).
        for (var p = full; p.Length > fullRoot.Length; p = Path.GetDirectoryName(p)!)
            if (new DirectoryInfo(p) is { Exists: true, LinkTarget: not null })
            {
                error = $"The folder {p} is a symbolic link: it may lead outside the export root {fullRoot}.";
                return null;
            }
        return full;
    }

    /// <summary>Parses a cron expression (5 fields, or 6 with seconds first; UTC); null and a message for people when invalid.</summary>
    public static CronExpression? ParseCron(string text, out string? error)
    {
        error = null;
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (fields is not (5 or 6))
        {
            error = $"cron has 5 fields (minute hour day-of-month month day-of-week, UTC) or 6 with seconds first; '{text}' has {fields}.";
            return null;
        }
        try { return CronExpression.Parse(text, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard); }
        catch (CronFormatException e) { error = $"'{text}' is not a valid cron expression: {e.Message}"; return null; }
    }

    /// <summary>The next firing of a cron strictly after <paramref name="after"/> (UTC), or null.</summary>
    public static DateTimeOffset? NextOccurrence(string cron, DateTimeOffset after) =>
        ParseCron(cron, out _)?.GetNextOccurrence(after.UtcDateTime, TimeZoneInfo.Utc) is { } n ? new DateTimeOffset(DateTime.SpecifyKind(n, DateTimeKind.Utc)) : null;

    private async Task ApplyAsync(Destination d, DestinationRequest r, bool creating, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var name = r.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200) errors["name"] = ["A destination needs a name of 1 to 200 characters."];
        var type = r.Type ?? DestinationTypes.File;
        if (type != DestinationTypes.File && type != DestinationTypes.Webhook) errors["type"] = ["type is 'file' or 'webhook'."];
        if (errors.Count > 0) throw new CatalogException(CatalogErrorKind.Invalid, errors.First().Value[0], errors);
        var target = r.Target?.Trim() ?? "";
        var webhook = type == DestinationTypes.Webhook;
        string format, mode;
        if (webhook)
        {
            if (WebhookAddressGuard.UrlRefusal(target, webhookOptions.Value.AllowPrivateNetworks) is { } why) errors["target"] = [why];
            format = r.Format ?? "json";
            if (format != "json") errors["format"] = ["A webhook sends JSON batches: format is 'json'."];
            mode = r.Mode ?? "changes";
            if (mode != "changes") errors["mode"] = ["A webhook sends the changes (entered / exited) after its cursor: mode is 'changes'."];
            if (r.BatchSize is < 1 or > 10_000) errors["batchSize"] = ["batchSize is 1 to 10,000 changes per batch."];
            if (r.RateLimit is { } rl && (double.IsNaN(rl) || rl <= 0 || rl > 1000)) errors["rateLimit"] = ["rateLimit is a number of batches per second above 0 and at most 1,000."];
        }
        else
        {
            if (ResolveFolder(target, out var why) is null) errors["target"] = [why!];
            format = r.Format ?? "csv";
            if (format is not ("csv" or "parquet")) errors["format"] = ["format is 'csv' or 'parquet'."];
            mode = r.Mode ?? "full";
            if (mode is not ("full" or "changes")) errors["mode"] = ["mode is 'full' (every member) or 'changes' (entered / exited since the last run)."];
            if (r.BatchSize is not null) errors["batchSize"] = ["batchSize is for webhook destinations."];
            if (r.RateLimit is not null) errors["rateLimit"] = ["rateLimit is for webhook destinations."];
        }
        var segments = r.SegmentIds?.Distinct().ToList() ?? [];
        if (segments.Count == 0) errors["segmentIds"] = ["Name at least one audience."];
        var known = await db.Set<Audience>().Where(a => segments.Contains(a.Id)).Select(a => a.Id).ToListAsync(ct);
        foreach (var s in segments.Except(known)) errors["segmentIds"] = [$"No audience {s} in this sandbox."];
        var catalog = await evaluator.CatalogAsync(ct);
        var attributes = r.Attributes?.Distinct().ToList() ?? [];
        for (var i = 0; i < attributes.Count; i++)
        {
            var a = attributes[i];
            var ok = catalog.Attributes.ContainsKey(a) || catalog.Maps.Keys.Any(m => a.StartsWith(m + ".", StringComparison.Ordinal))
                     || (a.StartsWith("insights.", StringComparison.Ordinal) && catalog.InsightModels.Contains(a["insights.".Length..].Split('.')[0]));
            if (!ok) errors[$"attributes[{i}]"] = [$"Unknown attribute '{a}'."];
        }
        var identities = r.Identities?.Distinct(StringComparer.OrdinalIgnoreCase).ToList() ?? [];
        for (var i = 0; i < identities.Count; i++)
            if (!catalog.Namespaces.Contains(identities[i])) errors[$"identities[{i}]"] = [$"Unknown identity namespace '{identities[i]}'."];
        var cron = string.IsNullOrWhiteSpace(r.Cron) ? null : r.Cron.Trim();
        DateTimeOffset? next = null;
        if (cron is not null)
        {
            if (ParseCron(cron, out var cronError) is null) errors["cron"] = [cronError!];
            else if ((next = NextOccurrence(cron, clock.GetUtcNow())) is null) errors["cron"] = [$"The cron expression '{cron}' never fires."];
        }
        if (errors.Count > 0) throw CatalogException.Rule("The destination is not valid: " + errors.First().Value[0], errors);
        if (await db.Set<Destination>().AnyAsync(x => x.Name == name && x.Id != d.Id, ct)) throw CatalogException.Conflict($"A destination named '{name}' already exists in this sandbox.");
        d.Name = name!;
        d.Type = type;
        d.Target = target;
        d.Format = format;
        if (!creating && d.Mode != mode) d.Cursor = 0;
        d.Mode = mode;
        d.SegmentIds = segments;
        d.Attributes = attributes;
        d.Identities = identities.Select(n => catalog.Namespaces.First(c => string.Equals(c, n, StringComparison.OrdinalIgnoreCase))).ToList();
        if (d.Cron != cron || creating) d.NextRunAt = next;
        d.Cron = cron;
        d.BatchSize = r.BatchSize ?? 500;
        d.RateLimit = webhook ? r.RateLimit : null;
    }
}
