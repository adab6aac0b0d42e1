using System.Security.Claims;
using System.Text.Json;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Web.Auth;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using static Enrichment.Portal.Web.Api.CatalogApiSupport;

namespace Enrichment.Portal.Web.Api;

public sealed record BatchStageDto(string Name, string Status, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string? Detail);

/// <summary>A batch in the shape of API.md (plus source, file and progress fields).</summary>
public sealed record BatchDto(string Id, string DatasetId, string Status, string Source, long RecordsRead, long RecordsWritten, long RecordsFailed,
    long RecordsWithoutIdentity, IReadOnlyList<ErrorSummaryItem> ErrorSummary, IReadOnlyList<BatchStageDto> Stages, DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, string? FailureReason, string? FileName, long FileBytes, long BytesRead, string? Format,
    string? IdempotencyKey, string? JobRunId, int Attempts, BatchOptions Options, IReadOnlyList<string> Warnings, long LargestRecordBytes, int MostArrayItems)
{
    public static BatchDto From(Batch b, IReadOnlyList<BatchStage>? stages = null) => new(b.Id, b.DatasetId, b.Status, b.Source, b.RecordsRead, b.RecordsWritten,
        b.RecordsFailed, b.RecordsWithoutIdentity, b.ErrorSummary,
        (stages ?? []).Select(s => new BatchStageDto(s.Name, s.Status, s.StartedAt, s.FinishedAt, s.Detail)).ToList(),
        b.CreatedAt, b.StartedAt, b.CompletedAt, b.FailureReason, b.FileName, b.FileBytes, b.BytesRead, b.Format, b.IdempotencyKey, b.JobRunId, b.Attempts, b.Options,
        b.Warnings, b.LargestRecordBytes, b.MostArrayItems);
}

