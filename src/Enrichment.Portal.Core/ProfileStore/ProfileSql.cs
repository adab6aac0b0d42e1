using System.Collections.Concurrent;
using System.Data.Common;
using System.Text;
using Enrichment.Portal.Core.Catalog;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Enrichment.Portal.Core.ProfileStore;

/// <summary>Provider-aware raw ADO.NET helpers for the bulk work of the profile store (SQLite and PostgreSQL).</summary>
internal sealed class ProfileSql(DbConnection connection, bool sqlite)
{
    public DbConnection Connection => connection;
    public DbTransaction? Transaction { get; set; }
    public bool IsSqlite => sqlite;

    public static async Task<ProfileSql> OpenAsync(CatalogDb db, CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        var sqlite = db.Database.ProviderName?.Contains("Sqlite", StringComparison.OrdinalIgnoreCase) == true;
        var sql = new ProfileSql(db.Database.GetDbConnection(), sqlite);
        // A bigger page cache for this connection: bulk index inserts hit random pages (default cache is 2 MB).
        if (sqlite)
        {
            await sql.ExecAsync("PRAGMA cache_size=-131072", ct);
            // In WAL mode (as the portal runs its catalog), NORMAL syncs at checkpoints instead of at every commit: still atomic and
            // consistent after a crash of the process or the machine; a power loss can only undo the last commits, which the batch's
            // stage re-applies (it is idempotent). The profile stage commits one transaction per chunk.
            await using var mode = sql.Command("PRAGMA journal_mode");
            if (string.Equals(await mode.ExecuteScalarAsync(ct) as string, "wal", StringComparison.OrdinalIgnoreCase))
                await sql.ExecAsync("PRAGMA synchronous=NORMAL", ct);
        }
        return sql;
    }

    /// <summary>A DateTimeOffset as the catalog stores it: UTC ticks on SQLite, timestamptz on PostgreSQL.</summary>
    public object Time(DateTimeOffset t) => sqlite ? t.UtcTicks : t.ToUniversalTime();

    public DateTimeOffset ReadTime(DbDataReader r, int i) =>
        sqlite ? new DateTimeOffset(r.GetInt64(i), TimeSpan.Zero) : r.GetFieldValue<DateTimeOffset>(i).ToUniversalTime();

