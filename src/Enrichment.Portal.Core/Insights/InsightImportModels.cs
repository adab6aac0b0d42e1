namespace Enrichment.Portal.Core.Insights;

/// <summary>
/// The standard fields of <c>insights.&lt;name&gt;</c> on a profile (ARCHITECTURE.md, Insights) and their rules. Anything else a
/// user maps is a custom field: numbers stay numbers, other text stays text.
/// </summary>
public static class InsightFields
{
    /// <summary>A probability between 0 and 1 (binary recipes: churn, propensity).</summary>
    public const string Score = "score";
    /// <summary>A currency-neutral amount (lifetime value).</summary>
    public const string Value = "value";
    /// <summary>A segment label (segmentation).</summary>
    public const string Segment = "segment";
    /// <summary>An engagement index between 0 and 100.</summary>
    public const string Engagement = "engagement";
    /// <summary>The top items of an affinity model: a list of text.</summary>
    public const string Top = "top";
    /// <summary>The uplift of an uplift model: P(outcome | treated) − P(outcome | control), between −1 and 1.</summary>
    public const string Uplift = "uplift";
    /// <summary>A model score's top contributing features: a list of { feature, direction, contribution, value }.</summary>
    public const string Reasons = "reasons";
    public const string ModelVersion = "modelVersion";
    public const string ScoredAt = "scoredAt";

    public static readonly IReadOnlyList<string> Standard = [Score, Value, Segment, Engagement, Top, Uplift];

    /// <summary>Written by scoring next to the main figure (not the main figure of a card); <c>treated</c> / <c>control</c>: the two probabilities of an uplift model.</summary>
    public static readonly IReadOnlyList<string> Explanations = [Reasons, "treated", "control"];

    /// <summary>Written by the import itself; no column may be mapped to them (use <c>modelVersion</c> / <c>scoredAtColumn</c>).</summary>
    public static readonly IReadOnlyList<string> Reserved = [ModelVersion, ScoredAt];

    /// <summary>One sentence per standard field, for pages and error messages.</summary>
    public static string Describe(string field) => field switch
    {
        Score => "a probability between 0 and 1",
        Value => "a number (an amount, in your currency)",
        Segment => "a segment name or number",
        Engagement => "a number between 0 and 100",
        Top => "a list of items, separated by '|' or ';'",
        Uplift => "a number between -1 and 1 (the change of the outcome's probability under the treatment)",
        _ => "a custom field: numbers stay numbers, other text stays text",
    };

    public static bool IsNumeric(string field) => field is Score or Value or Engagement or Uplift;

    /// <summary>Custom field names: a letter, then letters, digits or '_' (at most 64).</summary>
    public static bool IsValidName(string? field) =>
        field is { Length: > 0 and <= 64 } && char.IsAsciiLetter(field[0]) && field.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}

/// <summary>Which column holds the person's identity, and in which namespace.</summary>
public sealed record InsightImportIdentity(string? Column, string? Namespace);

/// <summary>
/// A bring-your-own-scores import (the API body of <c>POST /api/v1/insights/imports</c>): every row of the file becomes
/// <c>insights.&lt;Name&gt;</c> on the profile of its identity, with one field per mapped column (column -> field), plus
/// <c>modelVersion</c> (default <c>external</c>) and <c>scoredAt</c> (a column, or the upload time).
/// </summary>
public sealed record InsightImportRequest(
    string? Name,
    InsightImportIdentity? Identity,
    IReadOnlyDictionary<string, string>? Fields,
    string? ScoredAtColumn = null,
    string? ModelVersion = null)
{
    /// <summary>CSV delimiter (default ',').</summary>
    public char Delimiter { get; init; } = ',';
    /// <summary>The batch fails when more than this percentage of rows is rejected (default 5).</summary>
    public double? ErrorThreshold { get; init; }
}

/// <summary>An import started: the batch to poll (<c>GET /api/v1/batches/{BatchId}</c>) and the dataset it lands in.</summary>
public sealed record InsightImportStarted(string BatchId, string DatasetId, string SchemaId, string Name, string IdentityField, bool DatasetCreated, string Status);

/// <summary>What the page proposes for a file: the identity column and its namespace, column -> field, the scoredAt column.</summary>
public sealed record InsightImportSuggestion(string? IdentityColumn, string? Namespace, IReadOnlyDictionary<string, string> Fields, string? ScoredAtColumn, string? Name);

/// <summary>The first rows of a scores file as text with a suggested mapping; <see cref="Error"/> when the file cannot be read.</summary>
public sealed record InsightImportPreview(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string?>> Rows, InsightImportSuggestion Suggestion, string? Error);
