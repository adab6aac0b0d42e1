using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Web.Api;

public sealed record InferredFieldDto(string Column, string Path, FieldType Type, bool Required, IdentityMapping? Identity, string? Reason,
    IReadOnlyList<string> Examples, double Filled);

/// <summary>The answer of <c>POST /api/v1/schemas/infer</c>: the fields to review, the mapping for the upload, and a body ready for <c>POST /schemas</c>.</summary>
public sealed record InferredSchemaDto(string Format, string Delimiter, int SampledRows, IReadOnlyList<InferredFieldDto> Fields,
    IReadOnlyDictionary<string, string> Mapping, IReadOnlyList<string> ProfileBlockers);

/// <summary>Schema inference from a file (nothing stored).</summary>
public static class SchemaInferenceApi
{
    public static void MapSchemaInferenceApi(this RouteGroupBuilder v1)
    {
        v1.MapPost("/schemas/infer", InferAsync).WithTags("Schemas").RequireAuthorization(Policies.Engineer).WithName("InferSchema")
            .WithSummary("Infer a schema from a file (multipart: file, class = profile | event, delimiter, encoding): types from a sample of up to 1,000 rows, " +
                         "identity candidates with their namespace, and the column -> field mapping; nothing is stored")
            .Produces<InferredSchemaDto>().ProducesProblem(400).ProducesProblem(413);
    }

    private static async Task<IResult> InferAsync(HttpRequest request, IngestionService service, CancellationToken ct)
    {
        var limit = service.Limits.MaxUploadBytes;
        if (request.ContentLength > limit + 64 * 1024) return ApiProblems.TooLarge($"The upload is larger than the limit of {limit:N0} bytes.");
        try
        {
            var (form, problem) = await IngestionApi.ReadFormAsync(request, service, limit, ct);
            if (problem is not null) return problem;
            try
            {
                if (form!.File is null) return ApiProblems.Validation("file", "A file is required (multipart form field 'file').");
                var classText = form.Fields.GetValueOrDefault("class");
                var schemaClass = string.IsNullOrWhiteSpace(classText) ? SchemaClass.Profile : SchemasApi.ParseClass(classText);
                if (schemaClass is null) return ApiProblems.Validation("class", "class must be profile or event.");
                var delimiterText = form.Fields.GetValueOrDefault("delimiter");
                var options = IngestionService.ParseOptions(delimiterText, null, null, null, null, null, form.Fields.GetValueOrDefault("encoding"));
                var inferred = await SchemaInference.InferAsync(form.File.Path, form.File.FileName, schemaClass.Value,
                    string.IsNullOrEmpty(delimiterText) ? null : options.Delimiter, encoding: options.Encoding, ct: ct);
                if (inferred.Error is not null) return ApiProblems.Validation("file", "The file cannot be read: " + inferred.Error);
                var fields = inferred.Fields.Select(f => new InferredFieldDto(f.Column, f.Path, f.Type, f.Required, f.Identity, f.Reason, f.Examples, f.Filled)).ToList();
                var definition = new SchemaDefinition("inferred", schemaClass.Value, inferred.ToSchemaFields());
                return TypedResults.Ok(new InferredSchemaDto(inferred.Format!.Value.ToString().ToLowerInvariant(), inferred.Delimiter == '\t' ? "\\t" : inferred.Delimiter.ToString(),
                    inferred.SampledRows, fields, inferred.Mapping, schemaClass == SchemaClass.Profile ? SchemaRules.ProfileBlockers(definition) : []));
            }
            finally
            {
                if (form?.File is { } staged) IngestionService.Discard(staged);
            }
        }
        catch (CatalogException e) { return e.ToProblem(); }
        catch (UploadTooLargeException e) { return ApiProblems.TooLarge(e.Message); }
    }
}
