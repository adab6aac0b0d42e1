using Enrichment.Portal.Core.Identity;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>
/// Normalizes identity values before they are stored or linked (same rules as ingestion's normalizer; the lead unifies
/// them): email trimmed and lower-cased; phone digits only (a leading '+' country code is kept as digits); ids trimmed.
/// Returns null for a value that is empty after normalization.
/// </summary>
internal static class ProfileIdentityNormalizer
{
    public static string? Normalize(NormalizerKind kind, string? raw)
    {
        if (raw is null) return null;
        switch (kind)
        {
            case NormalizerKind.Email:
            {
                var v = raw.Trim().ToLowerInvariant();
                return v.Length == 0 ? null : v;
            }
            case NormalizerKind.Phone:
            {
                Span<char> buf = raw.Length <= 256 ? stackalloc char[raw.Length] : new char[raw.Length];
                var n = 0;
                foreach (var c in raw)
                    if (c is >= '0' and <= '9') buf[n++] = c;
                return n == 0 ? null : new string(buf[..n]);
            }
            default:
            {
                var v = raw.Trim();
                return v.Length == 0 ? null : v;
            }
        }
    }

    /// <summary>The namespace info for a code: the lookup's answer, else a person namespace with the id normalizer.</summary>
    public static NamespaceInfo Resolve(Func<string, NamespaceInfo?>? lookup, string code) =>
        (lookup ?? BuiltInNamespaces.Find)(code) ?? BuiltInNamespaces.Find(code)
        ?? new NamespaceInfo(code, code, IdentityType.Person, NormalizerKind.Id, false);
}
