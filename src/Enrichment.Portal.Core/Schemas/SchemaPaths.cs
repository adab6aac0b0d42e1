using System.Text.RegularExpressions;

namespace Enrichment.Portal.Core.Schemas;

/// <summary>
/// Dotted field paths: segments of letters, digits, <c>_</c> and <c>-</c>, each starting with a letter or <c>_</c>,
/// joined by <c>.</c> (e.g. <c>person.name.firstName</c>, <c>_tenant.crm-id</c>).
/// </summary>
public static partial class SchemaPaths
{
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex SegmentRegex();

    /// <summary>True when <paramref name="segment"/> is one valid path segment.</summary>
    public static bool IsValidSegment(string? segment) => segment is not null && SegmentRegex().IsMatch(segment);

    /// <summary>True when every segment of <paramref name="path"/> is valid and none is empty.</summary>
    public static bool IsValidPath(string? path) =>
        !string.IsNullOrEmpty(path) && path.Split('.').All(IsValidSegment);

    /// <summary>The parent path (<c>person.name</c> of <c>person.name.firstName</c>), or null for a top-level path.</summary>
    public static string? Parent(string path)
    {
        var i = path.LastIndexOf('.');
        return i < 0 ? null : path[..i];
    }

    /// <summary>Every proper ancestor of a path, nearest last (<c>a</c>, <c>a.b</c> for <c>a.b.c</c>).</summary>
    public static IEnumerable<string> Ancestors(string path)
    {
        for (var i = path.IndexOf('.'); i >= 0; i = path.IndexOf('.', i + 1))
            yield return path[..i];
    }

    /// <summary>Joins a prefix (may be empty) and a segment.</summary>
    public static string Join(string prefix, string segment) => prefix.Length == 0 ? segment : prefix + "." + segment;
}