    public DbCommand Command(string sql, params object?[] args)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = Transaction;
        for (var i = 0; i < args.Length; i++)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = "@p" + i;
            p.Value = args[i] ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }
        return cmd;
    }

    public async Task<int> ExecAsync(string sql, CancellationToken ct, params object?[] args)
    {
        await using var cmd = Command(sql, args);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<long> ScalarLongAsync(string sql, CancellationToken ct, params object?[] args)
    {
        await using var cmd = Command(sql, args);
        var v = await cmd.ExecuteScalarAsync(ct);
        return v is null or DBNull ? 0 : Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>"@p{start},@p{start+1},..." for an IN list.</summary>
    public static string Params(int start, int count)
    {
        var sb = new StringBuilder(count * 6);
        for (var i = 0; i < count; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append("@p").Append(start + i);
        }
        return sb.ToString();
    }

    /// <summary>Runs <paramref name="sql"/> (which holds <c>{in}</c> for the list) over <paramref name="values"/> in slices of 500.</summary>
    public async Task ForEachInAsync<T>(string sql, object?[] fixedArgs, IReadOnlyList<T> values, Action<DbDataReader> row, CancellationToken ct)
    {
        if (sqlite && typeof(T) == typeof(string))
        {
            var all = values.Select(v => (string)(object)v!).ToList();
            // One statement per 5,000 values: the list goes as one JSON array parameter (json_each), which avoids
            // Microsoft.Data.Sqlite's per-parameter cost and hundreds of small statements per chunk.
            for (var off = 0; off < values.Count; off += 5000)
            {
                var n = Math.Min(5000, values.Count - off);
                var list = all.GetRange(off, n);
                var args = new object?[fixedArgs.Length + 1];
                fixedArgs.CopyTo(args, 0);
                args[^1] = System.Text.Json.JsonSerializer.Serialize(list);
                await using var cmd = Command(sql.Replace("{in}", "SELECT value FROM json_each(@p" + fixedArgs.Length + ")", StringComparison.Ordinal), args);
                await using var r = await cmd.ExecuteReaderAsync(ct);
                while (await r.ReadAsync(ct)) row(r);
            }
            return;
        }
        var slice = sqlite ? 48 : 500;
        for (var off = 0; off < values.Count; off += slice)
        {
            var n = Math.Min(slice, values.Count - off);
            var args = new object?[fixedArgs.Length + n];
            fixedArgs.CopyTo(args, 0);
            for (var i = 0; i < n; i++) args[fixedArgs.Length + i] = values[off + i];
            await using var cmd = Command(sql.Replace("{in}", Params(fixedArgs.Length, n), StringComparison.Ordinal), args);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) row(r);
        }
    }

    /// <summary>Bulk INSERT with a fixed suffix (e.g. ON CONFLICT ...). SQLite: one prepared row per statement. PostgreSQL:
    /// the rows are streamed with binary COPY into a temporary staging table of the session and moved with one
    /// <c>INSERT INTO table SELECT ... FROM staging {suffix}</c> in the caller's transaction, so ON CONFLICT (idempotency) and the
    /// atomic commit of the chunk hold as with plain INSERTs.</summary>
    public BulkInsert Bulk(string table, string[] columns, string suffix, int rowsPerStatement = 100) =>
        // Microsoft.Data.Sqlite binds parameters by name with linear searches (quadratic in the parameter count):
        // on SQLite one prepared row per statement is fastest.
        new(this, table, columns, suffix, sqlite ? 1 : rowsPerStatement, !sqlite && PostgresCopy && connection is NpgsqlConnection);

    /// <summary>PostgreSQL bulk loads through binary COPY (default); false: multi-row INSERTs of 100 rows (the benchmark's comparison).</summary>
    internal static bool PostgresCopy { get; set; } = true;

    /// <summary>Rows per COPY into the staging table (PostgreSQL); bounds the memory of the pending rows.</summary>
    internal static int CopyRows { get; set; } = 20_000;

    /// <summary>Column types of the tables bulk-loaded on PostgreSQL (table -> column -> type name), read once per process.</summary>
    private static readonly ConcurrentDictionary<string, Dictionary<string, string>> PgColumnTypes = new(StringComparer.Ordinal);

    internal sealed class BulkInsert(ProfileSql sql, string table, string[] columns, string suffix, int rowsPerStatement, bool copy) : IAsyncDisposable
    {
        private readonly List<object?> pending = new(columns.Length * (copy ? 1024 : rowsPerStatement));
        private DbCommand? full;
        public long Affected { get; private set; }
        private int Threshold => copy ? CopyRows : rowsPerStatement;

        private string Text(int rows)
        {
            var sb = new StringBuilder();
            sb.Append("INSERT INTO ").Append(table).Append(" (").Append(string.Join(",", columns)).Append(") VALUES ");
            for (var r = 0; r < rows; r++)
            {
                if (r > 0) sb.Append(',');
                sb.Append('(').Append(Params(r * columns.Length, columns.Length)).Append(')');
            }
            sb.Append(' ').Append(suffix);
            return sb.ToString();
        }

        public async Task AddAsync(CancellationToken ct, params object?[] values)
        {
            pending.AddRange(values);
            if (pending.Count >= columns.Length * Threshold)
            {
                if (copy) await CopyAsync(ct);
                else await FlushFullAsync(ct);
            }
        }

        private async Task FlushFullAsync(CancellationToken ct)
        {
            if (full is null)
            {
                full = sql.Command(Text(rowsPerStatement), new object?[columns.Length * rowsPerStatement]);
                if (sql.IsSqlite) full.Prepare();
            }
            full.Transaction = sql.Transaction;
            for (var i = 0; i < pending.Count; i++) full.Parameters[i].Value = pending[i] ?? DBNull.Value;
            Affected += await full.ExecuteNonQueryAsync(ct);
            pending.Clear();
        }

        public async Task FlushAsync(CancellationToken ct)
        {
            if (pending.Count == 0) return;
            if (copy)
            {
                await CopyAsync(ct);
                return;
            }
            var rows = pending.Count / columns.Length;
            await using var cmd = sql.Command(Text(rows), pending.ToArray());
            Affected += await cmd.ExecuteNonQueryAsync(ct);
            pending.Clear();
        }

        private string Stage => "ep_stage_" + table;

        private async Task<Dictionary<string, string>> TypesAsync(CancellationToken ct)
        {
            if (PgColumnTypes.TryGetValue(table, out var known)) return known;
            var types = new Dictionary<string, string>(StringComparer.Ordinal);
            await using (var cmd = sql.Command("""
                SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                WHERE a.attrelid = to_regclass(@p0) AND a.attnum > 0 AND NOT a.attisdropped
                """, table))
            await using (var r = await cmd.ExecuteReaderAsync(ct))
                while (await r.ReadAsync(ct)) types[r.GetString(0)] = r.GetString(1);
            foreach (var c in columns)
                if (!types.ContainsKey(c)) throw new InvalidOperationException($"Column {table}.{c} not found for the bulk load.");
            PgColumnTypes[table] = types;
            return types;
        }

        /// <summary>PostgreSQL: binary COPY of the pending rows into the session's staging table, then one INSERT ... SELECT
        /// with the suffix into the real table, inside the current transaction (its own one when there is none).</summary>
        private async Task CopyAsync(CancellationToken ct)
        {
            var rows = pending.Count / columns.Length;
            if (rows == 0) return;
            var conn = (NpgsqlConnection)sql.Connection;
            var types = await TypesAsync(ct);
            var own = sql.Transaction is null ? await conn.BeginTransactionAsync(ct) : null;
            if (own is not null) sql.Transaction = own;
            try
            {
                var cols = string.Join(",", columns);
                // Session-scoped (pooled connections reset with DISCARD ALL, which drops it); rows never outlive a transaction.
                await sql.ExecAsync($"CREATE TEMP TABLE IF NOT EXISTS {Stage} ON COMMIT DELETE ROWS AS SELECT {cols} FROM {table} WITH NO DATA", ct);
                await using (var importer = await conn.BeginBinaryImportAsync($"COPY {Stage} ({cols}) FROM STDIN (FORMAT BINARY)", ct))
                {
                    for (var r = 0; r < rows; r++)
                    {
                        await importer.StartRowAsync(ct);
                        for (var c = 0; c < columns.Length; c++)
                            await WriteAsync(importer, pending[r * columns.Length + c], types[columns[c]], ct);
                    }
                    await importer.CompleteAsync(ct);
                }
                Affected += await sql.ExecAsync($"INSERT INTO {table} ({cols}) SELECT {cols} FROM {Stage} {suffix}", ct);
                await sql.ExecAsync($"TRUNCATE {Stage}", ct);
                if (own is not null) await own.CommitAsync(ct);
            }
            finally
            {
                if (own is not null)
                {
                    sql.Transaction = null;
                    await own.DisposeAsync();
                }
            }
            pending.Clear();
        }

        private static Task WriteAsync(NpgsqlBinaryImporter importer, object? value, string type, CancellationToken ct) => value switch
        {
            null or DBNull => importer.WriteNullAsync(ct),
            string s => importer.WriteAsync(s, type, ct),
            long l => importer.WriteAsync(l, type, ct),
            int i => importer.WriteAsync(i, type, ct),
            bool b => importer.WriteAsync(b, type, ct),
            double d => importer.WriteAsync(d, type, ct),
            DateTimeOffset t => importer.WriteAsync(t.ToUniversalTime(), type, ct),
            DateTime t => importer.WriteAsync(t, type, ct),
            _ => importer.WriteAsync(value, type, ct),
        };

        public async ValueTask DisposeAsync()
        {
            if (full is not null) await full.DisposeAsync();
        }
    }
}
