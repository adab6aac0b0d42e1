using System.Globalization;
using Enrichment.Portal.Core.Guardrails;

namespace Enrichment.Portal.Web.Api;

/// <summary>API.md "Guardrails, latency, jobs": guardrails with usage, ingestion latency percentiles and batch timelines.</summary>
public static class GuardrailsApi
{
    public static void MapGuardrailsApi(this RouteGroupBuilder v1)
    {
        v1.MapGet("/guardrails", async (bool? fresh, GuardrailService guardrails, CancellationToken ct) =>
            TypedResults.Ok(new { items = await guardrails.ReadAsync(fresh ?? false, ct) }))
            .WithTags("Guardrails").WithName("ListGuardrails")
            .WithSummary("Every guardrail { key, name, limit, current, unit, status: ok|warning|exceeded, enforcement: soft|hard, description, offender, source } (cached 15 s; ?fresh=true counts now)");

        var latency = v1.MapGroup("/ingestion/latency").WithTags("Guardrails");
        latency.MapGet("/", async (string? hours, LatencyService service, CancellationToken ct) =>
        {
            if (!TryHours(hours, out var h, out var problem)) return problem!;
            return TypedResults.Ok(await service.SummaryAsync(h, ct));
        }).WithName("GetIngestionLatency")
          .WithSummary("p50/p95 (nearest rank) end to end and per stage of the finished batches of the last ?hours (default 24), and streaming latency (record received to profile updated)");

        latency.MapGet("/batches", async (string? hours, string? limit, bool? includeStreaming, LatencyService service, CancellationToken ct) =>
        {
            if (!TryHours(hours, out var h, out var problem)) return problem!;
            var l = Paging.DefaultLimit;
            if (!string.IsNullOrEmpty(limit) && (!int.TryParse(limit, NumberStyles.Integer, CultureInfo.InvariantCulture, out l) || l < 1 || l > Paging.MaxLimit))
                return ApiProblems.Validation("limit", $"limit must be a whole number between 1 and {Paging.MaxLimit}.");
            return TypedResults.Ok(await service.BatchesAsync(h, l, includeStreaming ?? false, ct));
        }).WithName("ListLatencyBatches")
          .WithSummary("Batches in flight (with their current stage) and the newest ?limit batches of the last ?hours, each with its stage timeline");
    }

    /// <summary><c>?hours=</c>: a number above 0 and at most 744 (31 days); default 24.</summary>
    private static bool TryHours(string? text, out double hours, out IResult? problem)
    {
        hours = 24;
        problem = null;
        if (string.IsNullOrEmpty(text)) return true;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out hours) && double.IsFinite(hours) && hours > 0 && hours <= LatencyService.MaxHours)
            return true;
        problem = ApiProblems.Validation("hours", $"hours must be a number above 0 and at most {LatencyService.MaxHours:0} (31 days).");
        return false;
    }
}
