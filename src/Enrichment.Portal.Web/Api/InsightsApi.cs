using System.Security.Claims;
using System.Text.Json;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Insights;
using Enrichment.Portal.Web.Auth;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Web.Api;

/// <summary>Bring your own scores: <c>/api/v1/insights/imports</c> (ARCHITECTURE.md, Insights).</summary>
public static class InsightsApi
{
    /// <summary>The JSON form field <c>import</c> of an upload.</summary>
    public sealed record ImportBody(string? Name, InsightImportIdentity? Identity, Dictionary<string, string>? Fields, string? ScoredAtColumn,
        string? ModelVersion, double? ErrorThreshold, string? Delimiter);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { AllowTrailingCommas = true, MaxDepth = 8 };

    public static void MapInsightsApi(this RouteGroupBuilder v1)
    {
        var imports = v1.MapGroup("/insights/imports").WithTags("Insights");
        imports.MapPost("/", ImportAsync).RequireAuthorization(Policies.Scientist).WithName("ImportScores")
            .WithSummary("Bring your own scores (multipart: file = CSV, import = JSON { name, identity: { column, namespace }, fields: { column: score|value|segment|engagement|top|<custom> }, scoredAtColumn?, modelVersion?, errorThreshold? }) -> 202 { batchId, datasetId }");
        imports.MapPost("/preview", PreviewAsync).RequireAuthorization(Policies.Scientist).WithName("PreviewScores")
            .WithSummary("Columns, first rows and a suggested import (identity column, namespace, column -> field) of a CSV (multipart: file); nothing is stored");
        imports.MapGet("/", async (InsightImportService service, CancellationToken ct) =>
        {
            var items = (await service.ImportDatasetsAsync(ct)).Select(d => new
            {
                name = d.Name[InsightImportService.DatasetPrefix.Length..], datasetId = d.Id, d.RecordCount, d.BatchCount, d.UpdatedAt,
            });
            return TypedResults.Ok(new { items, nextCursor = (string?)null });
        }).WithName("ListScoreImports").WithSummary("Names imported so far, with their dataset");
    }

    private static async Task<IResult> ImportAsync(HttpRequest request, ClaimsPrincipal user, InsightImportService service, IngestionService ingestion, CancellationToken ct)
    {
        try
        {
            var (form, problem) = await ReadAsync(request, ingestion, ct);
            if (problem is not null) return problem;
            var staged = form!.File!;
            try
            {
                var text = form.Fields.GetValueOrDefault("import") ?? form.Fields.GetValueOrDefault("request");
                if (string.IsNullOrWhiteSpace(text)) return ApiProblems.Validation("import", "Send the import as JSON in the form field 'import': { name, identity: { column, namespace }, fields }.");
                ImportBody? body;
                try { body = JsonSerializer.Deserialize<ImportBody>(text, Json); }
                catch (JsonException e) { return ApiProblems.Validation("import", "The import is not valid JSON of the expected shape: " + e.Message.Split(" Path:")[0]); }
                if (body is null) return ApiProblems.Validation("import", "The import must be a JSON object.");
                var delimiter = ',';
                if (!string.IsNullOrEmpty(body.Delimiter))
                {
                    var d = body.Delimiter is "\\t" or "tab" ? "\t" : body.Delimiter;
                    if (d.Length != 1 || d[0] is '"' or '\r' or '\n') return ApiProblems.Validation("delimiter", "delimiter must be one character, e.g. ',' ';' or '\\t'.");
                    delimiter = d[0];
                }
                var started = await service.StartAsync(new InsightImportRequest(body.Name, body.Identity, body.Fields, body.ScoredAtColumn, body.ModelVersion)
                    { Delimiter = delimiter, ErrorThreshold = body.ErrorThreshold }, staged, user.Actor(), ct);
                return TypedResults.Accepted($"/api/v1/batches/{started.BatchId}", new
                {
                    id = started.BatchId, batchId = started.BatchId, started.DatasetId, started.SchemaId, started.Name, started.IdentityField,
                    started.DatasetCreated, started.Status,
                });
            }
            finally { IngestionService.Discard(staged); }
        }
        catch (UploadTooLargeException e) { return ApiProblems.TooLarge(e.Message); }
    }

    private static async Task<IResult> PreviewAsync(HttpRequest request, IngestionService ingestion, CancellationToken ct)
    {
        try
        {
            var (form, problem) = await ReadAsync(request, ingestion, ct);
            if (problem is not null) return problem;
            try
            {
                var d = form!.Fields.GetValueOrDefault("delimiter");
                var p = await InsightImportService.PreviewAsync(form.File!.Path, form.File.FileName, string.IsNullOrEmpty(d) ? ',' : d is "\\t" or "tab" ? '\t' : d[0], 20, ct);
                return TypedResults.Ok(p);
            }
            finally { IngestionService.Discard(form!.File!); }
        }
        catch (UploadTooLargeException e) { return ApiProblems.TooLarge(e.Message); }
    }

    private static async Task<(IngestionApi.UploadForm? Form, IResult? Problem)> ReadAsync(HttpRequest request, IngestionService ingestion, CancellationToken ct)
    {
        var limit = ingestion.Limits.MaxUploadBytes;
        if (request.ContentLength > limit + 64 * 1024) return (null, ApiProblems.TooLarge($"The upload is larger than the limit of {limit:N0} bytes."));
        var (form, problem) = await IngestionApi.ReadFormAsync(request, ingestion, limit, ct);
        if (problem is not null) return (null, problem);
        if (form!.File is null) return (null, ApiProblems.Validation("file", "A file is required (multipart form field 'file')."));
        return (form, null);
    }
}
