using Enrichment.Portal.Core.ProfileStore;
using System.Globalization;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Catalog;
using Microsoft.EntityFrameworkCore;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>What a snapshot wrote.</summary>
public sealed record ProfileSnapshotResult(string Folder, IReadOnlyList<string> Files, long Rows, IReadOnlyList<(string Name, string Type)> Columns);

/// <summary>
/// Writes every merged profile of a sandbox into Parquet (the profile snapshot): <c>profileId</c>, one column per identity
/// namespace (<c>identity.Email</c>: the oldest identity of that namespace), then every attribute of the given profile
/// schemas as a typed flat column by dotted path (maps and arrays as JSON text; <c>insights</c> as JSON when no schema
/// types it). Streams in pages of profiles into part files; writes into a temporary folder renamed at the end.
/// </summary>
public sealed class ProfileSnapshotWriter(CatalogDb db)
{
    private const int Page = 5000;
    private const int RowsPerFile = 200_000;

    public async Task<ProfileSnapshotResult> WriteAsync(string sandboxId, MergePolicy mergePolicy, string outputFolder,
        IReadOnlyList<SchemaDefinition> profileSchemas, CancellationToken ct = default)
    {
        var output = Path.GetFullPath(outputFolder).TrimEnd(Path.DirectorySeparatorChar);
        var tmp = output + ".tmp-" + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(tmp);
        var sql = await ProfileSql.OpenAsync(db, ct);
        try
        {
            // Columns.
            var namespaces = new List<string>();
            await using (var cmd = sql.Command("SELECT DISTINCT namespace FROM profile_identities WHERE sandbox_id=@p0 ORDER BY namespace", sandboxId))
            await using (var r = await cmd.ExecuteReaderAsync(ct))
                while (await r.ReadAsync(ct)) namespaces.Add(r.GetString(0));
            var attrs = new List<(string Path, FieldType Type, string Duck)>();
            var byPath = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var f in profileSchemas.SelectMany(s => s.Fields))
            {
                var duck = DuckType(f.Type);
                if (byPath.TryGetValue(f.Path, out var at))
                {
                    if (attrs[at].Duck != duck) attrs[at] = (f.Path, FieldType.String, "VARCHAR");
                    continue;
                }
                byPath[f.Path] = attrs.Count;
                attrs.Add((f.Path, f.Type, duck));
            }
            if (!attrs.Any(a => a.Path == "insights" || a.Path.StartsWith("insights.", StringComparison.Ordinal)))
            {
                byPath["insights"] = attrs.Count;
                attrs.Add(("insights", FieldType.Map, "VARCHAR"));
            }
            var columns = new List<(string Name, string Type)> { ("profileId", "VARCHAR") };
            columns.AddRange(namespaces.Select(n => ("identity." + n, "VARCHAR")));
            columns.AddRange(attrs.Select(a => (a.Path, a.Duck)));

            using var duckDb = new DuckDBConnection("DataSource=:memory:");
            await duckDb.OpenAsync(ct);
            await using (var cmd = duckDb.CreateCommand())
            {
                cmd.CommandText = "CREATE TABLE snap (" + string.Join(", ", columns.Select(c => Quote(c.Name) + " " + c.Type)) + ")";
                await cmd.ExecuteNonQueryAsync(ct);
            }
            var files = new List<string>();
            long rows = 0, inTable = 0;
            var last = "";
            var appender = duckDb.CreateAppender("snap");
            try
            {
                while (true)
                {
                    ct.ThrowIfCancellationRequested();
                    var page = new List<(string Id, string Attrs)>();
                    await using (var cmd = sql.Command($"SELECT id, attributes FROM profiles WHERE sandbox_id=@p0 AND id>@p1 ORDER BY id LIMIT {Page}", sandboxId, last))
                    await using (var r = await cmd.ExecuteReaderAsync(ct))
                        while (await r.ReadAsync(ct)) page.Add((r.GetString(0), r.GetString(1)));
                    if (page.Count == 0) break;
                    last = page[^1].Id;
                    var ids = page.Select(p => p.Id).ToList();
                    var primary = new Dictionary<(string, string), (string Value, DateTimeOffset Seen)>();
                    await sql.ForEachInAsync("SELECT profile_id, namespace, value, first_seen FROM profile_identities WHERE sandbox_id=@p0 AND profile_id IN ({in})",
                        [sandboxId], ids, r =>
                        {
                            var key = (r.GetString(0), r.GetString(1));
                            var v = (r.GetString(2), sql.ReadTime(r, 3));
                            if (!primary.TryGetValue(key, out var cur) || v.Item2 < cur.Seen || (v.Item2 == cur.Seen && string.CompareOrdinal(v.Item1, cur.Value) < 0))
                                primary[key] = v;
                        }, ct);
                    Dictionary<string, Dictionary<string, JsonNode?>> merged;
                    if (mergePolicy.IsDefault)
                        merged = page.ToDictionary(p => p.Id, p => ProfileValues.ParseFlat(p.Attrs), StringComparer.Ordinal);
                    else
                    {
                        var frags = new Dictionary<string, List<FragmentData>>(StringComparer.Ordinal);
                        await sql.ForEachInAsync("SELECT profile_id, dataset_id, record_key, written_at, attributes FROM profile_fragments WHERE sandbox_id=@p0 AND profile_id IN ({in})",
                            [sandboxId], ids, r =>
                            {
                                var pid = r.GetString(0);
                                if (!frags.TryGetValue(pid, out var l)) frags[pid] = l = [];
                                l.Add(new FragmentData(r.GetString(1), r.GetString(2), sql.ReadTime(r, 3), ProfileValues.ParseFlat(r.GetString(4))));
                            }, ct);
                        merged = ids.ToDictionary(id => id, id => AttributeMerger.Merge(frags.TryGetValue(id, out var l) ? l : [], mergePolicy.Method, mergePolicy.DatasetOrder).Values, StringComparer.Ordinal);
                    }
                    foreach (var id in ids)
                    {
                        var row = appender.CreateRow();
                        row.AppendValue(id);
                        foreach (var ns in namespaces)
                            row.AppendValue(primary.TryGetValue((id, ns), out var pv) ? pv.Value : null);
                        var values = merged[id];
                        var grouped = GroupMaps(values, attrs, byPath);
                        foreach (var a in attrs) Append(row, a.Type, grouped.TryGetValue(a.Path, out var node) ? node : null);
                        row.EndRow();
                        rows++;
                        inTable++;
                    }
                    if (inTable >= RowsPerFile)
                    {
                        appender.Close();
                        files.Add(await FlushAsync(duckDb, tmp, files.Count, ct));
                        inTable = 0;
                        appender = duckDb.CreateAppender("snap");
                    }
                }
                appender.Close();
                if (inTable > 0 || files.Count == 0) files.Add(await FlushAsync(duckDb, tmp, files.Count, ct));
            }
            finally
            {
                appender.Dispose();
            }
            // Atomic swap into place.
            string? old = null;
            if (Directory.Exists(output))
            {
                old = output + ".old-" + Guid.NewGuid().ToString("N");
                Directory.Move(output, old);
            }
            Directory.CreateDirectory(Path.GetDirectoryName(output)!);
            Directory.Move(tmp, output);
            if (old is not null) Directory.Delete(old, recursive: true);
            return new ProfileSnapshotResult(output, files.Select(f => Path.Combine(output, Path.GetFileName(f))).ToList(), rows, columns);
        }
        catch
        {
            try { Directory.Delete(tmp, recursive: true); } catch (IOException) { }
            throw;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Values per snapshot column: map columns gather their <c>path.key</c> units into one object.</summary>
    private static Dictionary<string, JsonNode?> GroupMaps(Dictionary<string, JsonNode?> values, List<(string Path, FieldType Type, string Duck)> attrs, Dictionary<string, int> byPath)
    {
        var result = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (k, v) in values)
        {
            if (byPath.ContainsKey(k)) { result[k] = v; continue; }
            var dot = k.LastIndexOf('.');
            while (dot > 0)
            {
                var head = k[..dot];
                if (byPath.TryGetValue(head, out var i) && attrs[i].Type == FieldType.Map)
                {
                    if (result.GetValueOrDefault(head) is not JsonObject o) result[head] = o = new JsonObject();
                    o[k[(dot + 1)..]] = v?.DeepClone();
                    break;
                }
                dot = head.LastIndexOf('.');
            }
        }
        return result;
    }

