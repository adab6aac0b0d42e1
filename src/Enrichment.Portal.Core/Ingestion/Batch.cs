using System.Text.Json;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Enrichment.Portal.Core.Ingestion;

/// <summary>Batch states (ARCHITECTURE.md: queued -> processing -> success | failed; abandoned when cancelled).</summary>
public static class BatchStatus
{
    public const string Queued = "queued";
    public const string Processing = "processing";
    public const string Success = "success";
    public const string Failed = "failed";
    public const string Abandoned = "abandoned";

    public static readonly IReadOnlyList<string> All = [Queued, Processing, Success, Failed, Abandoned];
    public static bool IsFinal(string status) => status is Success or Failed or Abandoned;
}

/// <summary>Where a batch came from.</summary>
public static class BatchSource
{
    public const string Upload = "upload";
    public const string Streaming = "streaming";
    public const string System = "system";
}

/// <summary>Stage names of a batch, in the order of <see cref="IngestionPipeline"/>; the profile area records <see cref="Identity"/> and <see cref="Profile"/> through <see cref="BatchStageRecorder"/>.</summary>
public static class BatchStages
{
    public const string Upload = "upload";
    public const string Validate = "validate";
    public const string Lake = "lake";
    public const string Identity = "identity";
    public const string Profile = "profile";
    /// <summary>Incremental audience evaluation of the batch's profiles (Audiences/AudienceStage).</summary>
    public const string Audiences = "audiences";

    /// <summary>Display order: the order of <see cref="IngestionPipeline.StageNames"/>; other names after them.</summary>
    public static int Order(string name)
    {
        for (var i = 0; i < IngestionPipeline.StageNames.Count; i++)
            if (IngestionPipeline.StageNames[i] == name) return i;
        return IngestionPipeline.StageNames.Count;
    }
}

/// <summary>The options a batch was ingested with (API.md form fields), kept so a retry runs the same way.</summary>
public sealed record BatchOptions
{
    public char Delimiter { get; init; } = ',';
    public double ErrorThreshold { get; init; } = 5;
    public Dictionary<string, string>? Mapping { get; init; }
    public Dictionary<string, string>? Constants { get; init; }
    public string? DateFormat { get; init; }
    public string? TimestampFormat { get; init; }
    /// <summary>Text encoding of the file (<see cref="TextDecoding.Names"/>); null: UTF-8.</summary>
    public string? Encoding { get; init; }

    public IngestOptions ToIngestOptions() => new()
    {
        Delimiter = Delimiter, ErrorThresholdPercent = ErrorThreshold, Mapping = Mapping, Constants = Constants,
        DateFormat = DateFormat, TimestampFormat = TimestampFormat, Encoding = Encoding,
    };
}

