namespace Enrichment.Portal.Core.Schemas.Xdm;

/// <summary>An error that stops an XDM import. Codes: <c>BROKEN_REF</c>, <c>REF_CYCLE</c>, <c>INVALID_JSON</c>, <c>NOT_A_SCHEMA</c>, <c>TOO_DEEP</c>.</summary>
/// <param name="File">The file where the problem is.</param>
/// <param name="Reference">The <c>$ref</c> concerned, when there is one.</param>
public sealed record XdmImportError(string Code, string Message, string? File = null, string? Reference = null);

/// <summary>Options of <see cref="XdmImporter.Import"/>.</summary>
public sealed record XdmImportOptions
{
    /// <summary>Deepest nesting of objects kept (deeper fields are reported and left out).</summary>
    public int MaxDepth { get; init; } = 24;

    /// <summary>Name of the imported schema; default: the entry schema's <c>title</c>.</summary>
    public string? Name { get; init; }
}

/// <summary>The outcome of an XDM import.</summary>
/// <param name="Schema">The imported schema, or null when <paramref name="Errors"/> is not empty. Run <see cref="SchemaRules.Validate"/> on it before storing it.</param>
/// <param name="Title">The entry schema's <c>title</c> (or its file name).</param>
/// <param name="Warnings">Everything that was not imported as it was, in sentences (unknown keywords, constraints not enforced, adjustments).</param>
/// <param name="Errors">What stopped the import.</param>
/// <param name="IdentityMapFields">Paths of <c>identityMap</c> fields (map namespace code -> array of <c>{ id, primary, authenticatedState }</c>).</param>
public sealed record XdmImportResult(
    SchemaDefinition? Schema,
    string Title,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<XdmImportError> Errors,
    IReadOnlyList<string> IdentityMapFields)
{
    /// <summary>True when a schema was produced.</summary>
    public bool Succeeded => Schema is not null && Errors.Count == 0;
}
