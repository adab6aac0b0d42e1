using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Ingestion;

/// <summary>Suggests a mapping from source columns to schema fields.</summary>
public static class MappingSuggester
{
    /// <summary>
    /// Source column -> field path. In order: the same name (case-insensitive, dotted paths for nesting); the same name
    /// ignoring case and non-alphanumerics (<c>Customer ID</c> -> <c>customerId</c>); the same last path segment when
    /// exactly one field has it (<c>email</c> -> <c>person.email</c>). Each field is used at most once; unmatched columns are left out.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Suggest(IEnumerable<string> columns, SchemaDefinition schema)
    {
        var cols = columns.ToList();
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        void Pass(Func<string, SchemaField, bool> match)
        {
            foreach (var c in cols)
            {
                if (result.ContainsKey(c)) continue;
                var hits = schema.Fields.Where(f => !used.Contains(f.Path) && match(c, f)).ToList();
                if (hits.Count != 1) continue;
                result[c] = hits[0].Path;
                used.Add(hits[0].Path);
            }
        }
        Pass((c, f) => string.Equals(c.Trim(), f.Path, StringComparison.OrdinalIgnoreCase));
        Pass((c, f) => Key(c) == Key(f.Path) && Key(c).Length > 0);
        Pass((c, f) => Key(c) == Key(f.Path[(f.Path.LastIndexOf('.') + 1)..]) && Key(c).Length > 0);
        return result;
    }

    internal static string Key(string s) => new(s.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant).ToArray());
}
