using System.Security.Claims;
using System.Text.Json;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Exploration;
using Enrichment.Portal.Core.Query;
using Enrichment.Portal.Web.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using static Enrichment.Portal.Web.Api.CatalogApiSupport;

namespace Enrichment.Portal.Web.Api;

public sealed record QueryResultDto(IReadOnlyList<QueryColumn> Columns, IReadOnlyList<object?[]> Rows, int RowCount, bool Truncated, long ElapsedMs);

public sealed record QueryHistoryDto(string Id, string Sql, int? RowCount, bool Truncated, long ElapsedMs, string? Error, string? Actor, DateTimeOffset At)
{
    public static QueryHistoryDto From(QueryHistoryEntry h) => new(h.Id, h.Sql, h.RowCount, h.Truncated, h.ElapsedMs, h.Error, h.Actor, h.At);
}

public sealed record QueryTableDto(string Name, string DatasetId, string DatasetName, bool Snapshot, IReadOnlyList<QueryTableColumnDto> Columns);
public sealed record QueryTableColumnDto(string Name, string Type);

/// <summary>API.md "Query service and exploration".</summary>
/// <remarks>
/// Refused queries answer 400 (<c>title</c> "Query rejected"), queries past their time limit 504 ("Query timed out"), a sandbox with too many running queries 429 ("Too many queries") (all with
/// <c>detail</c> the reason, <c>errors.sql</c>); they never reach a 500. Statistics: <c>GET .../stats</c> answers 200 from the
/// cache, computes right away for small datasets (<c>Exploration:SyncMaxBytes</c>, default 64 MB of Parquet), and otherwise
/// starts (or reports) the background job with 202 <c>{ jobId, status: "computing" }</c>: poll the same URL or
/// <c>/api/v1/jobs/{jobId}</c>. <c>POST .../stats</c> always starts the job (202) unless the cache is warm (200).
/// </remarks>
public static class QueriesApi
{
    public static QueryCaller Caller(this ClaimsPrincipal user) =>
        user.FindFirstValue(PortalClaims.ApiKeyId) is { Length: > 0 } key ? new QueryCaller("key:" + key, user.Actor())
        : new QueryCaller("user:" + (user.UserId() ?? user.Actor()), user.Actor());