/// <summary>API.md "Batch ingestion", "Streaming ingestion", "Data access".</summary>
public static class IngestionApi
{
    public static void MapIngestionApi(this RouteGroupBuilder v1)
    {
        var datasets = v1.MapGroup("/datasets").WithTags("Batch ingestion");
        datasets.MapPost("/{id}/batches", UploadAsync).RequireAuthorization(Policies.Engineer).WithName("CreateBatch")
            .WithSummary("Upload a file (multipart: file, delimiter, errorThreshold, mapping, constants, dateFormat, timestampFormat, encoding (utf-8 | latin1 | windows-1252 | utf-16), idempotencyKey) -> 202 { id, datasetId, status }");
        datasets.MapPost("/{id}/preview", PreviewAsync).RequireAuthorization(Policies.Engineer).WithName("PreviewUpload")
            .WithSummary("Columns, first rows and a suggested mapping of a file (multipart: file, delimiter); nothing is stored");
        datasets.MapGet("/{id}/records", async (string id, int? limit, IngestionService service, CancellationToken ct) =>
                TypedResults.Ok(await service.StoredRecordsAsync(id, Math.Clamp(limit ?? 20, 1, 1000), ct)))
            .WithName("PreviewStoredRecords").WithSummary("The first stored records of the dataset's committed batches ({ columns, rows })");

        var batches = v1.MapGroup("/batches").WithTags("Batch ingestion");
        batches.MapGet("/", async (string? datasetId, string? status, int? limit, string? cursor, IngestionService service, CancellationToken ct) =>
        {
            if (!Paging.TryParse(limit, cursor, out var paging, out var problem)) return problem!;
            if (status is not null && !BatchStatus.All.Contains(status)) return ApiProblems.Validation("status", "status must be one of " + string.Join(", ", BatchStatus.All) + ".");
            var q = service.Query();
            if (!string.IsNullOrWhiteSpace(datasetId)) q = q.Where(b => b.DatasetId == datasetId);
            if (status is not null) q = q.Where(b => b.Status == status);
            var page = await paging.ApplyAsync(q.OrderByDescending(b => b.CreatedAt).ThenByDescending(b => b.Id), b => BatchDto.From(b), ct);
            return TypedResults.Ok(page);
        }).WithName("ListBatches").WithSummary("Batches of the sandbox, newest first (?datasetId, ?status)");

        batches.MapGet("/{id}", async (string id, IngestionService service, CancellationToken ct) =>
            TypedResults.Ok(BatchDto.From(await service.GetAsync(id, ct), await service.StagesAsync(id, ct)))).WithName("GetBatch");

        batches.MapGet("/{id}/errors", async (string id, string? format, int? limit, string? cursor, IngestionService service, CancellationToken ct) =>
        {
            if (string.Equals(format, "csv", StringComparison.OrdinalIgnoreCase))
            {
                var path = await service.ErrorsCsvAsync(id, ct);
                if (path is null) return Results.Text("row,field,code,message,raw\n", "text/csv", null, 200);
                var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
                return TypedResults.File(stream, "text/csv", $"batch-{id}-errors.csv");
            }
            if (format is not null && !string.Equals(format, "json", StringComparison.OrdinalIgnoreCase)) return ApiProblems.Validation("format", "format must be json or csv.");
            if (!Paging.TryParse(limit, cursor, out var paging, out var problem)) return problem!;
            var page = await service.ErrorsAsync(id, paging.Offset, paging.Limit, ct);
            var next = paging.Offset + page.Items.Count < page.Total ? Paging.Encode(paging.Offset + paging.Limit) : null;
            return TypedResults.Ok(new { items = page.Items, nextCursor = next, total = page.Total });
        }).WithName("GetBatchErrors").WithSummary("Rejected records { row, field, code, message, raw } (paged); ?format=csv downloads them all");

        batches.MapPost("/{id}/retry", async (string id, ClaimsPrincipal user, IngestionService service, CancellationToken ct) =>
        {
            var b = await service.RetryAsync(id, user.Actor(), ct);
            return TypedResults.Accepted($"/api/v1/batches/{b.Id}", new { id = b.Id, datasetId = b.DatasetId, status = b.Status });
        }).RequireAuthorization(Policies.Engineer).WithName("RetryBatch").WithSummary("Re-run a failed batch from its kept raw file (202); other states: 409");

        batches.MapPost("/{id}/cancel", async (string id, ClaimsPrincipal user, IngestionService service, CancellationToken ct) =>
            TypedResults.Ok(BatchDto.From(await service.CancelAsync(id, user.Actor(), ct))))
            .RequireAuthorization(Policies.Engineer).WithName("CancelBatch").WithSummary("Stop a queued or processing batch: it ends abandoned");

        batches.MapGet("/{id}/files", async (string id, IngestionService service, CancellationToken ct) =>
            TypedResults.Ok(new { items = await service.FilesAsync(id, ct), nextCursor = (string?)null })).WithName("ListBatchFiles")
            .WithSummary("The batch's Parquet files { name, bytes, records }");

        batches.MapGet("/{id}/files/{name}", async (string id, string name, IngestionService service, CancellationToken ct) =>
            TypedResults.PhysicalFile(await service.FilePathAsync(id, name, ct), "application/vnd.apache.parquet", name)).WithName("DownloadBatchFile")
            .WithSummary("Download one Parquet file of the batch");

        v1.MapPost("/collection/{datasetId}", CollectAsync).WithTags("Streaming ingestion").RequireAuthorization(Policies.Engineer).WithName("CollectRecords")
            .WithSummary("One JSON record or an array of at most 1,000 (body at most 1 MB) -> 202 { accepted, rejected: [{ index, errors }] }");
    }

    internal sealed record UploadForm(StagedUpload? File, Dictionary<string, string> Fields);

