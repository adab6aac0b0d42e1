using System.Text.Json.Serialization;

namespace Enrichment.Portal.Core.Identity;

[JsonConverter(typeof(JsonStringEnumConverter<IdentityType>))]
public enum IdentityType
{
    [JsonStringEnumMemberName("person")] Person,
    [JsonStringEnumMemberName("device")] Device,
    [JsonStringEnumMemberName("cookie")] Cookie,
    [JsonStringEnumMemberName("cross-device")] CrossDevice,
    [JsonStringEnumMemberName("non-people")] NonPeople,
}

/// <summary>How values of a namespace are normalized before they are stored or linked.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<NormalizerKind>))]
public enum NormalizerKind
{
    [JsonStringEnumMemberName("id")] Id,
    [JsonStringEnumMemberName("email")] Email,
    [JsonStringEnumMemberName("phone")] Phone,
}

public sealed record NamespaceInfo(string Code, string Name, IdentityType Type, NormalizerKind Normalizer, bool BuiltIn);

public static class BuiltInNamespaces
{
    /// <summary>The namespace info for a code: the lookup's answer, else a built-in, else a person namespace with the id normalizer.</summary>
    public static NamespaceInfo Resolve(Func<string, NamespaceInfo?>? lookup, string code) =>
        (lookup ?? Find)(code) ?? Find(code) ?? new NamespaceInfo(code, code, IdentityType.Person, NormalizerKind.Id, false);

    public static readonly IReadOnlyList<NamespaceInfo> All =
    [
        new("Email", "Email", IdentityType.Person, NormalizerKind.Email, true),
        new("Phone", "Phone", IdentityType.Person, NormalizerKind.Phone, true),
        new("CRMID", "CRM ID", IdentityType.CrossDevice, NormalizerKind.Id, true),
        new("ECID", "Experience Cloud ID", IdentityType.Cookie, NormalizerKind.Id, true),
        new("CookieID", "Cookie ID", IdentityType.Cookie, NormalizerKind.Id, true),
        new("DeviceID", "Device ID", IdentityType.Device, NormalizerKind.Id, true),
    ];

    public static NamespaceInfo? Find(string code) =>
        All.FirstOrDefault(n => string.Equals(n.Code, code, StringComparison.OrdinalIgnoreCase));
}