    private static async Task<string> FlushAsync(DuckDBConnection duck, string folder, int index, CancellationToken ct)
    {
        var file = Path.Combine(folder, $"part-{index:D5}.parquet");
        await using (var cmd = duck.CreateCommand())
        {
            cmd.CommandText = $"COPY snap TO {LakeRowRemover.Lit(file)} (FORMAT parquet, COMPRESSION zstd)";
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await using (var cmd = duck.CreateCommand())
        {
            cmd.CommandText = "DELETE FROM snap";
            await cmd.ExecuteNonQueryAsync(ct);
        }
        return file;
    }

    private static string DuckType(FieldType t) => t switch
    {
        FieldType.Integer => "BIGINT",
        FieldType.Number => "DOUBLE",
        FieldType.Boolean => "BOOLEAN",
        FieldType.Date => "DATE",
        FieldType.DateTime => "TIMESTAMP",
        _ => "VARCHAR",
    };

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static void Append(DuckDB.NET.Data.IDuckDBAppenderRow row, FieldType type, JsonNode? node)
    {
        if (node is null) { row.AppendNullValue(); return; }
        try
        {
            switch (type)
            {
                case FieldType.Integer:
                    if (node is JsonValue iv && iv.TryGetValue<long>(out var l)) { row.AppendValue((long?)l); return; }
                    if (node is JsonValue dv && dv.TryGetValue<double>(out var d)) { row.AppendValue((long?)(long)d); return; }
                    if (node is JsonValue sv && sv.TryGetValue<string>(out var s) && long.TryParse(s, CultureInfo.InvariantCulture, out var ps)) { row.AppendValue((long?)ps); return; }
                    break;
                case FieldType.Number:
                    if (node is JsonValue nv && nv.TryGetValue<double>(out var n)) { row.AppendValue((double?)n); return; }
                    if (node is JsonValue nsv && nsv.TryGetValue<string>(out var ns) && double.TryParse(ns, CultureInfo.InvariantCulture, out var pn)) { row.AppendValue((double?)pn); return; }
                    break;
                case FieldType.Boolean:
                    if (node is JsonValue bv && bv.TryGetValue<bool>(out var b)) { row.AppendValue((bool?)b); return; }
                    break;
                case FieldType.Date:
                    if (node is JsonValue dtv && dtv.TryGetValue<string>(out var ds) && DateTime.TryParse(ds, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var date))
                    { row.AppendValue((DateOnly?)DateOnly.FromDateTime(date)); return; }
                    break;
                case FieldType.DateTime:
                    if (node is JsonValue tv && tv.TryGetValue<string>(out var ts) && DateTime.TryParse(ts, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var dt))
                    { row.AppendValue((DateTime?)dt); return; }
                    break;
                default:
                    row.AppendValue(node is JsonValue sv2 && sv2.TryGetValue<string>(out var str) ? str : node.ToJsonString());
                    return;
            }
        }
        catch (FormatException) { }
        row.AppendNullValue();
    }
}
