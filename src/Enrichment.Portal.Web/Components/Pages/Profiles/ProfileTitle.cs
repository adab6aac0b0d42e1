using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Profiles;

namespace Enrichment.Portal.Web.Components.Pages.Profiles;

/// <summary>How a profile is named for people: its person's name where the attributes hold one, and its main identity.</summary>
public static class ProfileTitle
{
    private static readonly string[] NamespaceOrder = ["CRMID", "Email", "Phone"];

    /// <summary>The identity that says who this is: a CRM id, else an e-mail, else a phone, else the first.</summary>
    public static ProfileIdentityView? MainIdentity(IReadOnlyList<ProfileIdentityView> identities) =>
        NamespaceOrder.Select(ns => identities.FirstOrDefault(i => string.Equals(i.Namespace, ns, StringComparison.OrdinalIgnoreCase))).FirstOrDefault(i => i is not null)
        ?? identities.FirstOrDefault();

    /// <summary>
    /// The name in the attributes: <c>person.name</c> (text or <c>{ first, last }</c>), <c>person.firstName</c> + <c>person.lastName</c>,
    /// or a top-level <c>name</c>, <c>fullName</c>, <c>customerName</c>, <c>firstName</c> + <c>lastName</c>; null when there is none.
    /// </summary>
    public static string? Name(JsonObject attributes)
    {
        static string? Text(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) && !string.IsNullOrWhiteSpace(s) ? s.Trim() : null;
        static string? Join(params string?[] parts) => parts.Any(p => p is not null) ? string.Join(' ', parts.Where(p => p is not null)) : null;

        if (attributes["person"] is JsonObject person)
        {
            if (Text(person["name"]) is { } n) return n;
            if (person["name"] is JsonObject parts && Join(Text(parts["first"] ?? parts["firstName"]), Text(parts["last"] ?? parts["lastName"])) is { } fromParts) return fromParts;
            if (Join(Text(person["firstName"]), Text(person["lastName"])) is { } full) return full;
        }
        foreach (var key in new[] { "name", "fullName", "customerName", "displayName" })
            if (Text(attributes[key]) is { } n) return n;
        return Join(Text(attributes["firstName"]), Text(attributes["lastName"]));
    }
}
