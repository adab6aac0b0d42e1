using System.Runtime.CompilerServices;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Schemas;

[assembly: InternalsVisibleTo("Enrichment.Portal.Core.Tests")]

namespace Enrichment.Portal.Core.Ingestion;

/// <summary>Input formats understood by ingestion. Gzip compression is detected by its magic bytes, for any format but Parquet.</summary>
public enum InputFormat { Csv, JsonArray, JsonLines, Parquet }

/// <summary>Row-level error codes of rejected records.</summary>
public static class ErrorCodes
{
    /// <summary>A value cannot be read as the field's type.</summary>
    public const string TypeMismatch = "TYPE_MISMATCH";
    /// <summary>A required field (or <c>timestamp</c>/<c>eventType</c> of an event schema) is empty.</summary>
    public const string RequiredMissing = "REQUIRED_MISSING";
    /// <summary>A value is not one of the field's enum values.</summary>
    public const string EnumViolation = "ENUM_VIOLATION";
    /// <summary>The record itself is malformed: wrong number of CSV fields, unterminated quote, invalid JSON, not an object.</summary>
    public const string ParseError = "PARSE_ERROR";
    /// <summary>The record is larger than the limit of its schema class (guardrails: 100 KB profile record, 10 KB event; configurable).</summary>
    public const string RecordTooLarge = "RECORD_TOO_LARGE";
    /// <summary>An identity value does not normalize (e.g. an email without '@', a phone without digits).</summary>
    public const string InvalidIdentity = "INVALID_IDENTITY";
    /// <summary>The record holds bytes that are not valid in the file's encoding (option <c>encoding</c>, default UTF-8).</summary>
    public const string InvalidEncoding = "INVALID_ENCODING";
}

/// <summary>Options of one ingestion (API.md: delimiter, errorThreshold, mapping, dateFormat, timestampFormat).</summary>
public sealed record IngestOptions
{
    /// <summary>CSV field delimiter (default <c>,</c>).</summary>
    public char Delimiter { get; init; } = ',';
    /// <summary>Text encoding of CSV and JSON files: <see cref="TextDecoding.Names"/> (default UTF-8; a byte order mark wins).</summary>
    public string? Encoding { get; init; }
    /// <summary>CSV quote character (default <c>"</c>, doubled inside a quoted field).</summary>
    public char Quote { get; init; } = '"';
    /// <summary>The batch fails when the rejected share (percent of records read) is strictly above this.</summary>
    public double ErrorThresholdPercent { get; init; } = 5;
    /// <summary>Source column (CSV header / Parquet column / dotted JSON path) to schema field path. Null: <see cref="MappingSuggester.Suggest"/>.</summary>
    public IReadOnlyDictionary<string, string>? Mapping { get; init; }
    /// <summary>Constant values for fields the file does not have (e.g. <c>eventType</c> = <c>commerce.purchase</c>); parsed like a cell.</summary>
    public IReadOnlyDictionary<string, string>? Constants { get; init; }
    /// <summary>.NET format for text dates (e.g. <c>dd/MM/yyyy</c>); null: ISO 8601 and invariant culture.</summary>
    public string? DateFormat { get; init; }
    /// <summary>.NET format for text timestamps; null: ISO 8601 and invariant culture. Values without offset are taken as UTC.</summary>
    public string? TimestampFormat { get; init; }
    /// <summary>Largest accepted profile record in bytes (guardrail, default 100 KB).</summary>
    public int MaxProfileRecordBytes { get; init; } = 100 * 1024;
    /// <summary>Largest accepted event record in bytes (guardrail, default 10 KB).</summary>
    public int MaxEventRecordBytes { get; init; } = 10 * 1024;
    /// <summary>More header columns than this fails the batch.</summary>
    public int MaxColumns { get; init; } = 2000;
    /// <summary>Records are written to a new Parquet part file after about this many bytes of input.</summary>
    public long PartFileBytes { get; init; } = 64L * 1024 * 1024;
    /// <summary>DuckDB memory limit for the lake write.</summary>
    public string DuckDbMemoryLimit { get; init; } = "256MB";

