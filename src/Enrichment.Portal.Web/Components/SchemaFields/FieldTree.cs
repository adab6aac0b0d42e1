using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Web.Components.SchemaFields;

/// <summary>One row of the field tree: an object node (a parent of dotted paths) or a field.</summary>
public sealed record FieldTreeRow(string Path, string Segment, int Depth, SchemaField? Field)
{
    public bool IsObject => Field is null;
}

/// <summary>Turns dotted paths into rows of an indented tree: parents before children, fields in their given order within a parent.</summary>
public static class FieldTree
{
    public static IReadOnlyList<FieldTreeRow> Rows(IEnumerable<SchemaField> fields)
    {
        var list = fields.ToList();
        var children = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var byPath = new Dictionary<string, SchemaField>(StringComparer.Ordinal);
        void Link(string parent, string child)
        {
            if (!children.TryGetValue(parent, out var c)) children[parent] = c = [];
            if (!c.Contains(child)) c.Add(child);
        }
        foreach (var f in list)
        {
            byPath.TryAdd(f.Path, f);
            var parent = "";
            foreach (var ancestor in SchemaPaths.Ancestors(f.Path)) { Link(parent, ancestor); parent = ancestor; }
            Link(parent, f.Path);
        }
        var rows = new List<FieldTreeRow>();
        void Walk(string parent, int depth)
        {
            if (!children.TryGetValue(parent, out var c)) return;
            foreach (var path in c)
            {
                var segment = path[(path.LastIndexOf('.') + 1)..];
                rows.Add(new FieldTreeRow(path, segment, depth, byPath.GetValueOrDefault(path)));
                if (!byPath.ContainsKey(path) || children.ContainsKey(path)) Walk(path, depth + 1);
            }
        }
        Walk("", 0);
        return rows;
    }

    /// <summary>Every object path (parent of some field), for the parent picker.</summary>
    public static IReadOnlyList<string> ObjectPaths(IEnumerable<SchemaField> fields) =>
        fields.SelectMany(f => SchemaPaths.Ancestors(f.Path)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    public static string TypeText(SchemaField f) => f.Type switch
    {
        FieldType.Array => $"array of {Lower(f.ItemType)}",
        FieldType.Map => $"map of {Lower(f.ValueType)}",
        _ => Lower(f.Type),
    };

    public static string Lower(FieldType? t) => t switch
    {
        null => "?",
        FieldType.DateTime => "datetime",
        _ => t.Value.ToString().ToLowerInvariant(),
    };

    /// <summary>The field types a user can pick for a field (object only as an item/value type).</summary>
    public static readonly IReadOnlyList<FieldType> FieldTypes =
        [FieldType.String, FieldType.Integer, FieldType.Number, FieldType.Boolean, FieldType.Date, FieldType.DateTime, FieldType.Array, FieldType.Map];

    public static readonly IReadOnlyList<FieldType> ItemTypes =
        [FieldType.String, FieldType.Integer, FieldType.Number, FieldType.Boolean, FieldType.Date, FieldType.DateTime, FieldType.Object];
}
