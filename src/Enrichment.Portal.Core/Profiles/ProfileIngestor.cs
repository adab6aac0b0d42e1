using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.ProfileStore;
using Enrichment.Portal.Core.Schemas;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>
/// Runs the identity and profile stages of a profile-enabled dataset: streams the records of a batch (Parquet, read with
/// DuckDB) or a few streamed records, has the <see cref="IdentityStitcher"/> link their identities into the graph, writes fragments (profile datasets) or
/// events (event datasets) and updates the materialized merged profiles of the default merge policy. Works in chunks,
/// one transaction each, with bulk statements and a per-chunk identity cache. Idempotent: re-running a batch changes
/// nothing. Chunks of one sandbox run one at a time (<see cref="ProfileStoreLocks"/>): pass the process's shared
/// instance, or ingestors of the same sandbox running at once may race on new identities (null: a private lock).
/// </summary>
public sealed partial class ProfileIngestor(CatalogDb db, IdentityStitcher stitcher, ProfileStoreOptions options, ProfileStoreLocks locks)
{
    /// <summary>Outside DI (tests, benchmarks): a stitcher of these options and, without <paramref name="locks"/>, a private lock.</summary>
    public ProfileIngestor(CatalogDb db, ProfileStoreOptions? options = null, ProfileStoreLocks? locks = null)
        : this(db, new IdentityStitcher(options ?? new ProfileStoreOptions()), options ?? new ProfileStoreOptions(), locks ?? new ProfileStoreLocks()) { }

    internal const char KeySep = IdentityStitcher.KeySep;