    public static void MapQueriesApi(this RouteGroupBuilder v1)
    {
        var queries = v1.MapGroup("/queries").WithTags("Query service");

        queries.MapPost("/", async (HttpRequest request, ClaimsPrincipal user, SandboxQueries service, CancellationToken ct) =>
        {
            var (body, problem) = await ReadObjectAsync(request, ct);
            if (problem is not null) return problem;
            var errors = new Dictionary<string, string[]>();
            var sql = Str(body, "sql", errors);
            var limit = Int(body, "limit", errors);
            var timeout = Int(body, "timeoutSeconds", errors);
            if (errors.Count > 0) return ApiProblems.Validation(errors);
            try
            {
                var r = await service.RunAsync(sql, limit, timeout, user.Caller(), ct);
                return TypedResults.Ok(new QueryResultDto(r.Columns, r.Rows, r.RowCount, r.Truncated, r.ElapsedMs));
            }
            catch (QueryRejectedException e) { return QueryProblem("Query rejected", e.Reason, "rejected"); }
            catch (QueryTimeoutException e) { return QueryProblem("Query timed out", e.Message, "timeout", 504); }
            catch (QueryBusyException e) { return QueryProblem("Too many queries", e.Message, "busy", 429); }
        }).RequireAuthorization(Policies.Scientist).WithName("RunQuery")
          .WithSummary("Run one read-only SELECT over the sandbox's datasets { sql, limit (default 1000), timeoutSeconds (capped by Query:TimeoutSeconds) }; refused: 400, timed out: 504, too many running: 429");

        queries.MapGet("/history", async (int? limit, string? cursor, ClaimsPrincipal user, SandboxQueries service, CancellationToken ct) =>
        {
            if (!Paging.TryParse(limit, cursor, out var paging, out var problem)) return problem!;
            return TypedResults.Ok(await paging.ApplyAsync(service.History(user.Caller().Principal), QueryHistoryDto.From, ct));
        }).WithName("QueryHistory").WithSummary("The caller's own queries, newest first (any role)");

        queries.MapGet("/tables", async (SandboxQueries service, CancellationToken ct) =>
            TypedResults.Ok(new
            {
                items = (await service.TablesAsync(ct)).Select(t => new QueryTableDto(t.Name, t.DatasetId, t.DatasetName, t.IsSnapshot,
                    t.Columns.Select(c => new QueryTableColumnDto(c.Path, c.Type.ToString().ToLowerInvariant())).ToList())).ToList(),
            })).WithName("QueryTables").WithSummary("The tables a query can read: datasets with committed data and profile_snapshot");

        queries.MapPost("/save", async (HttpRequest request, ClaimsPrincipal user, SandboxQueries service, CancellationToken ct) =>
        {
            var (body, problem) = await ReadObjectAsync(request, ct);
            if (problem is not null) return problem;
            var errors = new Dictionary<string, string[]>();
            var sql = Str(body, "sql", errors);
            var name = Str(body, "datasetName", errors);
            if (errors.Count > 0) return ApiProblems.Validation(errors);
            try
            {
                var saved = await service.SaveAsDatasetAsync(sql, name, user.Actor(), ct);
                return TypedResults.Created($"/api/v1/datasets/{saved.Dataset.Id}", new
                {
                    datasetId = saved.Dataset.Id, schemaId = saved.Schema.Id, name = saved.Dataset.Name, rowCount = saved.RowCount, batchId = saved.BatchId,
                    @class = saved.Schema.Class.ToString().ToLowerInvariant(),
                });
            }
            catch (QueryRejectedException e) { return QueryProblem("Query rejected", e.Reason, "rejected"); }
            catch (QueryTimeoutException e) { return QueryProblem("Query timed out", e.Message, "timeout", 504); }
            catch (QueryBusyException e) { return QueryProblem("Too many queries", e.Message, "busy", 429); }
        }).RequireAuthorization(Policies.Scientist).WithName("SaveQueryAsDataset")
          .WithSummary("Save the full result of a query as a new dataset { sql, datasetName } with a derived schema, as one committed batch: 201 { datasetId, rowCount }");

        var datasets = v1.MapGroup("/datasets").WithTags("Exploration");

        datasets.MapGet("/{id}/stats", async (string id, string? target, string? positive, ClaimsPrincipal user, ExplorationService exploration, CancellationToken ct) =>
        {
            var found = await exploration.LookupAsync(id, target, positive, ct);
            if (found.Report is not null) return TypedResults.Ok(found.Report);
            if (found.JobRunId is not null) return Computing(id, found.JobRunId);
            if (found.Small) return TypedResults.Ok(await exploration.ComputeAsync(id, target, positive, null, ct));
            return Computing(id, await exploration.StartAsync(id, target, positive, user.Actor(), ct));
        }).RequireAuthorization(Policies.Scientist).WithName("DatasetStats")
          .WithSummary("Column statistics, data-quality warnings and target signal (?target=&positive=); cached per dataset version; large datasets: 202 { jobId } while computing");

        datasets.MapPost("/{id}/stats", async (string id, string? target, string? positive, ClaimsPrincipal user, ExplorationService exploration, CancellationToken ct) =>
        {
            var found = await exploration.LookupAsync(id, target, positive, ct);
            if (found.Report is not null) return TypedResults.Ok(found.Report);
            return Computing(id, found.JobRunId ?? await exploration.StartAsync(id, target, positive, user.Actor(), ct));
        }).RequireAuthorization(Policies.Scientist).WithName("ComputeDatasetStats")
          .WithSummary("Compute the statistics in a background job: 202 { jobId } (200 with the statistics when already cached)");
    }

    private static IResult Computing(string datasetId, string jobId) =>
        TypedResults.Accepted($"/api/v1/jobs/{jobId}", new { jobId, datasetId, status = StatsCacheStatus.Computing });

    private static ProblemHttpResult QueryProblem(string title, string reason, string kind, int status = 400) =>
        TypedResults.Problem(new Microsoft.AspNetCore.Mvc.ProblemDetails
        {
            Status = status, Title = title, Detail = reason,
            Extensions = { ["reason"] = kind, ["errors"] = new Dictionary<string, string[]> { ["sql"] = [reason] } },
        });

    private static int? Int(JsonElement body, string name, Dictionary<string, string[]> errors)
    {
        if (!body.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i)) return i;
        errors[name] = [$"{name} must be a whole number."];
        return null;
    }
}