    private static async Task<IResult> UploadAsync(string id, HttpRequest request, ClaimsPrincipal user, IngestionService service,
        Enrichment.Portal.Core.Guardrails.GuardrailService guardrails, CancellationToken ct)
    {
        try
        {
            await service.DatasetAsync(id, ct);
            var limit = service.Limits.MaxUploadBytes;
            if (request.ContentLength > limit + 64 * 1024) return ApiProblems.TooLarge($"The upload is larger than the limit of {limit:N0} bytes.");
            var (form, problem) = await ReadFormAsync(request, service, limit, ct);
            if (problem is not null) return problem;
            var f = form!.Fields;
            try
            {
                if (form.File is null) return ApiProblems.Validation("file", "A file is required (multipart form field 'file').");
                var options = IngestionService.ParseOptions(f.GetValueOrDefault("delimiter"), f.GetValueOrDefault("errorThreshold"), f.GetValueOrDefault("mapping"),
                    f.GetValueOrDefault("constants"), f.GetValueOrDefault("dateFormat"), f.GetValueOrDefault("timestampFormat"), f.GetValueOrDefault("encoding"));
                var created = await service.CreateBatchAsync(id, form.File, options, f.GetValueOrDefault("idempotencyKey"), user.Actor(), ct);
                var warning = created.Created ? await guardrails.BatchesPerDayWarningAsync(ct) : null;
                var body = new { id = created.Batch.Id, datasetId = created.Batch.DatasetId, status = created.Batch.Status, warnings = warning is null ? created.Batch.Warnings : [warning] };
                return created.Created ? TypedResults.Accepted($"/api/v1/batches/{created.Batch.Id}", body) : TypedResults.Ok(body);
            }
            finally
            {
                if (form.File is { } staged && File.Exists(staged.Path)) IngestionService.Discard(staged);
            }
        }
        catch (UploadTooLargeException e) { return ApiProblems.TooLarge(e.Message); }
    }

    private static async Task<IResult> PreviewAsync(string id, HttpRequest request, IngestionService service, CancellationToken ct)
    {
        try
        {
            await service.DatasetAsync(id, ct);
            var limit = service.Limits.MaxUploadBytes;
            if (request.ContentLength > limit + 64 * 1024) return ApiProblems.TooLarge($"The upload is larger than the limit of {limit:N0} bytes.");
            var (form, problem) = await ReadFormAsync(request, service, limit, ct);
            if (problem is not null) return problem;
            try
            {
                if (form!.File is null) return ApiProblems.Validation("file", "A file is required (multipart form field 'file').");
                var options = IngestionService.ParseOptions(form.Fields.GetValueOrDefault("delimiter"), null, null, null, null, null, form.Fields.GetValueOrDefault("encoding"));
                var preview = await service.PreviewAsync(id, form.File.Path, form.File.FileName, options.Delimiter, 20, ct, options.Encoding);
                return TypedResults.Ok(new { format = preview.Format?.ToString().ToLowerInvariant(), preview.Columns, preview.Rows, suggestedMapping = preview.SuggestedMapping, preview.Error });
            }
            finally
            {
                if (form?.File is { } staged) IngestionService.Discard(staged);
            }
        }
        catch (UploadTooLargeException e) { return ApiProblems.TooLarge(e.Message); }
    }

