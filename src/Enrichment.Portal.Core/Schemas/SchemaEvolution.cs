namespace Enrichment.Portal.Core.Schemas;

/// <summary>A change that is not allowed on a profile-enabled schema: the field and a sentence saying why.</summary>
public sealed record SchemaChangeViolation(string? Field, string Code, string Reason);

/// <summary>
/// Which schema changes are allowed. Before profile enablement any change is allowed (the result is empty).
/// After it only additive changes are: new optional fields (also new non-primary identity fields), new enum values,
/// dropping an enum constraint, making a required field optional, new descriptions. Not allowed: removing or retyping a
/// field (item and value types included), changing the class, making a field required, adding a required field,
/// removing enum values or adding an enum to an existing field, changing or removing an identity, adding a primary identity.
/// </summary>
public static class SchemaEvolution
{
    /// <summary>Lists why <paramref name="proposed"/> cannot replace <paramref name="current"/> (empty when it can: HTTP 200; otherwise 409 with the reasons).</summary>
    public static IReadOnlyList<SchemaChangeViolation> CheckChange(SchemaDefinition current, SchemaDefinition proposed, bool profileEnabled)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(proposed);
        var violations = new List<SchemaChangeViolation>();
        if (!profileEnabled) return violations;

        const string tail = " The schema is enabled for profile, so only additive changes are allowed.";
        if (current.Class != proposed.Class)
            violations.Add(new(null, "CLASS_CHANGED", $"The class cannot change from {current.Class.ToString().ToLowerInvariant()} to {proposed.Class.ToString().ToLowerInvariant()}.{tail}"));

        var next = new Dictionary<string, SchemaField>(StringComparer.Ordinal);
        foreach (var f in proposed.Fields ?? []) if (f?.Path is not null) next.TryAdd(f.Path, f);
        var before = new HashSet<string>(StringComparer.Ordinal);

        foreach (var old in current.Fields ?? [])
        {
            if (old?.Path is null) continue;
            before.Add(old.Path);
            if (!next.TryGetValue(old.Path, out var now))
            {
                violations.Add(new(old.Path, "FIELD_REMOVED", $"The field '{old.Path}' cannot be removed.{tail}"));
                continue;
            }
            if (old.Type != now.Type || old.ItemType != now.ItemType || old.ValueType != now.ValueType)
                violations.Add(new(old.Path, "FIELD_RETYPED", $"The field '{old.Path}' cannot change its type from {Describe(old)} to {Describe(now)}.{tail}"));
            if (!old.Required && now.Required)
                violations.Add(new(old.Path, "FIELD_MADE_REQUIRED", $"The field '{old.Path}' cannot become required: records already stored may not have it.{tail}"));
            if (old.Enum is null && now.Enum is not null)
                violations.Add(new(old.Path, "ENUM_ADDED", $"The field '{old.Path}' cannot get a list of allowed values: stored records may hold other values.{tail}"));
            else if (old.Enum is not null && now.Enum is not null)
            {
                var removed = old.Enum.Except(now.Enum, StringComparer.Ordinal).ToList();
                if (removed.Count > 0)
                    violations.Add(new(old.Path, "ENUM_VALUE_REMOVED", $"The allowed values {string.Join(", ", removed.Select(r => $"'{r}'"))} of '{old.Path}' cannot be removed.{tail}"));
            }
            if (old.Identity != now.Identity)
                violations.Add(new(old.Path, "IDENTITY_CHANGED", $"The identity of '{old.Path}' cannot change ({DescribeIdentity(old.Identity)} -> {DescribeIdentity(now.Identity)}): the identity graph is built on it.{tail}"));
        }

        foreach (var added in next.Values.Where(f => !before.Contains(f.Path)))
        {
            if (added.Required)
                violations.Add(new(added.Path, "REQUIRED_FIELD_ADDED", $"The new field '{added.Path}' must be optional: records already stored do not have it.{tail}"));
            if (added.Identity is { Primary: true })
                violations.Add(new(added.Path, "IDENTITY_CHANGED", $"The new field '{added.Path}' cannot be the primary identity: the primary identity cannot change.{tail}"));
        }
        return violations;
    }

    private static string Describe(SchemaField f) => f.Type switch
    {
        FieldType.Array => $"array of {Lower(f.ItemType)}",
        FieldType.Map => $"map of {Lower(f.ValueType)}",
        _ => SchemaRules.Lower(f.Type),
    };

    private static string Lower(FieldType? t) => t is null ? "(none)" : SchemaRules.Lower(t.Value);

    private static string DescribeIdentity(IdentityMapping? m) =>
        m is null ? "none" : m.Primary ? $"{m.Namespace}, primary" : m.Namespace;
}
