namespace Enrichment.Portal.Core.Catalog;

/// <summary>Why a catalog operation was refused; the API maps it to its status code, the UI shows the message.</summary>
public enum CatalogErrorKind
{
    /// <summary>Malformed or missing input (HTTP 400).</summary>
    Invalid,
    /// <summary>No such object in this sandbox (HTTP 404).</summary>
    NotFound,
    /// <summary>Conflicts with the current state: a duplicate name, an object in use, a non-additive change (HTTP 409).</summary>
    Conflict,
    /// <summary>Well-formed input that breaks a rule (HTTP 422).</summary>
    Rule,
    /// <summary>The caller's role does not allow this (HTTP 403).</summary>
    Forbidden,
}

/// <summary>A refused catalog operation: a sentence for people, and per-field messages when there are some.</summary>
public sealed class CatalogException(CatalogErrorKind kind, string message, IReadOnlyDictionary<string, string[]>? errors = null) : Exception(message)
{
    public CatalogErrorKind Kind { get; } = kind;

    /// <summary>Field (or path) -> messages; empty when the problem is not about particular fields.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors ?? new Dictionary<string, string[]>();

    public static CatalogException Invalid(string field, string message) =>
        new(CatalogErrorKind.Invalid, message, new Dictionary<string, string[]> { [field] = [message] });

    public static CatalogException NotFound(string message) => new(CatalogErrorKind.NotFound, message);
    public static CatalogException Conflict(string message, IReadOnlyDictionary<string, string[]>? errors = null) => new(CatalogErrorKind.Conflict, message, errors);
    public static CatalogException Forbidden(string message) => new(CatalogErrorKind.Forbidden, message);
    public static CatalogException Rule(string message, IReadOnlyDictionary<string, string[]>? errors = null) => new(CatalogErrorKind.Rule, message, errors);
}