/// <summary>One ingestion into a dataset: an upload, a streaming micro-batch or a system write. Its data lives in <c>LakeCatalog.BatchFolder</c>.</summary>
public sealed class Batch : ISandboxScoped
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    public string DatasetId { get; set; } = "";
    public string Status { get; set; } = BatchStatus.Queued;
    public string Source { get; set; } = BatchSource.Upload;
    public long RecordsRead { get; set; }
    public long RecordsWritten { get; set; }
    public long RecordsFailed { get; set; }
    public long RecordsWithoutIdentity { get; set; }
    /// <summary>Progress of a running batch: bytes of the raw file read so far, of <see cref="FileBytes"/>.</summary>
    public long BytesRead { get; set; }
    /// <summary>JSON array of <see cref="ErrorSummaryItem"/>.</summary>
    public string ErrorSummaryJson { get; set; } = "[]";
    /// <summary>JSON array of <see cref="LakeFileInfo"/>: the batch's Parquet data files.</summary>
    public string FilesJson { get; set; } = "[]";
    /// <summary>The kept raw upload (absolute path under the upload directory); null for streaming batches.</summary>
    public string? RawPath { get; set; }
    public string? FileName { get; set; }
    public long FileBytes { get; set; }
    public string? Format { get; set; }
    /// <summary>JSON of <see cref="BatchOptions"/>.</summary>
    public string OptionsJson { get; set; } = "{}";
    public string? IdempotencyKey { get; set; }
    public string? FailureReason { get; set; }
    /// <summary>JSON array of strings: soft guardrails this batch crossed (e.g. batches per day); the batch still succeeds.</summary>
    public string WarningsJson { get; set; } = "[]";
    /// <summary>Bytes of the largest accepted record (guardrails "profile record size" / "event size").</summary>
    public long LargestRecordBytes { get; set; }
    /// <summary>Most items of one array field in an accepted record (guardrail "array items in a profile fragment").</summary>
    public int MostArrayItems { get; set; }
    public string? JobRunId { get; set; }
    public int Attempts { get; set; }
    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    /// <summary>
    /// When the batch's job began applying it past the lake (identity, profile): from then on a cancel comes too late and
    /// the batch ends as success or failed. Set and checked by one conditional update each, so a cancel and the commit
    /// never both win. Null while queued or validating (and again when a retry starts).
    /// </summary>
    public DateTimeOffset? CommitStartedAt { get; set; }

    public BatchOptions Options => JsonSerializer.Deserialize<BatchOptions>(OptionsJson, Json) ?? new BatchOptions();
    public IReadOnlyList<ErrorSummaryItem> ErrorSummary => JsonSerializer.Deserialize<List<ErrorSummaryItem>>(ErrorSummaryJson, Json) ?? [];
    public IReadOnlyList<LakeFileInfo> Files => JsonSerializer.Deserialize<List<LakeFileInfo>>(FilesJson, Json) ?? [];
    public IReadOnlyList<string> Warnings => string.IsNullOrEmpty(WarningsJson) ? [] : JsonSerializer.Deserialize<List<string>>(WarningsJson, Json) ?? [];

    internal static string ToJson<T>(T value) => JsonSerializer.Serialize(value, Json);
}

/// <summary>The start and end of one stage of a batch (upload, validate, lake, identity, profile).</summary>
public sealed class BatchStage : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    public string BatchId { get; set; } = "";
    public string Name { get; set; } = "";
    /// <summary><c>processing</c>, <c>success</c>, <c>failed</c> or <c>skipped</c>.</summary>
    public string Status { get; set; } = BatchStatus.Processing;
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public string? Detail { get; set; }
}

internal sealed class BatchConfiguration : IEntityTypeConfiguration<Batch>
{
    public void Configure(EntityTypeBuilder<Batch> b)
    {
        b.ToTable("batches");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.DatasetId).HasMaxLength(32);
        b.Property(x => x.Status).HasMaxLength(20);
        b.Property(x => x.Source).HasMaxLength(20);
        b.Property(x => x.IdempotencyKey).HasMaxLength(200);
        b.Property(x => x.FileName).HasMaxLength(400);
        b.HasIndex(x => new { x.DatasetId, x.IdempotencyKey }).IsUnique();
        b.HasIndex(x => new { x.DatasetId, x.CreatedAt });
        b.HasIndex(x => new { x.Status, x.CreatedAt });
        // Guardrail "batches per day" and the latency panel's time windows are per sandbox and time.
        b.HasIndex(x => new { x.SandboxId, x.CreatedAt });
        b.Ignore(x => x.Options);
        b.Ignore(x => x.Warnings);
        b.Ignore(x => x.ErrorSummary);
        b.Ignore(x => x.Files);
    }
}

internal sealed class BatchStageConfiguration : IEntityTypeConfiguration<BatchStage>
{
    public void Configure(EntityTypeBuilder<BatchStage> b)
    {
        b.ToTable("batch_stages");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.BatchId).HasMaxLength(32);
        b.Property(x => x.Name).HasMaxLength(40);
        b.Property(x => x.Status).HasMaxLength(20);
        b.HasIndex(x => new { x.BatchId, x.Name }).IsUnique();
        b.HasOne<Batch>().WithMany().HasForeignKey(x => x.BatchId).OnDelete(DeleteBehavior.Cascade);
    }
}
