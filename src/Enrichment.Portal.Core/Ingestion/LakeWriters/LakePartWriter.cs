using DuckDB.NET.Data;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Ingestion.LakeWriters;

/// <summary>
/// Appends typed records and rejected records into DuckDB tables and writes them out as Parquet part files
/// (<c>part-NNNNN.parquet</c>, <c>_errors/errors-NNNNN.parquet</c>) whenever asked, so memory stays flat.
/// </summary>
internal sealed class LakePartWriter : IDisposable
{
    public const string ErrorsFolder = "_errors";
    private const string ErrorsDdl = "CREATE TABLE errors (\"row\" BIGINT, field VARCHAR, code VARCHAR, message VARCHAR, raw VARCHAR)";
    private readonly DuckDBConnection conn;
    private readonly string folder;
    private readonly SchemaDefinition schema;
    private DuckDBAppender? data, errors;
    private long dataRows, errorRows;

    public List<LakeFileInfo> Files { get; } = [];
    public List<LakeFileInfo> ErrorFiles { get; } = [];
    public long PendingErrorRows => errorRows;
    /// <summary>Time spent writing Parquet.</summary>
    public TimeSpan WriteTime { get; private set; }

    public LakePartWriter(string folder, SchemaDefinition schema, string memoryLimit)
    {
        this.folder = folder;
        this.schema = schema;
        var duckTmp = Path.Combine(folder, "_duckdb_tmp");
        conn = DuckDbLake.Open(duckTmp, memoryLimit);
        DuckDbLake.Exec(conn, DuckDbLake.CreateTableSql("data", schema));
        DuckDbLake.Exec(conn, ErrorsDdl);
    }

    public void Append(object?[] typed)
    {
        data ??= conn.CreateAppender("data");
        var row = data.CreateRow();
        foreach (var v in typed) DuckDbLake.AppendTyped(row, v);
        row.EndRow();
        dataRows++;
    }

    public void AppendError(long rowNumber, Ingestion.RecordError e, string? raw)
    {
        errors ??= conn.CreateAppender("errors");
        errors.CreateRow().AppendValue((long?)rowNumber).AppendValue(e.Field).AppendValue(e.Code).AppendValue(e.Message).AppendValue(raw).EndRow();
        errorRows++;
    }

    /// <summary>Writes the appended records as the next part file.</summary>
    public void FlushData()
    {
        if (dataRows == 0) return;
        data?.Dispose();
        data = null;
        var name = $"part-{Files.Count:D5}.parquet";
        Write("data", name, DuckDbLake.CreateTableSql("data", schema));
        Files.Add(new LakeFileInfo(name, new FileInfo(Path.Combine(folder, name)).Length, dataRows));
        dataRows = 0;
    }

    /// <summary>Writes the appended rejected records as the next errors file.</summary>
    public void FlushErrors()
    {
        if (errorRows == 0) return;
        errors?.Dispose();
        errors = null;
        Directory.CreateDirectory(Path.Combine(folder, ErrorsFolder));
        var name = $"{ErrorsFolder}/errors-{ErrorFiles.Count:D5}.parquet";
        Write("errors", name, ErrorsDdl);
        ErrorFiles.Add(new LakeFileInfo(name, new FileInfo(Path.Combine(folder, name)).Length, errorRows));
        errorRows = 0;
    }

    private void Write(string table, string name, string ddl)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var path = Path.Combine(folder, name);
        DuckDbLake.Exec(conn, $"COPY {table} TO '{DuckDbLake.Esc(path)}' (FORMAT parquet); DROP TABLE {table}; {ddl};");
        WriteTime += sw.Elapsed;
    }

    /// <summary>Removes the data part files (a failed batch keeps only its rejected rows).</summary>
    public void DropDataFiles()
    {
        data?.Dispose();
        data = null;
        foreach (var f in Files) File.Delete(Path.Combine(folder, f.Name));
        Files.Clear();
        dataRows = 0;
    }

    public void Dispose()
    {
        try { data?.Dispose(); } catch (DuckDBException) { }
        try { errors?.Dispose(); } catch (DuckDBException) { }
        conn.Dispose();
        LakeFolders.TryDelete(Path.Combine(folder, "_duckdb_tmp"));
    }
}