    /// <summary>Reads a multipart form, streaming the <c>file</c> part to disk (counting bytes) and keeping the small text fields.</summary>
    internal static async Task<(UploadForm? Form, IResult? Problem)> ReadFormAsync(HttpRequest request, IngestionService service, long limit, CancellationToken ct)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            return (null, ApiProblems.Validation("file", "Send the file as multipart/form-data with a 'file' field."));
        var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary) || boundary.Length > 200)
            return (null, ApiProblems.Validation("file", "The multipart request has no valid boundary."));
        var reader = new MultipartReader(boundary, request.Body) { HeadersLengthLimit = 16 * 1024 };
        StagedUpload? file = null;
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        try
        {
            MultipartSection? section;
            while ((section = await reader.ReadNextSectionAsync(ct)) is not null)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var cd) || !cd.DispositionType.Equals("form-data")) continue;
                var name = HeaderUtilities.RemoveQuotes(cd.Name).Value ?? "";
                if (cd.IsFileDisposition() && name.Equals("file", StringComparison.OrdinalIgnoreCase))
                {
                    if (file is not null) { IngestionService.Discard(file); return (null, ApiProblems.Validation("file", "Send one file per batch.")); }
                    var fileName = HeaderUtilities.RemoveQuotes(cd.FileNameStar.HasValue ? cd.FileNameStar : cd.FileName).Value;
                    file = await service.StageUploadAsync(section.Body, fileName, limit, ct: ct);
                }
                else if (!cd.IsFileDisposition())
                {
                    using var sr = new StreamReader(section.Body);
                    var buffer = new char[64 * 1024 + 1];
                    var n = await sr.ReadBlockAsync(buffer, ct);
                    if (n > 64 * 1024) return (null, Fail(file, ApiProblems.Validation(name, $"The form field '{name}' is longer than 64 KB.")));
                    fields[name] = new string(buffer, 0, n);
                }
                else await section.Body.DrainAsync(ct);
            }
        }
        catch (UploadTooLargeException) { if (file is not null) IngestionService.Discard(file); throw; }
        catch (Exception e) when (e is IOException or InvalidDataException or BadHttpRequestException)
        {
            return (null, Fail(file, ApiProblems.Validation("file", "The multipart request is malformed: " + e.Message)));
        }
        return (new UploadForm(file, fields), null);
    }

    private static IResult Fail(StagedUpload? file, IResult problem)
    {
        if (file is not null) IngestionService.Discard(file);
        return problem;
    }

    private static async Task<IResult> CollectAsync(string datasetId, HttpRequest request, StreamingIngestion streaming, IngestionService service, CancellationToken ct)
    {
        try
        {
            await service.DatasetAsync(datasetId, ct);
            var limits = service.Limits;
            if (request.ContentLength > limits.MaxStreamingBodyBytes) return ApiProblems.TooLarge($"The body is larger than {limits.MaxStreamingBodyBytes:N0} bytes.");
            using var body = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int n;
            while ((n = await request.Body.ReadAsync(buffer, ct)) > 0)
            {
                if (body.Length + n > limits.MaxStreamingBodyBytes) return ApiProblems.TooLarge($"The body is larger than {limits.MaxStreamingBodyBytes:N0} bytes.");
                body.Write(buffer, 0, n);
            }
            body.Position = 0;
            // JSON is UTF-8: invalid bytes in a string were a 500 when the record was read (found by the reliability suite).
            if (!System.Text.Unicode.Utf8.IsValid(body.GetBuffer().AsSpan(0, (int)body.Length)))
                return ApiProblems.Validation("body", "The body is not valid UTF-8 (JSON bodies are UTF-8).");
            JsonDocument doc;
            try { doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 }); }
            catch (JsonException e) { return ApiProblems.Validation("body", "The body is not valid JSON: " + e.Message.Split(" Path:")[0]); }
            using (doc)
            {
                var root = doc.RootElement;
                if (root.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))
                    return ApiProblems.Validation("body", "The body must be one JSON record (an object) or an array of records.");
                if (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() > limits.MaxStreamingRecords)
                    return ApiProblems.TooLarge($"At most {limits.MaxStreamingRecords:N0} records per request; this one has {root.GetArrayLength():N0}.");
                var result = await streaming.AcceptAsync(datasetId, root, ct);
                return TypedResults.Accepted((string?)null, new
                {
                    accepted = result.Accepted,
                    rejected = result.Rejected.Select(r => new { index = r.Index, errors = r.Errors.Select(e => new { code = e.Code, field = e.Field, message = e.Message }) }),
                });
            }
        }
        catch (BadHttpRequestException e) { return ApiProblems.Validation("body", e.Message); }
    }
}
