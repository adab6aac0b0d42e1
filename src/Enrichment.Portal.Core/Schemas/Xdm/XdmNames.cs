using System.Text;

namespace Enrichment.Portal.Core.Schemas.Xdm;

/// <summary>
/// How XDM property names become path segments (a pure function, so instance documents are renamed the same way):
/// <list type="number">
/// <item><c>xdm:name</c> -> <c>name</c> (the standard XDM prefix is dropped).</item>
/// <item>URI keys (<c>https://ns.adobe.com/xdm/channels/email</c>) -> the last segment of the URI (<c>email</c>).</item>
/// <item>Other prefixes keep their namespace: <c>schema:latitude</c> -> <c>schema_latitude</c>, <c>repo:createDate</c> -> <c>repo_createDate</c>.</item>
/// <item>JSON-LD keys: <c>@id</c> -> <c>_id</c>, <c>@type</c> -> <c>_type</c>.</item>
/// <item>Any character other than letters, digits, <c>_</c> and <c>-</c> becomes <c>_</c>; a leading digit or <c>-</c> gets a <c>_</c> prefix.</item>
/// </list>
/// Tenant fields (<c>_mytenant</c>) and plain names are kept as they are.
/// </summary>
public static class XdmNames
{
    /// <summary>The path segment for an XDM property name.</summary>
    public static string ToSegment(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var s = key;
        if (s.Contains("://", StringComparison.Ordinal))
        {
            var trimmed = s.TrimEnd('/', '#');
            var cut = Math.Max(trimmed.LastIndexOf('/'), trimmed.LastIndexOf('#'));
            s = cut >= 0 ? trimmed[(cut + 1)..] : trimmed;
        }
        else if (s.StartsWith("xdm:", StringComparison.Ordinal))
        {
            s = s[4..];
        }
        else if (s.StartsWith('@'))
        {
            s = "_" + s[1..];
        }
        var sb = new StringBuilder(s.Length + 1);
        foreach (var c in s)
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_');
        if (sb.Length == 0 || !(char.IsAsciiLetter(sb[0]) || sb[0] == '_')) sb.Insert(0, '_');
        return sb.ToString();
    }
}
