using System.Text.Json;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Web.Api;

/// <summary>Shared by the schema, dataset and namespace endpoints: refusals as problems, bodies read without surprises.</summary>
public static class CatalogApiSupport
{
    /// <summary>A <see cref="CatalogException"/> as the problem API.md asks for (400 / 404 / 409 / 422, with <c>errors</c> when known).</summary>
    public static IResult ToProblem(this CatalogException e)
    {
        var errors = e.Errors.ToDictionary(x => x.Key, x => x.Value);
        return e.Kind switch
        {
            CatalogErrorKind.NotFound => ApiProblems.NotFound(e.Message),
            CatalogErrorKind.Forbidden => TypedResults.Problem(statusCode: 403, title: "Forbidden", detail: e.Message),
            CatalogErrorKind.Invalid => ApiProblems.Validation(errors.Count > 0 ? errors : new() { ["request"] = [e.Message] }, e.Message, 400),
            CatalogErrorKind.Rule => errors.Count > 0 ? ApiProblems.Validation(errors, e.Message, 422) : ApiProblems.Unprocessable(e.Message),
            _ => TypedResults.Problem(new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = 409, Title = "Conflict", Detail = e.Message,
                Extensions = { ["errors"] = errors },
            }),
        };
    }

    /// <summary>Reads the request body as a JSON object; a problem (400) when it is not one.</summary>
    public static async Task<(JsonElement Body, IResult? Problem)> ReadObjectAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip }, ct);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                return (default, ApiProblems.Validation("body", "The request body must be a JSON object."));
            return (doc.RootElement.Clone(), null);
        }
        catch (JsonException e)
        {
            return (default, ApiProblems.Validation("body", "The request body is not valid JSON: " + e.Message));
        }
    }

    /// <summary>A string property, null when absent; an error when it is there but not a string.</summary>
    public static string? Str(JsonElement body, string name, Dictionary<string, string[]> errors)
    {
        if (!body.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        errors[name] = [$"{name} must be a string."];
        return null;
    }

    /// <summary>Parses a JSON array of fields in the API.md shape; errors are keyed <c>fields[i]</c>.</summary>
    public static List<SchemaField>? Fields(JsonElement body, string name, Dictionary<string, string[]> errors)
    {
        if (!body.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array)
        {
            errors[name] = [$"{name} must be an array of fields."];
            return null;
        }
        var list = new List<SchemaField>();
        var i = 0;
        foreach (var item in v.EnumerateArray())
        {
            try
            {
                var f = item.Deserialize<SchemaField>(SchemaDefinitionJson.Options);
                if (f is null) errors[$"{name}[{i}]"] = ["A field cannot be null."];
                else list.Add(f);
            }
            catch (JsonException e)
            {
                errors[$"{name}[{i}]"] = [FieldError(item, e)];
            }
            i++;
        }
        return list;
    }

    private static string FieldError(JsonElement item, JsonException e)
    {
        if (item.ValueKind != JsonValueKind.Object) return "A field must be an object { path, type, ... }.";
        if (!item.TryGetProperty("path", out _)) return "A field needs a path.";
        if (!item.TryGetProperty("type", out _)) return "A field needs a type (string, integer, number, boolean, date, datetime, array or map).";
        var path = item.TryGetProperty("path", out var p) && p.ValueKind == JsonValueKind.String ? $"'{p.GetString()}'" : "The field";
        return $"{path} is not valid: {e.Message.Split(" Path:")[0]} Types are string, integer, number, boolean, date, datetime, array, map (object as an item/value type).";
    }
}