    /// <summary>Applies one accepted batch (its Parquet files) to the identity graph and the profile store.</summary>
    public async Task<ProfileIngestResult> ApplyBatchAsync(ProfileBatch batch, IProgress<ProfileIngestProgress>? progress = null, CancellationToken ct = default)
    {
        var run = await StartAsync(batch.SandboxId, batch.DatasetId, batch.BatchId, batch.Schema, batch.Namespaces, batch.BatchTime, ct);
        try
        {
            using var duck = new DuckDBConnection("DataSource=:memory:");
            await duck.OpenAsync(ct);
            var chunk = new List<ProfileRecord>(options.ChunkSize);
            for (var fileIndex = 0; fileIndex < batch.ParquetFiles.Count; fileIndex++)
            {
                await using var cmd = duck.CreateCommand();
                cmd.CommandText = $"SELECT * FROM read_parquet('{batch.ParquetFiles[fileIndex].Replace("'", "''", StringComparison.Ordinal)}')";
                run.Identity.Start();
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                var columns = new ColumnMap[reader.FieldCount];
                for (var i = 0; i < columns.Length; i++) columns[i] = run.Column(reader.GetName(i));
                var values = new object?[columns.Length];
                long row = 0;
                while (await reader.ReadAsync(ct))
                {
                    for (var i = 0; i < values.Length; i++)
                        values[i] = columns[i].Field is null || reader.IsDBNull(i) ? null : reader.GetValue(i);
                    chunk.Add(run.ToRecord(columns, values, ((long)fileIndex << 40) | row++));
                    if (chunk.Count >= options.ChunkSize)
                    {
                        run.Identity.Stop();
                        await ProcessChunkAsync(run, chunk, ct);
                        chunk.Clear();
                        progress?.Report(new ProfileIngestProgress(run.Records, run.ProfilesCreated));
                        run.Identity.Start();
                    }
                }
                run.Identity.Stop();
            }
            if (chunk.Count > 0) await ProcessChunkAsync(run, chunk, ct);
            progress?.Report(new ProfileIngestProgress(run.Records, run.ProfilesCreated));
            return run.Result();
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Applies a few streamed records (values by dotted path); events are keyed by a hash of their content.</summary>
    public async Task<ProfileIngestResult> ApplyRecordsAsync(ProfileRecordBatch batch, CancellationToken ct = default)
    {
        var run = await StartAsync(batch.SandboxId, batch.DatasetId, batch.BatchId, batch.Schema, batch.Namespaces, batch.ReceivedAt, ct);
        try
        {
            var fields = batch.Schema.Fields;
            var columns = fields.Select(f => run.Column(f.Path)).ToArray();
            var chunk = new List<ProfileRecord>();
            foreach (var rec in batch.Records)
            {
                run.Identity.Start();
                var values = new object?[fields.Count];
                for (var i = 0; i < fields.Count; i++) values[i] = rec.TryGetValue(fields[i].Path, out var v) ? v : null;
                chunk.Add(run.ToRecord(columns, values, ContentHash(rec)));
                run.Identity.Stop();
                if (chunk.Count >= options.ChunkSize) { await ProcessChunkAsync(run, chunk, ct); chunk.Clear(); }
            }
            if (chunk.Count > 0) await ProcessChunkAsync(run, chunk, ct);
            return run.Result();
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Recomputes the materialized merged attributes of every profile of the sandbox with its default policy
    /// (after the default policy changed). Returns the number of profiles whose attributes changed.</summary>
    public async Task<long> RematerializeAsync(string sandboxId, CancellationToken ct = default)
    {
        var policy = await new MergePolicyService(db).GetDefaultAsync(sandboxId, ct);
        var sql = await ProfileSql.OpenAsync(db, ct);
        try
        {
            long changed = 0;
            var last = "";
            while (true)
            {
                var ids = new List<string>();
                await using (var cmd = sql.Command("SELECT id FROM profiles WHERE sandbox_id=@p0 AND id>@p1 ORDER BY id LIMIT 2000", sandboxId, last))
                await using (var r = await cmd.ExecuteReaderAsync(ct))
                    while (await r.ReadAsync(ct)) ids.Add(r.GetString(0));
                if (ids.Count == 0) break;
                last = ids[^1];
                changed += await RematerializeChunkAsync(sql, sandboxId, ids, policy, ct);
            }
            return changed;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Recomputes the materialized merged attributes of the given profiles (after some of their fragments were removed).
    /// Returns the number of profiles whose attributes changed.</summary>
    public async Task<long> RematerializeProfilesAsync(string sandboxId, IReadOnlyList<string> profileIds, CancellationToken ct = default)
    {
        var policy = await new MergePolicyService(db).GetDefaultAsync(sandboxId, ct);
        var sql = await ProfileSql.OpenAsync(db, ct);
        try
        {
            long changed = 0;
            foreach (var ids in profileIds.Distinct(StringComparer.Ordinal).Chunk(2000))
            {
                changed += await RematerializeChunkAsync(sql, sandboxId, ids, policy, ct);
            }
            return changed;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Re-merges one chunk of profiles in its own locked transaction; returns how many changed.</summary>
    private async Task<int> RematerializeChunkAsync(ProfileSql sql, string sandboxId, IReadOnlyList<string> ids, MergePolicy policy, CancellationToken ct)
    {
        using var held = await locks.AcquireAsync(sandboxId, ct);
        await using var tx = await BeginLockedAsync(sql, sandboxId, ct);
        var frags = await LoadFragmentsAsync(sql, sandboxId, ids, ct);
        var changed = (await MaterializeAsync(sql, sandboxId, ids, frags, policy, DateTimeOffset.UtcNow, ct)).Count;
        await tx.CommitAsync(ct);
        sql.Transaction = null;
        return changed;
    }

    private async Task<Run> StartAsync(string sandboxId, string datasetId, string batchId, SchemaDefinition schema,
        Func<string, NamespaceInfo?>? namespaces, DateTimeOffset batchTime, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(sandboxId);
        ArgumentException.ThrowIfNullOrEmpty(datasetId);
        var policy = await new MergePolicyService(db).GetDefaultAsync(sandboxId, ct);
        var sql = await ProfileSql.OpenAsync(db, ct);
        return new Run(sql, sandboxId, datasetId, batchId, schema, namespaces, batchTime, policy);
    }

    private static long ContentHash(IReadOnlyDictionary<string, object?> rec)
    {
        var o = new JsonObject();
        foreach (var (k, v) in rec.OrderBy(kv => kv.Key, StringComparer.Ordinal)) o[k] = ProfileValues.ToJson(v);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(o.ToJsonString()));
        return BitConverter.ToInt64(hash, 0) & long.MaxValue;
    }

    // ---------------------------------------------------------------- chunk processing

    /// <summary>Begins a chunk transaction (as <see cref="ProfileSql.Transaction"/>); on PostgreSQL it first takes the
    /// sandbox's transaction-level advisory lock, which serializes the chunks of every process sharing the catalog.
    /// The caller holds the in-process lock of the sandbox.</summary>
    internal static async Task<System.Data.Common.DbTransaction> BeginLockedAsync(ProfileSql sql, string sandboxId, CancellationToken ct)
    {
        var tx = await sql.Connection.BeginTransactionAsync(ct);
        sql.Transaction = tx;
        if (!sql.IsSqlite) await sql.ExecAsync("SELECT pg_advisory_xact_lock(@p0)", ct, ProfileStoreLocks.AdvisoryKey(sandboxId));
        return tx;
    }

    private async Task ProcessChunkAsync(Run run, List<ProfileRecord> records, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var sql = run.Sql;
        run.Identity.Start();
        using var held = await locks.AcquireAsync(run.SandboxId, ct);
        await using var tx = await BeginLockedAsync(sql, run.SandboxId, ct);
        try
        {
            var recompute = await stitcher.StitchAsync(run, records, ct);
            run.Identity.Stop();
            run.Profile.Start();
            await ProfileStageAsync(run, records, recompute, ct);
            var t0 = Stopwatch.GetTimestamp();
            await tx.CommitAsync(ct);
            run.Part("commit", t0);
            run.Profile.Stop();
            run.EndChunk();
        }
        finally
        {
            sql.Transaction = null;
            run.Identity.Stop();
            run.Profile.Stop();
        }
    }

    private async Task ProfileStageAsync(Run run, List<ProfileRecord> records, HashSet<string> recompute, CancellationToken ct)
    {
        var sql = run.Sql;
        var sandbox = run.SandboxId;
        if (run.Schema.Class == SchemaClass.Event)
        {
            await using var events = sql.Bulk("profile_events", ["sandbox_id", "profile_id", "dataset_id", "batch_id", "row_number", "timestamp", "event_type", "fields"],
                "ON CONFLICT (sandbox_id, dataset_id, batch_id, row_number) DO NOTHING");
            foreach (var rec in records)
                if (rec.ProfileId is not null)
                    await events.AddAsync(ct, sandbox, rec.ProfileId, run.DatasetId, run.BatchId, rec.RowNumber, sql.Time(rec.Time), rec.EventType ?? "", rec.Fields ?? "{}");
            await events.FlushAsync(ct);
            run.Events += events.Affected;
        }
        // Profiles whose merged attributes are recomputed from all their fragments: the merge survivors of the identity stage.
        // The other profiles of the chunk's records are patched: only this dataset's units change, so only this dataset's
        // fragments are loaded and its merged values written into the stored profile (see PatchAsync), unless another
        // dataset currently provides one of them, in which case the profile is re-merged in full after all.
        var patch = new List<string>();
        if (run.Schema.Class == SchemaClass.Profile)
        {
            var seen = new HashSet<string>(recompute, StringComparer.Ordinal);
            foreach (var rec in records) if (rec.ProfileId is not null && rec.Units is not null && seen.Add(rec.ProfileId)) patch.Add(rec.ProfileId);
        }
        if (recompute.Count == 0 && patch.Count == 0) return;

        var ids = recompute.ToList();
        var t0 = Stopwatch.GetTimestamp();
        var frags = ids.Count > 0 ? await LoadFragmentsAsync(sql, sandbox, ids, ct) : new(StringComparer.Ordinal);
        if (patch.Count > 0)
            foreach (var (pid, list) in await LoadFragmentsAsync(sql, sandbox, patch, ct, run.DatasetId)) frags[pid] = list;
        t0 = run.Part("load fragments", t0);
        if (run.Schema.Class == SchemaClass.Profile)
        {
            var byKey = new Dictionary<(string, string), FragmentState>();
            foreach (var list in frags.Values) foreach (var f in list) byKey[(f.DatasetId, f.RecordKey)] = f;
            foreach (var rec in records)
            {
                if (rec.ProfileId is null || rec.Units is null) continue;
                var key = (run.DatasetId, rec.Keys[0]);
                if (!byKey.TryGetValue(key, out var f))
                {
                    f = new FragmentState(run.DatasetId, rec.Keys[0], rec.ProfileId, rec.Time, new(StringComparer.Ordinal), null);
                    byKey[key] = f;
                    if (!frags.TryGetValue(rec.ProfileId, out var l)) frags[rec.ProfileId] = l = [];
                    l.Add(f);
                }
                if (rec.Time >= f.WrittenAt)
                {
                    foreach (var (k, v) in rec.Units) f.Attributes[k] = v?.ToJsonString();
                    f.WrittenAt = rec.Time;
                }
                else
                {
                    foreach (var (k, v) in rec.Units) if (!f.Attributes.ContainsKey(k)) f.Attributes[k] = v?.ToJsonString();
                }
                if (f.ProfileId != rec.ProfileId) { f.ProfileId = rec.ProfileId; f.Moved = true; }
                f.Touched = true;
            }
            t0 = run.Part("apply units", t0);
            await using var upsert = sql.Bulk("profile_fragments", ["sandbox_id", "dataset_id", "record_key", "profile_id", "batch_id", "written_at", "attributes"],
                "ON CONFLICT (sandbox_id, dataset_id, record_key) DO UPDATE SET profile_id=excluded.profile_id, batch_id=excluded.batch_id, written_at=excluded.written_at, attributes=excluded.attributes");
            foreach (var f in byKey.Values)
            {
                if (!f.Touched) continue;
                var json = ProfileValues.SerializeRaw(f.Attributes);
                if (json == f.OriginalJson && !f.Moved && f.WrittenAt == f.OriginalWrittenAt) continue;
                await upsert.AddAsync(ct, sandbox, f.DatasetId, f.RecordKey, f.ProfileId, run.BatchId, sql.Time(f.WrittenAt), json);
            }
            await upsert.FlushAsync(ct);
            t0 = run.Part("fragment upserts", t0);
        }
        var now = DateTimeOffset.UtcNow;
        var changed = ids.Count > 0 ? await MaterializeAsync(sql, sandbox, ids, frags, run.Policy, now, ct, run.Part) : [];
        run.MergedInFull += ids.Count;
        if (patch.Count > 0)
        {
            var (patched, remerge) = await PatchAsync(sql, sandbox, run.DatasetId, patch, frags, run.Policy, ct, run.Part);
            changed.AddRange(patched);
            run.Patched += patch.Count - remerge.Count;
            run.MergedInFull += remerge.Count;
            if (remerge.Count > 0)
            {
                // The fragments of this dataset are already written: load every fragment of these profiles as they are now.
                t0 = Stopwatch.GetTimestamp();
                var all = await LoadFragmentsAsync(sql, sandbox, remerge, ct);
                run.Part("load fragments", t0);
                changed.AddRange(await MaterializeAsync(sql, sandbox, remerge, all, run.Policy, now, ct, run.Part));
            }
        }
        foreach (var pid in changed) run.Updated.Add(pid);
    }

    // ---------------------------------------------------------------- per-run state

    internal readonly record struct ColumnMap(SchemaField? Field, NamespaceInfo? Namespace);

    /// <summary>A record with what the profile stage writes: attribute units (profile datasets) or the event (event datasets).</summary>
    internal sealed class ProfileRecord : StitchRecord
    {
        public long RowNumber { get; set; }
        public Dictionary<string, JsonNode?>? Units { get; set; }
        public string? EventType { get; set; }
        public string? Fields { get; set; }
    }

    private sealed class Run(ProfileSql sql, string sandboxId, string datasetId, string batchId, SchemaDefinition schema,
        Func<string, NamespaceInfo?>? namespaces, DateTimeOffset batchTime, MergePolicy policy) : StitchRun(sql, sandboxId, datasetId, batchId)
    {
        private readonly Dictionary<string, NamespaceInfo> nsCache = new(StringComparer.OrdinalIgnoreCase);
        private readonly ArrayBufferWriter<byte> buffer = new(1024);
        public SchemaDefinition Schema => schema;
        public MergePolicy Policy => policy;
        public Stopwatch Identity { get; } = new();
        public Stopwatch Profile { get; } = new();
        private readonly Dictionary<string, long> parts = new(StringComparer.Ordinal);

        /// <summary>Adds the time since <paramref name="start"/> to a named part of the profile stage; returns now.</summary>
        public long Part(string name, long start)
        {
            var now = Stopwatch.GetTimestamp();
            parts[name] = parts.GetValueOrDefault(name) + (now - start);
            return now;
        }
        public long ProfilesUpdated, Events, Patched, MergedInFull;

        public void EndChunk()
        {
            Updated.ExceptWith(Created);
            ProfilesUpdated += Updated.Count;
            Updated.Clear();
            Created.Clear();
        }

        public override NamespaceInfo Namespace(string code)
        {
            if (!nsCache.TryGetValue(code, out var info)) nsCache[code] = info = BuiltInNamespaces.Resolve(namespaces, code);
            return info;
        }

        public ColumnMap Column(string name)
        {
            var field = schema.Find(name);
            if (field is null) return default;
            return new ColumnMap(field, field.Identity is { } id ? Namespace(id.Namespace) : null);
        }

        public ProfileRecord ToRecord(ColumnMap[] columns, object?[] values, long rowNumber)
        {
            var rec = new ProfileRecord { RowNumber = rowNumber, Time = batchTime };
            // Identities: primary first.
            for (var pass = 0; pass < 2; pass++)
                for (var i = 0; i < columns.Length; i++)
                {
                    var c = columns[i];
                    if (c.Namespace is null || (c.Field!.Identity!.Primary ? pass != 0 : pass != 1)) continue;
                    if (c.Namespace.Type == IdentityType.NonPeople) continue;
                    var v = IdentityNormalizer.Normalize(c.Namespace.Normalizer, ProfileValues.IdentityString(values[i]));
                    if (v is null) continue;
                    var key = c.Namespace.Code + KeySep + v;
                    if (!rec.Keys.Contains(key)) rec.Keys.Add(key);
                }
            for (var i = 0; i < columns.Length; i++)
            {
                var f = columns[i].Field;
                if (f is null || values[i] is null) continue;
                if (f.Path == SchemaDefinition.TimestampField && ProfileValues.ToTime(values[i]) is { } t) rec.Time = t;
                else if (f.Path == SchemaDefinition.EventTypeField && schema.Class == SchemaClass.Event) rec.EventType = Convert.ToString(values[i], System.Globalization.CultureInfo.InvariantCulture);
            }
            if (rec.Keys.Count == 0) return rec;
            if (schema.Class == SchemaClass.Event) rec.Fields = EventJson(columns, values);
            else
            {
                rec.Units = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
                for (var i = 0; i < columns.Length; i++)
                    if (columns[i].Field is { } f) ProfileValues.AddUnits(rec.Units, f, values[i]);
            }
            return rec;
        }

        private string EventJson(ColumnMap[] columns, object?[] values)
        {
            buffer.Clear();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                for (var i = 0; i < columns.Length; i++)
                {
                    var f = columns[i].Field;
                    var v = values[i];
                    if (f is null || v is null || f.Path is SchemaDefinition.TimestampField or SchemaDefinition.EventTypeField) continue;
                    switch (v)
                    {
                        case string s: w.WriteString(f.Path, s); break;
                        case long l: w.WriteNumber(f.Path, l); break;
                        case int n: w.WriteNumber(f.Path, n); break;
                        case double d when double.IsFinite(d): w.WriteNumber(f.Path, d); break;
                        case bool b: w.WriteBoolean(f.Path, b); break;
                        default:
                            var node = ProfileValues.ToJson(v);
                            if (node is null) continue;
                            w.WritePropertyName(f.Path);
                            node.WriteTo(w);
                            break;
                    }
                }
                w.WriteEndObject();
            }
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }

        public ProfileIngestResult Result() => new(Records, ProfilesCreated, ProfilesUpdated, ProfilesMerged, IdentitiesAdded,
            IdentitiesEvicted, WithoutIdentity, Events, Identity.Elapsed, Profile.Elapsed)
        {
            ProfileStageParts = parts.ToDictionary(kv => kv.Key, kv => Stopwatch.GetElapsedTime(0, kv.Value), StringComparer.Ordinal),
            ProfilesPatched = Patched, ProfilesMergedInFull = MergedInFull,
        };
    }
}
