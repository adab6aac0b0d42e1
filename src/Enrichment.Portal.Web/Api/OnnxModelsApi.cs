using System.Security.Claims;
using System.Text.Json;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Web.Auth;

namespace Enrichment.Portal.Web.Api;

/// <summary>API.md "Models trained elsewhere (ONNX)": versions of <c>custom</c> models from uploaded .onnx files.</summary>
public static class OnnxModelsApi
{
    public static void MapOnnxModelsApi(this RouteGroupBuilder v1)
    {
        var group = v1.MapGroup("/models").WithTags("Models");

        group.MapPost("/{id}/versions/inspect", async (string id, HttpRequest request, OnnxVersionService service, CancellationToken ct) =>
        {
            var (form, problem) = await ReadAsync(request, service, ct);
            if (problem is not null) return problem;
            return Results.Ok(await service.InspectAsync(id, form!.File, form.DatasetId, form.Snapshot, ct));
        }).RequireAuthorization(Policies.Scientist).WithName("InspectOnnxModel").DisableAntiforgery()
          .WithSummary("Signature of an .onnx file (multipart: file; datasetId or snapshot when the model has no source) and a suggested mapping; nothing is stored")
          .Produces<OnnxInspection>().ProducesProblem(400).ProducesProblem(413).ProducesProblem(422);

        group.MapPost("/{id}/versions", async (string id, HttpRequest request, ClaimsPrincipal user, OnnxVersionService service, CancellationToken ct) =>
        {
            var (form, problem) = await ReadAsync(request, service, ct);
            if (problem is not null) return problem;
            var errors = new Dictionary<string, string[]>();
            var mapping = ReadMapping(form!.Mapping, errors);
            if (errors.Count > 0) return ApiProblems.Validation(errors);
            var view = await service.UploadAsync(id, form.File, mapping, form.DatasetId, form.Snapshot, user.Actor(), ct);
            return Results.Created($"/api/v1/models/{id}/versions/{view.VersionId}", view);
        }).RequireAuthorization(Policies.Scientist).WithName("UploadOnnxVersion").DisableAntiforgery()
          .WithSummary("A new version of a custom model from an .onnx file (multipart: file, mapping = { inputs: { <input>: <field> | [fields] }, output, outputIndex, outputKey, kind: score|value|class, insight }) -> 201 { versionId, inputs, outputs, mapping }; 422 names the input or output at fault; 413 over Models:Onnx:MaxModelBytes")
          .Produces<OnnxVersionView>(201).ProducesProblem(400).ProducesProblem(413).ProducesProblem(422);
    }

    private sealed record OnnxForm(byte[] File, string? Mapping, string? DatasetId, bool Snapshot);

    private static async Task<(OnnxForm? Form, IResult? Problem)> ReadAsync(HttpRequest request, OnnxVersionService service, CancellationToken ct)
    {
        var limit = service.MaxModelBytes;
        if (request.ContentLength > limit + 1024 * 1024)
            return (null, ApiProblems.TooLarge($"The upload is larger than the model size limit of {limit:N0} bytes ({OnnxOptions.Section}:MaxModelBytes)."));
        if (!request.HasFormContentType)
            return (null, ApiProblems.Validation("file", "Send multipart/form-data with the .onnx file in the field 'file'."));
        var form = await request.ReadFormAsync(ct);
        var file = form.Files.GetFile("file");
        if (file is null || file.Length == 0) return (null, ApiProblems.Validation("file", "A non-empty .onnx file is required (multipart form field 'file')."));
        if (file.Length > limit)
            return (null, ApiProblems.TooLarge($"The model file is {file.Length:N0} bytes, over the limit of {limit:N0} bytes ({OnnxOptions.Section}:MaxModelBytes)."));
        using var ms = new MemoryStream((int)file.Length);
        await file.CopyToAsync(ms, ct);
        var snapshot = form["snapshot"].ToString() is { Length: > 0 } s && bool.TryParse(s, out var b) && b;
        var datasetId = form["datasetId"].ToString() is { Length: > 0 } d ? d : null;
        return (new OnnxForm(ms.ToArray(), form["mapping"].ToString() is { Length: > 0 } m ? m : null, datasetId, snapshot), null);
    }

    /// <summary>Reads the <c>mapping</c> JSON text; an absent mapping is the suggested one (inputs matched by name).</summary>
    internal static OnnxMappingRequest ReadMapping(string? json, Dictionary<string, string[]> errors)
    {
        if (json is null) return new OnnxMappingRequest();
        JsonElement root;
        try { root = JsonDocument.Parse(json).RootElement; }
        catch (JsonException e) { errors["mapping"] = ["mapping is not valid JSON: " + e.Message]; return new OnnxMappingRequest(); }
        if (root.ValueKind != JsonValueKind.Object) { errors["mapping"] = ["mapping must be a JSON object."]; return new OnnxMappingRequest(); }
        Dictionary<string, IReadOnlyList<string>>? inputs = null;
        if (root.TryGetProperty("inputs", out var inp) && inp.ValueKind != JsonValueKind.Null)
        {
            if (inp.ValueKind != JsonValueKind.Object) errors["mapping.inputs"] = ["mapping.inputs must be an object { \"<onnx input>\": \"<field>\" | [\"<field>\", ...] }."];
            else
            {
                inputs = [];
                foreach (var p in inp.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.String) inputs[p.Name] = [p.Value.GetString()!];
                    else if (p.Value.ValueKind == JsonValueKind.Array && p.Value.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String))
                        inputs[p.Name] = p.Value.EnumerateArray().Select(x => x.GetString()!).ToList();
                    else errors["mapping.inputs." + p.Name] = ["An input maps to a field name or an array of field names (one per column)."];
                }
            }
        }
        string? Text(string name)
        {
            if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind == JsonValueKind.String) return v.GetString();
            if (v.ValueKind == JsonValueKind.Number && name == "outputKey") return v.GetRawText();
            errors["mapping." + name] = [$"mapping.{name} must be a string."];
            return null;
        }
        int? index = null;
        if (root.TryGetProperty("outputIndex", out var oi) && oi.ValueKind != JsonValueKind.Null)
        {
            if (oi.ValueKind == JsonValueKind.Number && oi.TryGetInt32(out var i)) index = i;
            else errors["mapping.outputIndex"] = ["mapping.outputIndex must be a whole number (a column of the output)."];
        }
        return new OnnxMappingRequest
        {
            Inputs = inputs, Output = Text("output"), OutputIndex = index, OutputKey = Text("outputKey"), Kind = Text("kind"), Insight = Text("insight"),
        };
    }
}
