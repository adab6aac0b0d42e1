using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;

namespace Enrichment.Portal.Core.Query;

/// <summary>
/// A private in-memory DuckDB for one query. The trusted side creates the table views, then closes the database:
/// <c>allowed_paths</c> = exactly the table files (plus an export target), <c>enable_external_access=false</c>
/// (no other file, URL, ATTACH, COPY target, INSTALL/LOAD), no extension auto-install/auto-load, no spilling,
/// and <c>lock_configuration=true</c> so no SET/PRAGMA/RESET can undo any of it.
/// </summary>
internal sealed class LockedDownDatabase : IDisposable
{
    private LockedDownDatabase(DuckDBConnection connection) => Connection = connection;

    public DuckDBConnection Connection { get; }

    /// <summary>Opens, creates the views and locks. <paramref name="extraAllowedPaths"/> are files the trusted side itself will write.</summary>
    public static LockedDownDatabase Open(IReadOnlyList<TableSource> tables, QueryServiceOptions options, IReadOnlyList<string>? extraAllowedPaths = null)
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        try
        {
            connection.Open();
            Execute(connection, "SET autoinstall_known_extensions=false");
            Execute(connection, "SET autoload_known_extensions=false");
            Execute(connection, $"SET memory_limit={Literal(options.MemoryLimit)}");
            Execute(connection, $"SET threads={options.Threads.ToString(CultureInfo.InvariantCulture)}");
            Execute(connection, "SET temp_directory=''");

            var allowed = new List<string>();
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var table in tables)
            {
                if (!TableSource.IsValidName(table.Name))
                    throw new ArgumentException($"Invalid table name '{table.Name}': use letters, digits and '_' (TableSource.NormalizeName).", nameof(tables));
                if (!seen.Add(table.Name))
                    throw new ArgumentException($"Table '{table.Name}' is given twice.", nameof(tables));
                var files = ExpandFiles(connection, table);
                if (files.Count == 0) continue; // no committed data: the table does not exist for the query
                allowed.AddRange(files);
                var list = string.Join(", ", files.Select(Literal));
                Execute(connection, $"CREATE VIEW {Identifier(table.Name)} AS SELECT * FROM read_parquet([{list}], union_by_name = true)");
            }
            if (extraAllowedPaths is not null) allowed.AddRange(extraAllowedPaths);

            Execute(connection, $"SET allowed_paths=[{string.Join(", ", allowed.Select(Literal))}]");
            Execute(connection, "SET enable_external_access=false");
            Execute(connection, "SET lock_configuration=true");
            return new LockedDownDatabase(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Uses DuckDB's own parser (<c>json_serialize_sql</c>, which serializes SELECT statements only) to check that
    /// <paramref name="sql"/> is exactly one SELECT / WITH statement. Throws <see cref="QueryRejectedException"/> otherwise.
    /// </summary>
    public void ValidateSingleSelect(string sql)
    {
        using var command = Connection.CreateCommand();
        // json_serialize_sql needs a constant argument: the text goes in as an escaped string literal.
        command.CommandText = $"SELECT json_serialize_sql({Literal(sql)})::VARCHAR";
        var json = command.ExecuteScalar() as string ?? throw new QueryRejectedException("The statement could not be parsed.");
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.True)
        {
            var type = root.TryGetProperty("error_type", out var t) ? t.GetString() : null;
            var message = root.TryGetProperty("error_message", out var m) ? m.GetString() : null;
            if (type == "not implemented")
                throw new QueryRejectedException("Only a single read-only SELECT (or WITH ... SELECT) statement is allowed.");
            throw new QueryRejectedException(message is null ? "Syntax error: the statement could not be parsed." : SqlErrorWording.Humanize(message, sql));
        }
        var count = root.TryGetProperty("statements", out var statements) ? statements.GetArrayLength() : 0;
        if (count == 0) throw new QueryRejectedException("The query is empty.");
        if (count > 1) throw new QueryRejectedException($"Exactly one statement is allowed; found {count}.");
        RejectInternals(statements);
    }

    /// <summary>Table functions a query may use: generators and JSON/list unnesting, nothing that reads files or the catalog.</summary>
    private static readonly HashSet<string> AllowedTableFunctions = new(StringComparer.OrdinalIgnoreCase)
    {
        "range", "generate_series", "unnest", "json_each", "json_tree",
    };

    /// <summary>Scalar functions that show the server's settings, paths or environment.</summary>
    private static readonly HashSet<string> ForbiddenFunctions = new(StringComparer.OrdinalIgnoreCase)
    {
        "current_setting", "getvariable", "getenv", "which_secret", "query", "query_table", "glob", "read_text", "read_blob",
        "current_database", "current_catalog", "current_schema", "current_schemas", "enable_logging", "disable_logging",
    };

