using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Audiences;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Web.Auth;
using static Enrichment.Portal.Web.Api.CatalogApiSupport;

namespace Enrichment.Portal.Web.Api;

/// <summary>API.md "Audiences and destinations": <c>/api/v1/segments</c> (audiences) and <c>/api/v1/destinations</c>.</summary>
public static class AudiencesApi
{
    public sealed record SegmentDto(string Id, string Name, string? Description, JsonNode? Rule, string Status, long Size,
        DateTimeOffset? EvaluatedAt, string? LastJobRunId, string? Error, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
        IReadOnlyList<SizePointDto>? History = null, string? MergePolicyId = null)
    {
        public static SegmentDto From(Audience a, IReadOnlyList<SizePointDto>? history = null) => new(a.Id, a.Name, a.Description, JsonNode.Parse(a.RuleJson), a.Status, a.Size,
            a.EvaluatedAt, a.LastJobRunId, a.Error, a.CreatedAt, a.UpdatedAt, history, a.MergePolicyId);
    }

    public sealed record SizePointDto(DateTimeOffset At, long Size, long Entered, long Exited, string Kind);

    private static async Task<(JsonObject? Body, IResult? Problem)> BodyAsync(HttpRequest request, CancellationToken ct)
    {
        var (body, problem) = await ReadObjectAsync(request, ct);
        if (problem is not null) return (null, problem);
        return (JsonNode.Parse(body.GetRawText()) as JsonObject, null);
    }

