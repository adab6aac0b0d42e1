using System.Text.RegularExpressions;

namespace Enrichment.Portal.Core.Query;

/// <summary>
/// Turns DuckDB's error text ("Binder Error: Referenced column ... not found in FROM clause! Candidate bindings: ... LINE 1: ... ^")
/// into a sentence for people: what is wrong, where (line and position in the query), and the closest column or table name
/// DuckDB offers as a candidate (the columns of the datasets the query reads).
/// </summary>
public static partial class SqlErrorWording
{
    public static string Humanize(string message, string sql)
    {
        var text = message.Trim();
        var (line, position) = Position(text, sql);
        var where = line is null ? "" : $" (line {line}, position {position})";
        var candidates = Candidates(text);

        if (ColumnNotFound().Match(text) is { Success: true } col)
        {
            var name = col.Groups["name"].Value;
            return $"There is no column \"{name}\"{where}.{DidYouMean(name, candidates)}";
        }
        if (TableNotFound().Match(text) is { Success: true } table)
        {
            var name = table.Groups["name"].Value;
            return $"There is no table \"{name}\"{where}: the tables are the datasets listed beside the editor.{DidYouMean(name, candidates)}";
        }
        if (SyntaxError().Match(text) is { Success: true } syntax)
        {
            if (line is null && syntax.Groups["near"].Value is { Length: > 0 } token) where = Locate(token, sql);
            return syntax.Groups["near"].Value.Length == 0
                ? $"The query ends too early (a clause or a closing parenthesis is missing){where}."
                : $"The query has a syntax error near \"{syntax.Groups["near"].Value}\"{where}.";
        }
        if (FunctionNotFound().Match(text) is { Success: true } fn)
        {
            var name = fn.Groups["name"].Value;
            return $"There is no function \"{name}\"{where}.{DidYouMean(name, candidates)}";
        }

        // Anything else: DuckDB's first sentence without its "X Error:" prefix, plus where it is.
        var first = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? text;
        first = ErrorPrefix().Replace(first, "").TrimEnd('!');
        if (first.Length > 0) first = char.ToUpperInvariant(first[0]) + first[1..];
        var sentence = first.EndsWith('.') ? first[..^1] : first;
        return sentence + where + ".";
    }

    /// <summary>" (line n, position p)" of a token that occurs once in the query, or "" (the parser's message has no caret).</summary>
    private static string Locate(string token, string sql)
    {
        var first = sql.IndexOf(token, StringComparison.Ordinal);
        if (first < 0 || sql.IndexOf(token, first + 1, StringComparison.Ordinal) >= 0) return "";
        var lines = sql.Replace("\r\n", "\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var at = lines[i].IndexOf(token, StringComparison.Ordinal);
            if (at >= 0) return $" (line {i + 1}, position {at + 1})";
        }
        return "";
    }

    private static string DidYouMean(string name, IReadOnlyList<string> candidates)
    {
        var best = candidates.Select(c => (c, d: Distance(Bare(c).ToLowerInvariant(), Bare(name).ToLowerInvariant())))
            .OrderBy(x => x.d).FirstOrDefault();
        return best.c is null || best.d > Math.Max(3, name.Length / 2) ? "" : $" Did you mean \"{Bare(best.c)}\"?";
    }

    /// <summary>The name without a table qualifier (<c>t.customer</c> -> <c>customer</c>).</summary>
    private static string Bare(string name) => name.Contains('.') ? name[(name.LastIndexOf('.') + 1)..] : name;

    private static IReadOnlyList<string> Candidates(string text)
    {
        var list = new List<string>();
        foreach (Match m in CandidateLine().Matches(text))
            foreach (Match q in Quoted().Matches(m.Groups["list"].Value)) list.Add(q.Groups[1].Value);
        return list;
    }

    /// <summary>Line and 1-based position of DuckDB's caret (<c>LINE 1: ...</c> then a line with <c>^</c>), mapped back onto the query's text.</summary>
    internal static (int? Line, int Position) Position(string text, string sql)
    {
        var lines = text.Split('\n');
        for (var i = 0; i + 1 < lines.Length; i++)
        {
            var m = LineMarker().Match(lines[i]);
            if (!m.Success) continue;
            var caret = lines[i + 1].IndexOf('^');
            if (caret < 0) continue;
            var lineNo = int.Parse(m.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture);
            var excerpt = lines[i][m.Length..];
            var offset = caret - m.Length;
            if (excerpt.StartsWith("...", StringComparison.Ordinal)) { excerpt = excerpt[3..]; offset -= 3; }
            if (excerpt.EndsWith("...", StringComparison.Ordinal)) excerpt = excerpt[..^3];
            var sqlLines = sql.Replace("\r\n", "\n").Split('\n');
            var start = lineNo >= 1 && lineNo <= sqlLines.Length && excerpt.Length > 0 ? sqlLines[lineNo - 1].IndexOf(excerpt.TrimEnd(), StringComparison.Ordinal) : -1;
            return (lineNo, Math.Max(1, (start < 0 ? 0 : start) + offset + 1));
        }
        return (null, 0);
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
            for (var j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }

    [GeneratedRegex("""Referenced column "?(?<name>[^"\s]+)"? not found""")]
    private static partial Regex ColumnNotFound();
    [GeneratedRegex("""Table with name "?(?<name>[^"\s!]+)"? does not exist""")]
    private static partial Regex TableNotFound();
    [GeneratedRegex("""syntax error at or near "(?<near>[^"]*)"|syntax error at end of input""")]
    private static partial Regex SyntaxError();
    [GeneratedRegex("""(?:Scalar|Table|Aggregate)? ?Function with name "?(?<name>[^"\s]+)"? does not exist""")]
    private static partial Regex FunctionNotFound();
    [GeneratedRegex("""(?:Candidate bindings|Did you mean|Candidate functions)\s*:?\s*(?<list>[^\n]*)""")]
    private static partial Regex CandidateLine();
    [GeneratedRegex("\"([^\"]+)\"")]
    private static partial Regex Quoted();
    [GeneratedRegex(@"^LINE (?<n>\d+): ")]
    private static partial Regex LineMarker();
    [GeneratedRegex(@"^[A-Za-z ]*Error:\s*")]
    private static partial Regex ErrorPrefix();
}
