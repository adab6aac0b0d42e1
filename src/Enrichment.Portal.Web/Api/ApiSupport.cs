using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Enrichment.Portal.Web.Api;

/// <summary>A page of a list (API.md, Conventions: Lists).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>Paging by opaque cursor (an encoded offset) and limit (default 50, max 1000).</summary>
public readonly record struct Paging(int Offset, int Limit)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 1000;

    /// <summary>Parses <c>?limit=&amp;cursor=</c>; returns a problem for bad values.</summary>
    public static bool TryParse(int? limit, string? cursor, out Paging paging, out IResult? problem)
    {
        paging = default;
        problem = null;
        var l = limit ?? DefaultLimit;
        if (l < 1 || l > MaxLimit)
        {
            problem = ApiProblems.Validation("limit", $"limit must be between 1 and {MaxLimit}.");
            return false;
        }
        var offset = 0;
        if (!string.IsNullOrEmpty(cursor))
        {
            try { offset = int.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(cursor))[2..]); }
            catch (Exception ex) when (ex is FormatException or ArgumentOutOfRangeException or OverflowException)
            {
                problem = ApiProblems.Validation("cursor", "cursor is not one this API gave out.");
                return false;
            }
            if (offset < 0) { problem = ApiProblems.Validation("cursor", "cursor is not one this API gave out."); return false; }
        }
        paging = new Paging(offset, l);
        return true;
    }

    public static string Encode(int offset) => Convert.ToBase64String(Encoding.UTF8.GetBytes("o:" + offset));

    /// <summary>Takes one more than the limit to know whether there is a next page.</summary>
    public async Task<Page<TOut>> ApplyAsync<TIn, TOut>(IQueryable<TIn> query, Func<TIn, TOut> map, CancellationToken ct)
    {
        var rows = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(query.Skip(Offset).Take(Limit + 1), ct);
        var next = rows.Count > Limit ? Encode(Offset + Limit) : null;
        return new Page<TOut>(rows.Take(Limit).Select(map).ToList(), next);
    }
}

/// <summary>RFC 7807 answers with the shapes API.md asks for.</summary>
public static class ApiProblems
{
    public static ProblemHttpResult Validation(string field, string message) =>
        TypedResults.Problem(new Microsoft.AspNetCore.Mvc.ProblemDetails
        {
            Status = 400, Title = "Invalid request", Detail = message,
            Extensions = { ["errors"] = new Dictionary<string, string[]> { [field] = [message] } },
        });

    public static ProblemHttpResult Validation(IDictionary<string, string[]> errors, string? detail = null, int status = 400) =>
        TypedResults.Problem(new Microsoft.AspNetCore.Mvc.ProblemDetails
        {
            Status = status, Title = status == 422 ? "Rule violated" : "Invalid request",
            Detail = detail ?? string.Join(" ", errors.SelectMany(e => e.Value)),
            Extensions = { ["errors"] = errors },
        });

    public static ProblemHttpResult NotFound(string what) => TypedResults.Problem(statusCode: 404, title: "Not found", detail: what);
    public static ProblemHttpResult Conflict(string detail) => TypedResults.Problem(statusCode: 409, title: "Conflict", detail: detail);
    public static ProblemHttpResult Unprocessable(string detail) => TypedResults.Problem(statusCode: 422, title: "Rule violated", detail: detail);
    public static ProblemHttpResult TooLarge(string detail) => TypedResults.Problem(statusCode: 413, title: "Too large", detail: detail);
}