    /// <summary><c>mergePolicyId</c>: absent or null (the default policy) or a text; anything else is a 422 naming the field.</summary>
    private static IResult? PolicyField(JsonObject body, out string? id)
    {
        id = null;
        var node = body["mergePolicyId"];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue<string>(out var s) && !string.IsNullOrWhiteSpace(s)) { id = s.Trim(); return null; }
        return ApiProblems.Validation("mergePolicyId", "mergePolicyId is the id of one of the sandbox's merge policies (GET /api/v1/merge-policies), or null for the default.");
    }

    private static string? Text(JsonObject body, string key) =>
        body[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static void MapAudiencesApi(this RouteGroupBuilder v1)
    {
        var g = v1.MapGroup("/segments").WithTags("Audiences");

        g.MapGet("/", async (AudienceService service, CancellationToken ct) =>
        {
            var items = new List<SegmentDto>();
            foreach (var a in await service.ListAsync(ct))
                items.Add(SegmentDto.From(a, (await service.HistoryAsync(a.Id, 30, ct)).Select(p => new SizePointDto(p.At, p.Size, p.Entered, p.Exited, p.Kind)).ToList()));
            return Results.Ok(new { items, nextCursor = (string?)null });
        }).WithName("ListSegments").WithSummary("Audiences of the sandbox with size and the last 30 sizes (sparkline)");

        g.MapPost("/", async (HttpRequest request, ClaimsPrincipal user, AudienceService service, CancellationToken ct) =>
        {
            var (body, problem) = await BodyAsync(request, ct);
            if (problem is not null) return problem;
            if (PolicyField(body!, out var policyId) is { } bad) return bad;
            var a = await service.CreateAsync(Text(body!, "name"), Text(body!, "description"), body!["rule"], user.Actor(), ct, policyId);
            if (body!["evaluate"] is JsonValue ev && ev.TryGetValue<bool>(out var e) && e) await service.EvaluateAsync(a.Id, user.Actor(), ct);
            return Results.Created($"/api/v1/segments/{a.Id}", SegmentDto.From(await service.FindAsync(a.Id, ct) ?? a));
        }).RequireAuthorization(Policies.Marketer).WithName("CreateSegment")
          .WithSummary("Create an audience { name, description?, rule, mergePolicyId? (null: the sandbox's default), evaluate? } -> 201; a rule naming an unknown field or comparing a number with text is a 422 naming the part of the rule");

        g.MapPost("/estimate", async (HttpRequest request, AudienceService service, CancellationToken ct) =>
        {
            var (body, problem) = await BodyAsync(request, ct);
            if (problem is not null) return problem;
            var sample = body!["sample"] is JsonValue sv && sv.TryGetValue<int>(out var n) ? n : 10;
            if (PolicyField(body!, out var policyId) is { } bad) return bad;
            return Results.Ok(await service.EstimateAsync(body!["rule"], Math.Clamp(sample, 0, 100), ct, policyId));
        }).WithName("EstimateSegment").WithSummary("Size, share of the sandbox and a sample of members of an unsaved rule { rule, sample?, mergePolicyId? }");

        g.MapGet("/fields", async (AudienceEvaluator evaluator, CancellationToken ct) =>
        {
            var c = await evaluator.CatalogAsync(ct);
            return Results.Ok(new
            {
                attributes = c.Attributes.Values.OrderBy(f => f.Path, StringComparer.Ordinal).Select(f => new { path = f.Path, kind = Kind(f.Kind), itemKind = f.ItemKind is { } k ? Kind(k) : null, f.Description }),
                maps = c.Maps.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => new { path = m.Key, valueKind = Kind(m.Value) }),
                insights = c.InsightModels.Order(StringComparer.Ordinal).SelectMany(m => RuleCatalog.InsightFieldKinds.Values.Select(f => new { path = $"insights.{m}.{f.Path}", model = m, kind = Kind(f.Kind), f.Description })),
                eventFields = c.EventFields.Values.OrderBy(f => f.Path, StringComparer.Ordinal).Select(f => new { path = f.Path, kind = Kind(f.Kind) }),
                namespaces = c.Namespaces.Order(StringComparer.Ordinal),
            });
        }).WithName("SegmentFields").WithSummary("What rules may name: attributes, maps, insight fields, event fields, identity namespaces");

        g.MapGet("/fields/values", async (string? path, int? limit, AudienceValueSuggestions suggestions, CancellationToken ct) =>
            Results.Ok(new { path, items = await suggestions.TopValuesAsync(path, limit ?? 10, ct), sampleSize = AudienceValueSuggestions.SampleSize }))
            .WithName("SegmentFieldValues").WithSummary("The most frequent values of a text attribute { items: [{ value, count }] } over a sample of profiles: the rule builder's suggestions");

        g.MapGet("/{id}", async (string id, AudienceService service, CancellationToken ct) =>
        {
            var a = await service.FindAsync(id, ct);
            if (a is null) return ApiProblems.NotFound($"No audience {id} in this sandbox.");
            var history = (await service.HistoryAsync(id, 100, ct)).Select(p => new SizePointDto(p.At, p.Size, p.Entered, p.Exited, p.Kind)).ToList();
            return Results.Ok(SegmentDto.From(a, history));
        }).WithName("GetSegment").WithSummary("An audience { ..., size, evaluatedAt, history }");

        g.MapPatch("/{id}", async (string id, HttpRequest request, AudienceService service, CancellationToken ct) =>
        {
            var (body, problem) = await BodyAsync(request, ct);
            if (problem is not null) return problem;
            if (PolicyField(body!, out var policyId) is { } bad) return bad;
            var a = await service.UpdateAsync(id, Text(body!, "name"), Text(body!, "description"), body!["rule"], ct, body!.ContainsKey("mergePolicyId"), policyId);
            return Results.Ok(SegmentDto.From(a));
        }).RequireAuthorization(Policies.Marketer).WithName("UpdateSegment").WithSummary("Change { name?, description?, rule?, mergePolicyId? (null: back to the sandbox's default) }; evaluate again after a rule or policy change");

        g.MapDelete("/{id}", async (string id, AudienceService service, CancellationToken ct) =>
        {
            await service.DeleteAsync(id, ct);
            return Results.NoContent();
        }).RequireAuthorization(Policies.Marketer).WithName("DeleteSegment").WithSummary("Delete an audience (409 while another audience's rule uses it)");

        g.MapPost("/{id}/evaluate", async (string id, ClaimsPrincipal user, AudienceService service, CancellationToken ct) =>
        {
            var run = await service.EvaluateAsync(id, user.Actor(), ct);
            return Results.Accepted($"/api/v1/jobs/{run.Id}", new { jobId = run.Id });
        }).RequireAuthorization(Policies.Marketer).WithName("EvaluateSegment").WithSummary("Full evaluation as a job -> 202 { jobId }; 409 while an evaluation of the audience is queued or running");

        g.MapPost("/evaluate-all", async (ClaimsPrincipal user, AudienceService service, CancellationToken ct) =>
        {
            var run = await service.RefreshAsync(AudienceRefreshJob.All, user.Actor(), ct);
            return Results.Accepted($"/api/v1/jobs/{run.Id}", new { jobId = run.Id });
        }).RequireAuthorization(Policies.Marketer).WithName("EvaluateAllSegments")
          .WithSummary("Full evaluation of every audience as one job, in dependency order (an audience after the audiences its rule names) -> 202 { jobId }; 409 while one is queued or running");

        g.MapGet("/{id}/members", async (string id, int? limit, string? cursor, AudienceService service, CancellationToken ct) =>
        {
            if (await service.FindAsync(id, ct) is null) return ApiProblems.NotFound($"No audience {id} in this sandbox.");
            var l = limit ?? 50;
            if (l < 1 || l > Paging.MaxLimit) return ApiProblems.Validation("limit", $"limit must be between 1 and {Paging.MaxLimit}.");
            var items = await service.MembersAsync(id, cursor, l + 1, ct);
            var next = items.Count > l ? items[l - 1].ProfileId : null;
            return Results.Ok(new { items = items.Take(l), nextCursor = next });
        }).WithName("SegmentMembers").WithSummary("Current members { profileId, since } in profile id order (cursor = the last profile id)");

        g.MapGet("/{id}/changes", async (string id, int? limit, AudienceService service, CancellationToken ct) =>
        {
            if (await service.FindAsync(id, ct) is null) return ApiProblems.NotFound($"No audience {id} in this sandbox.");
            var items = (await service.ChangesAsync(id, limit ?? 100, ct)).Select(c => new { c.Id, c.ProfileId, change = c.Entered ? "entered" : "exited", c.At });
            return Results.Ok(new { items });
        }).WithName("SegmentChanges").WithSummary("Membership changes (entered / exited), newest first");
    }

    public sealed record DestinationBody(string? Name, string? Type, string? Target, string? Format, string? Mode,
        List<string>? SegmentIds, List<string>? Attributes, List<string>? Identities, string? Cron,
        int? BatchSize = null, double? RateLimit = null);

    public static void MapDestinationsApi(this RouteGroupBuilder v1)
    {
        var g = v1.MapGroup("/destinations").WithTags("Audiences");
        g.MapGet("/", async (DestinationService service, CancellationToken ct) => Results.Ok(new { items = await service.ListAsync(ct), nextCursor = (string?)null }))
            .WithName("ListDestinations").WithSummary("Destinations of the sandbox");
        g.MapPost("/", async (HttpRequest request, ClaimsPrincipal user, DestinationService service, CancellationToken ct) =>
        {
            var (body, problem) = await ReadObjectAsync(request, ct);
            if (problem is not null) return problem;
            DestinationBody? b;
            try { b = body.Deserialize<DestinationBody>(new JsonSerializerOptions(JsonSerializerDefaults.Web)); }
            catch (JsonException e) { return ApiProblems.Validation("request", "The destination is not of the expected shape: " + e.Message.Split(" Path:")[0]); }
            var d = await service.CreateAsync(new DestinationRequest(b!.Name, b.Type, b.Target, b.Format, b.Mode, b.SegmentIds, b.Attributes, b.Identities, b.Cron, b.BatchSize, b.RateLimit), user.Actor(), ct);
            // A webhook's signing secret is returned here, once; the entity never serializes it (JsonIgnore).
            if (d.Type != DestinationTypes.Webhook) return Results.Created($"/api/v1/destinations/{d.Id}", d);
            var created = JsonSerializer.SerializeToNode(d, new JsonSerializerOptions(JsonSerializerDefaults.Web))!.AsObject();
            created["secret"] = d.Secret;
            return Results.Created($"/api/v1/destinations/{d.Id}", created);
        }).RequireAuthorization(Policies.Marketer).WithName("CreateDestination")
          .WithSummary("Create a destination { name, type: file|webhook, target (export folder name, or the webhook URL), format: csv|parquet (file) | json (webhook), mode: full|changes (webhook: changes), segmentIds, attributes, identities, batchSize, rateLimit (webhook batches per second) }; a webhook's answer holds its signing secret, once");
        g.MapGet("/{id}", async (string id, DestinationService service, CancellationToken ct) =>
        {
            var d = await service.FindAsync(id, ct);
            if (d is null) return ApiProblems.NotFound($"No destination {id} in this sandbox.");
            return Results.Ok(new { destination = d, runs = await service.RunsAsync(id, 50, ct), deadLetters = await service.DeadLettersAsync(id, 100, ct) });
        }).WithName("GetDestination").WithSummary("A destination with its runs (counts, bytes, duration, errors, batches, retries, dead letters) and its dead-lettered webhook batches, newest first");
        g.MapPatch("/{id}", async (string id, HttpRequest request, ClaimsPrincipal user, DestinationService service, CancellationToken ct) =>
        {
            var (body, problem) = await ReadObjectAsync(request, ct);
            if (problem is not null) return problem;
            DestinationBody? b;
            try { b = body.Deserialize<DestinationBody>(new JsonSerializerOptions(JsonSerializerDefaults.Web)); }
            catch (JsonException e) { return ApiProblems.Validation("request", "The destination is not of the expected shape: " + e.Message.Split(" Path:")[0]); }
            // "rateLimit": null removes the limit; a PATCH without the property keeps it.
            var clearRate = body.TryGetProperty("rateLimit", out var rate) && rate.ValueKind == JsonValueKind.Null;
            var d = await service.UpdateAsync(id, new DestinationRequest(b!.Name, b.Type, b.Target, b.Format, b.Mode, b.SegmentIds, b.Attributes, b.Identities, b.Cron, b.BatchSize, b.RateLimit)
                { ClearRateLimit = clearRate }, user.Actor(), ct);
            return Results.Ok(d);
        }).RequireAuthorization(Policies.Marketer).WithName("UpdateDestination")
          .WithSummary("Change a destination (any field of the creation but type; cron \"\" clears the schedule, rateLimit null removes the limit, a missing field stays); the webhook secret and the cursor stay");
        g.MapDelete("/{id}", async (string id, ClaimsPrincipal user, DestinationService service, CancellationToken ct) =>
        {
            await service.DeleteAsync(id, user.Actor(), ct);
            return Results.NoContent();
        }).RequireAuthorization(Policies.Marketer).WithName("DeleteDestination").WithSummary("Delete a destination with its runs and dead letters (409 while it runs)");
        g.MapPost("/{id}/dead-letters/{deadLetterId}/resend", async (string id, string deadLetterId, DestinationService service, WebhookSender sender, CancellationToken ct) =>
        {
            var d = await service.FindAsync(id, ct);
            if (d is null) return ApiProblems.NotFound($"No destination {id} in this sandbox.");
            var run = await sender.ResendAsync(d, deadLetterId, ct);
            return Results.Ok(new { status = run.Status == "succeeded" ? "resent" : "failed", run });
        }).RequireAuthorization(Policies.Marketer).WithName("ResendDeadLetter")
          .WithSummary("Send a dead-lettered webhook batch again (same batch id) -> { status: resent|failed, run }; once resent it leaves the dead-letter list");
        g.MapPost("/{id}/run", async (string id, ClaimsPrincipal user, DestinationService service, CancellationToken ct) =>
        {
            var run = await service.RunAsync(id, user.Actor(), ct);
            return Results.Accepted($"/api/v1/jobs/{run.Id}", new { jobId = run.Id });
        }).RequireAuthorization(Policies.Marketer).WithName("RunDestination").WithSummary("Run a destination now -> 202 { jobId }");
    }

    internal static string Kind(ValueKind k) => JsonNamingPolicy.CamelCase.ConvertName(k.ToString());
}
