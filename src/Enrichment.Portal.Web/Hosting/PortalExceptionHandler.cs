using System.Text.Json;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Web.Api;
using Microsoft.AspNetCore.Diagnostics;

namespace Enrichment.Portal.Web.Hosting;

/// <summary>
/// Bad input answers 4xx problem details, never 500; only real faults are 500 (logged, with no detail leaked).
/// A <see cref="CatalogException"/> thrown by a service becomes its problem (<see cref="CatalogApiSupport.ToProblem"/>), so endpoints
/// need no try/catch of their own.
/// </summary>
public sealed class PortalExceptionHandler(IProblemDetailsService problems, ILogger<PortalExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        if (exception is CatalogException refusal)
        {
            // A service's refusal (not found, invalid, a broken rule, a conflict, forbidden): mapped once, here, for every endpoint.
            if (!http.Response.HasStarted) await refusal.ToProblem().ExecuteAsync(http);
            return true;
        }
        var (status, title) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, bad.StatusCode == 413 ? "Request too large" : "Malformed request"),
            JsonException => (400, "Malformed JSON"),
            InvalidDataException => (400, "Malformed request"),
            OperationCanceledException when http.RequestAborted.IsCancellationRequested => (499, "Client closed request"),
            _ => (500, "Unexpected error"),
        };
        if (status == 500) log.LogError(exception, "Unhandled error on {Method} {Path}", http.Request.Method, http.Request.Path);
        if (http.Response.HasStarted) return true;
        http.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = status == 500 ? "The server failed to handle this request; it has been logged." : Inner(exception).Message },
        });
    }

    private static Exception Inner(Exception e) => e.InnerException is JsonException j ? j : e;
}