    /// <summary>
    /// Walks the parsed statement (DuckDB's own JSON of it) and refuses what would show the service's internals: the catalog
    /// functions and views (<c>duckdb_views()</c>, <c>duckdb_settings()</c>, <c>information_schema</c>, <c>pg_catalog</c>,
    /// <c>sqlite_master</c>, <c>pragma_*</c>), <c>query()</c> / <c>query_table()</c>, <c>current_setting()</c>, and every table
    /// function that reads files (the sandbox's tables are the only way to its data).
    /// </summary>
    private static void RejectInternals(JsonElement node)
    {
        switch (node.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var item in node.EnumerateArray()) RejectInternals(item);
                return;
            case JsonValueKind.Object:
                break;
            default:
                return;
        }
        var type = node.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (type == "TABLE_FUNCTION" && node.TryGetProperty("function", out var fn) && Name(fn, "function_name") is { } tableFunction
            && !AllowedTableFunctions.Contains(tableFunction))
            throw new QueryRejectedException(Internal(tableFunction + "()"));
        if (Name(node, "function_name") is { } function && (ForbiddenFunctions.Contains(function) || IsInternalName(function)))
            throw new QueryRejectedException(Internal(function + "()"));
        if (type == "BASE_TABLE")
        {
            var table = Name(node, "table_name") ?? "";
            var schema = Name(node, "schema_name") ?? "";
            var catalog = Name(node, "catalog_name") ?? "";
            if (IsInternalName(table) || IsInternalSchema(schema) || IsInternalSchema(catalog))
                throw new QueryRejectedException(Internal(string.Join('.', new[] { catalog, schema, table }.Where(x => x.Length > 0))));
        }
        foreach (var property in node.EnumerateObject()) RejectInternals(property.Value);
    }

    private static string? Name(JsonElement node, string property) =>
        node.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool IsInternalName(string name) =>
        name.StartsWith("duckdb_", StringComparison.OrdinalIgnoreCase) || name.StartsWith("pragma_", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("sqlite_", StringComparison.OrdinalIgnoreCase) || name.StartsWith("pg_", StringComparison.OrdinalIgnoreCase)
        || name.StartsWith("information_schema", StringComparison.OrdinalIgnoreCase);

    private static bool IsInternalSchema(string name) =>
        name.Length > 0 && !name.Equals("main", StringComparison.OrdinalIgnoreCase) && !name.Equals("memory", StringComparison.OrdinalIgnoreCase);

    private static string Internal(string what) =>
        $"{what} is not available: it shows the query service's internals or reads outside the sandbox's tables. Query the sandbox's tables by name.";

    /// <summary>The columns of a validated query, with their DuckDB SQL types (binds the query, does not run it).</summary>
    public List<QueryColumn>? DescribeOrNull(string validatedSql)
    {
        try
        {
            using var command = Connection.CreateCommand();
            command.CommandText = $"DESCRIBE SELECT * FROM query({Literal(validatedSql)})";
            using var reader = command.ExecuteReader();
            var columns = new List<QueryColumn>();
            while (reader.Read()) columns.Add(new QueryColumn(reader.GetString(0), reader.GetString(1)));
            return columns;
        }
        catch (DuckDBException)
        {
            return null;
        }
    }

    public void Dispose() => Connection.Dispose();

    private static List<string> ExpandFiles(DuckDBConnection connection, TableSource table)
    {
        var files = new List<string>();
        foreach (var entry in table.Files)
        {
            if (string.IsNullOrWhiteSpace(entry) || !Path.IsPathFullyQualified(entry))
                throw new ArgumentException($"Table '{table.Name}': file '{entry}' must be an absolute path.", nameof(table));
            if (entry.IndexOfAny(['*', '?', '[']) < 0)
            {
                if (!File.Exists(entry))
                    throw new ArgumentException($"Table '{table.Name}': file '{entry}' does not exist.", nameof(table));
                files.Add(Path.GetFullPath(entry));
                continue;
            }
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT file FROM glob($pattern) ORDER BY file";
            command.Parameters.Add(new DuckDBParameter("pattern", entry));
            using var reader = command.ExecuteReader();
            while (reader.Read()) files.Add(Path.GetFullPath(reader.GetString(0)));
        }
        return files.Distinct(StringComparer.Ordinal).ToList();
    }

    internal static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>A SQL string literal: every <c>'</c> doubled (DuckDB string literals have no backslash escapes).</summary>
    internal static string Literal(string value)
    {
        if (value.Contains('\0')) throw new ArgumentException("NUL characters are not allowed.");
        return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    /// <summary>A quoted SQL identifier (works for dotted column names such as <c>person.email</c>).</summary>
    internal static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
