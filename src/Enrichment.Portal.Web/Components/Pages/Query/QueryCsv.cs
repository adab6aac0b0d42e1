using System.Globalization;
using System.Text;
using System.Text.Json;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Query;

namespace Enrichment.Portal.Web.Components.Pages.Query;

/// <summary>Query results as text: a cell for the grid, and RFC 4180 CSV for the download (formula cells neutralized: <see cref="CsvSafety"/>).</summary>
public static class QueryCsv
{
    public static string Write(QueryResult result)
    {
        var sb = new StringBuilder();
        sb.AppendJoin(',', result.Columns.Select(c => Escape(CsvSafety.Neutralize(c.Name)))).Append("\r\n");
        foreach (var row in result.Rows)
            sb.AppendJoin(',', row.Select(v => Escape(v is string s ? CsvSafety.Neutralize(s) : Text(v)))).Append("\r\n");
        return sb.ToString();
    }

    /// <summary>A value as shown in the grid: numbers with invariant digits, lists and structs as JSON, null as empty.</summary>
    public static string Display(object? value) => Text(value);

    private static string Text(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => JsonSerializer.Serialize(value),
    };

    private static string Escape(string s) =>
        s.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