    /// <summary>These options with the record size limits of this deployment.</summary>
    public IngestOptions WithLimits(GuardrailOptions o) => this with { MaxProfileRecordBytes = o.ProfileRecordBytes, MaxEventRecordBytes = o.EventRecordBytes };

    internal int MaxRecordBytes(SchemaClass c) => c == SchemaClass.Event ? MaxEventRecordBytes : MaxProfileRecordBytes;
}

/// <summary>One ingestion of a stored upload into the lake folder of its batch.</summary>
/// <param name="FilePath">The raw uploaded file (kept by the caller; only read here).</param>
/// <param name="FileName">The original file name: its extension tells the format (<c>.csv</c>, <c>.csv.gz</c>, <c>.json</c>, <c>.jsonl</c>, <c>.parquet</c>).</param>
/// <param name="Schema">The dataset's schema.</param>
/// <param name="Namespaces">Identity namespaces by code (case-insensitive); built-ins are used for codes missing here.</param>
/// <param name="LakeFolder">The batch's final folder, e.g. <c>lake/&lt;sandbox&gt;/&lt;dataset&gt;/&lt;batchId&gt;</c>; replaced atomically.</param>
/// <param name="BatchId">The batch id (names the temp folder; a re-run deletes its leftovers).</param>
public sealed record IngestRequest(
    string FilePath,
    string FileName,
    SchemaDefinition Schema,
    IReadOnlyDictionary<string, NamespaceInfo> Namespaces,
    string LakeFolder,
    string BatchId)
{
    public IngestOptions Options { get; init; } = new();
}

/// <summary>Progress of a running ingestion.</summary>
public sealed record IngestProgress(long RecordsRead, long RecordsFailed, long BytesRead, long TotalBytes);

/// <summary>Rejected records grouped by code and field, with one example message.</summary>
public sealed record ErrorSummaryItem(string Code, string? Field, long Count, string Example);

/// <summary>A file of the batch in the lake: name relative to the lake folder.</summary>
public sealed record LakeFileInfo(string Name, long Bytes, long Records);

/// <summary>A stage of the batch (<c>validate</c>, <c>lake</c>).</summary>
public sealed record StageTiming(string Name, DateTimeOffset StartedAt, DateTimeOffset FinishedAt)
{
    public TimeSpan Duration => FinishedAt - StartedAt;
}

/// <summary>The outcome of <see cref="BatchIngestor.IngestAsync"/>. <see cref="Failed"/> batches have a <see cref="FailureReason"/> and no data files (rejected rows are still kept).</summary>
public sealed record IngestResult
{
    public long RecordsRead { get; init; }
    public long RecordsWritten { get; init; }
    public long RecordsFailed { get; init; }
    public long RecordsWithoutIdentity { get; init; }
    public IReadOnlyList<ErrorSummaryItem> ErrorSummary { get; init; } = [];
    public bool Failed { get; init; }
    public string? FailureReason { get; init; }
    public InputFormat? Format { get; init; }
    public IReadOnlyList<StageTiming> Stages { get; init; } = [];
    /// <summary>Parquet data files (<c>part-NNNNN.parquet</c>); empty for a failed batch.</summary>
    public IReadOnlyList<LakeFileInfo> Files { get; init; } = [];
    /// <summary>Rejected-record files (<c>_errors/errors-NNNNN.parquet</c>); read them with <see cref="LakeWriters.BatchErrors"/>.</summary>
    public IReadOnlyList<LakeFileInfo> ErrorFiles { get; init; } = [];
    /// <summary>Size in bytes of the largest accepted record (guardrails "profile record size" / "event size"), and its row.</summary>
    public long LargestRecordBytes { get; init; }
    public long LargestRecordRow { get; init; }
    /// <summary>Most items of one array field in an accepted record (guardrail "array items in a profile fragment"), and its row.</summary>
    public int MostArrayItems { get; init; }
    public long MostArrayItemsRow { get; init; }
}

/// <summary>One reason a record was rejected.</summary>
public sealed record RecordError(string Code, string? Field, string Message);

/// <summary>A rejected record as stored in the lake: 1-based data record number (header not counted), field, code, message, raw text (at most 16 KB).</summary>
public sealed record RejectedRecord(long Row, string? Field, string Code, string Message, string? Raw);
