using Enrichment.Portal.Core;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Lake;
using Microsoft.Extensions.Options;
using static Enrichment.Portal.Web.Api.CatalogApiSupport;

namespace Enrichment.Portal.Web.Api;

/// <summary>
/// Data access (API.md): a dataset's lake files and its rows streamed as Parquet, CSV or JSON lines; the newest profile
/// snapshot the same way. For notebooks and the Python client (clients/python), which have no Parquet reader on Debian.
/// </summary>
public static class DataAccessApi
{
    private const long MaxLimit = long.MaxValue / 2;

    public static void MapDataAccessApi(this RouteGroupBuilder v1)
    {
        var datasets = v1.MapGroup("/datasets").WithTags("Data access");
        datasets.MapGet("/{id}/files", async (string id, LakeCatalog lake, CancellationToken ct) =>
        {
            var dataset = await lake.FindAsync(id, ct) ?? throw CatalogException.NotFound($"No dataset {id} in this sandbox.");
            return Results.Ok(new { items = Files(dataset), nextCursor = (string?)null });
        }).WithName("ListDatasetFiles")
          .WithSummary("The dataset's committed lake files { batchId, name, bytes } (for a snapshot dataset: its newest snapshot)");

        datasets.MapGet("/{id}/data", async (string id, string? format, string? columns, long? offset, long? limit, HttpContext http,
            LakeCatalog lake, IOptions<PortalOptions> options, CancellationToken ct) =>
        {
            var dataset = await lake.FindAsync(id, ct) ?? throw CatalogException.NotFound($"No dataset {id} in this sandbox.");
            return await DataAsync(dataset, format, columns, offset, limit, http, options.Value, ct);
        }).WithName("ReadDatasetData")
          .WithSummary("Streams the dataset's rows: ?format=jsonl (default) | csv | parquet (also from the Accept header), ?columns=a,b, ?offset, ?limit; a snapshot dataset gives its newest snapshot");

        var snapshot = v1.MapGroup("/profiles/snapshot").WithTags("Data access");
        snapshot.MapGet("/", async (LakeCatalog lake, CancellationToken ct) =>
        {
            var dataset = await NewestAsync(lake, ct);
            var files = Files(dataset);
            return Results.Ok(new
            {
                datasetId = dataset.Id, name = dataset.Name, batchId = files.Select(f => f.BatchId).FirstOrDefault(),
                columns = LakeExport.Columns(LakeCatalog.DataFiles(dataset)), files,
            });
        }).WithName("GetNewestSnapshot").WithSummary("The newest profile snapshot: { datasetId, name, batchId, columns, files }; 404 when none was exported yet");
        snapshot.MapGet("/data", async (string? format, string? columns, long? offset, long? limit, HttpContext http, LakeCatalog lake,
            IOptions<PortalOptions> options, CancellationToken ct) =>
                await DataAsync(await NewestAsync(lake, ct), format, columns, offset, limit, http, options.Value, ct))
          .WithName("ReadNewestSnapshot").WithSummary("Streams the newest profile snapshot's rows (same parameters as /datasets/{id}/data)");
    }

    public sealed record DataFile(string BatchId, string Name, long Bytes);

    private static List<DataFile> Files(LakeDataset dataset) =>
        LakeCatalog.DataFiles(dataset).Select(f => new DataFile(Path.GetFileName(Path.GetDirectoryName(f)!), Path.GetFileName(f), new FileInfo(f).Length)).ToList();

    private static async Task<LakeDataset> NewestAsync(LakeCatalog lake, CancellationToken ct) =>
        LakeCatalog.NewestSnapshot(await lake.ListAsync(ct))
        ?? throw CatalogException.NotFound("There is no profile snapshot yet: export one first (POST /api/v1/profiles/snapshot).");

    private static async Task<IResult> DataAsync(LakeDataset dataset, string? format, string? columns, long? offset, long? limit,
        HttpContext http, PortalOptions options, CancellationToken ct)
    {
        LakeExportFormat f;
        if (format is null)
        {
            var accept = http.Request.Headers.Accept.ToString();
            f = accept.Contains("text/csv", StringComparison.OrdinalIgnoreCase) ? LakeExportFormat.Csv
                : accept.Contains("parquet", StringComparison.OrdinalIgnoreCase) ? LakeExportFormat.Parquet
                : LakeExportFormat.Jsonl;
        }
        else if (!LakeExport.TryParseFormat(format, out f))
            return ApiProblems.Validation("format", "format must be one of parquet, csv, jsonl.");
        if (offset is < 0) return ApiProblems.Validation("offset", "offset must be 0 or more.");
        if (limit is < 0 or > MaxLimit) return ApiProblems.Validation("limit", "limit must be 0 or more.");
        var cols = string.IsNullOrWhiteSpace(columns) ? null
            : columns.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
        var files = LakeCatalog.DataFiles(dataset);
        await Task.Run(() => LakeExport.CheckColumns(files, cols), ct);
        var fileName = Safe(dataset.Name) + LakeExport.Extension(f);
        http.Response.Headers["X-Dataset-Id"] = dataset.Id;

        if (f == LakeExportFormat.Parquet)
        {
            if (files.Count == 0) return ApiProblems.Validation("format", $"The dataset '{dataset.Name}' has no data yet, so there is no Parquet file to send.");
            var tmpDir = Path.Combine(options.FullDataDirectory, "tmp");
            Directory.CreateDirectory(tmpDir);
            var path = Path.Combine(tmpDir, "export-" + Guid.NewGuid().ToString("N") + ".parquet");
            await Task.Run(() => LakeExport.WriteParquet(files, cols, offset, limit, path, tmpDir), ct);
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024,
                FileOptions.Asynchronous | FileOptions.DeleteOnClose | FileOptions.SequentialScan);
            return Results.File(stream, LakeExport.ContentType(f), fileName);
        }

        return Results.Stream(async body =>
        {
            // The reader is synchronous (DuckDB); the writes are asynchronous, in chunks, so the whole answer is never in memory.
            await LakeExport.WriteTextAsync(files, f, cols, offset, limit, body, http.RequestAborted);
        }, LakeExport.ContentType(f), fileName);
    }

    private static string Safe(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray();
        return chars.Length == 0 ? "data" : new string(chars);
    }
}
