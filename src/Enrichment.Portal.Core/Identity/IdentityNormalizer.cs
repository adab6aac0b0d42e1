
namespace Enrichment.Portal.Core.Identity;

/// <summary>Normalizes identity values per namespace normalizer, so that equal identities compare equal as strings.</summary>
public static class IdentityNormalizer
{
    /// <summary>
    /// Email: trimmed and lower-cased; null unless it has exactly one '@' with text on both sides and no whitespace.
    /// Phone: digits only (a leading '+' country code keeps its digits: "+1 (555) 010-2030" -> "15550102030"); null when it
    /// has letters, or fewer than 3 or more than 15 digits. Id: trimmed. Null or blank input gives null.
    /// </summary>
    public static string? Normalize(NormalizerKind kind, string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var v = value.Trim();
        return kind switch
        {
            NormalizerKind.Email => Email(v),
            NormalizerKind.Phone => Phone(v),
            _ => v,
        };
    }

    private static string? Email(string v)
    {
        var at = v.IndexOf('@');
        if (at <= 0 || at == v.Length - 1 || v.IndexOf('@', at + 1) >= 0) return null;
        foreach (var c in v) if (char.IsWhiteSpace(c)) return null;
        return v.ToLowerInvariant();
    }

    private static string? Phone(string v)
    {
        Span<char> digits = stackalloc char[16];
        var n = 0;
        foreach (var c in v)
        {
            if (char.IsAsciiDigit(c))
            {
                if (n == 16) return null;
                digits[n++] = c;
            }
            else if (char.IsLetter(c)) return null;
        }
        return n is < 3 or > 15 ? null : new string(digits[..n]);
    }
}
