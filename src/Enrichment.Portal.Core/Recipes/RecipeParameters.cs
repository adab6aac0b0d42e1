using System.Globalization;
using System.Text.Json.Nodes;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>Typed, validated view of a request's <c>parameters</c> object (API.md Models). Bad values give clear errors.</summary>
public sealed class RecipeParameters(JsonObject? json)
{
    private readonly JsonObject _json = json ?? new JsonObject();

    public string? String(string name)
    {
        var node = _json[name];
        if (node is null) return null;
        return node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node.ToJsonString().Trim('"');
    }

    public double? Number(string name)
    {
        var node = _json[name];
        if (node is null) return null;
        if (node is JsonValue v)
        {
            if (v.TryGetValue<double>(out var d)) return d;
            if (v.TryGetValue<int>(out var i)) return i;
            if (v.TryGetValue<long>(out var l)) return l;
            if (v.TryGetValue<string>(out var s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out d)) return d;
        }
        throw new ModelTrainingException($"Parameter '{name}' must be a number, got {node.ToJsonString()}.");
    }

    public int? Int(string name)
    {
        var d = Number(name);
        if (d is null) return null;
        if (d != Math.Floor(d.Value)) throw new ModelTrainingException($"Parameter '{name}' must be a whole number, got {d}.");
        return (int)d.Value;
    }

    public DateTime? Date(string name)
    {
        var s = String(name);
        if (string.IsNullOrWhiteSpace(s)) return null;
        if (DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var d))
            return d;
        throw new ModelTrainingException($"Parameter '{name}' must be a date (yyyy-MM-dd), got '{s}'.");
    }

    public DateTime RequiredDate(string name) => Date(name) ?? throw new ModelTrainingException($"Parameter '{name}' (a date) is required for this recipe.");
}
