using Enrichment.Portal.Core.Identity;

namespace Enrichment.Portal.Core.Profiles;

/// <summary>
/// Normalizes identity values before they are stored or linked (same rules as ingestion's normalizer; the lead unifies
/// them): email trimmed and lower-cased; phone digits only (a leading '+' country code is kept as digits); ids trimmed.
/// Returns null for a value that is empty after normalization.
/// </summary>
internal static class ProfileIdentityNormalizer
{
    /// <summary>The one normalizer of the portal (<see cref="Identity.IdentityNormalizer"/>): stitching and lookups agree with ingestion.</summary>
    public static string? Normalize(NormalizerKind kind, string? raw) => Identity.IdentityNormalizer.Normalize(kind, raw);

    /// <summary>The namespace info for a code: the lookup's answer, else a person namespace with the id normalizer.</summary>
    public static NamespaceInfo Resolve(Func<string, NamespaceInfo?>? lookup, string code) =>
        (lookup ?? BuiltInNamespaces.Find)(code) ?? BuiltInNamespaces.Find(code)
        ?? new NamespaceInfo(code, code, IdentityType.Person, NormalizerKind.Id, false);
}
