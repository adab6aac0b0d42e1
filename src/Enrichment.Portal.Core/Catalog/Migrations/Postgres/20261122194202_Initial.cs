using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Enrichment.Portal.Core.Catalog.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "api_keys",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SandboxId = table.Column<string>(type: "text", nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Role = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Prefix = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    CreatedBy = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastUsedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    RevokedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_api_keys", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "audit_log",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    SandboxId = table.Column<string>(type: "text", nullable: false),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Actor = table.Column<string>(type: "text", nullable: false),
                    Action = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Target = table.Column<string>(type: "text", nullable: true),
                    Detail = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audit_log", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "batches",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SandboxId = table.Column<string>(type: "text", nullable: false),
                    DatasetId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Source = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    RecordsRead = table.Column<long>(type: "bigint", nullable: false),
                    RecordsWritten = table.Column<long>(type: "bigint", nullable: false),
                    RecordsFailed = table.Column<long>(type: "bigint", nullable: false),
                    RecordsWithoutIdentity = table.Column<long>(type: "bigint", nullable: false),
                    BytesRead = table.Column<long>(type: "bigint", nullable: false),
                    ErrorSummaryJson = table.Column<string>(type: "text", nullable: false),
                    FilesJson = table.Column<string>(type: "text", nullable: false),
                    RawPath = table.Column<string>(type: "text", nullable: true),
                    FileName = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: true),
                    FileBytes = table.Column<long>(type: "bigint", nullable: false),
                    Format = table.Column<string>(type: "text", nullable: true),
                    OptionsJson = table.Column<string>(type: "text", nullable: false),
                    IdempotencyKey = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    FailureReason = table.Column<string>(type: "text", nullable: true),
                    WarningsJson = table.Column<string>(type: "text", nullable: false),
                    LargestRecordBytes = table.Column<long>(type: "bigint", nullable: false),
                    MostArrayItems = table.Column<int>(type: "integer", nullable: false),
                    JobRunId = table.Column<string>(type: "text", nullable: true),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    CreatedBy = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    CompletedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_batches", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "dataset_stats_cache",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SandboxId = table.Column<string>(type: "text", nullable: false),
                    DatasetId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    VersionKey = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Target = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    Positive = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    Status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    ReportJson = table.Column<string>(type: "text", nullable: true),
                    Error = table.Column<string>(type: "text", nullable: true),
                    JobRunId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ComputedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dataset_stats_cache", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "identity_namespaces",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SandboxId = table.Column<string>(type: "text", nullable: false),
                    Code = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Type = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Normalizer = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Description = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    CreatedBy = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_identity_namespaces", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "job_runs",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SandboxId = table.Column<string>(type: "text", nullable: false),
                    Kind = table.Column<string>(type: "character varying(50)", maxLength: 50, nullable: false),
                    TargetId = table.Column<string>(type: "text", nullable: true),
                    Status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Progress = table.Column<double>(type: "double precision", nullable: false),
                    ProgressText = table.Column<string>(type: "text", nullable: true),
                    Error = table.Column<string>(type: "text", nullable: true),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    HangfireJobId = table.Column<string>(type: "text", nullable: true),
                    CreatedBy = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    HeartbeatAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_job_runs", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "merge_policies",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    sandbox_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    method = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    dataset_order = table.Column<string>(type: "text", nullable: false),
                    is_default = table.Column<bool>(type: "boolean", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_merge_policies", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "models",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SandboxId = table.Column<string>(type: "text", nullable: false),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Description = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    Recipe = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    SourceDatasetId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    SourceSnapshot = table.Column<bool>(type: "boolean", nullable: false),
                    LabelField = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    LabelPositive = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    FeaturesJson = table.Column<string>(type: "text", nullable: true),
                    ExcludeFeaturesJson = table.Column<string>(type: "text", nullable: true),
                    ParametersJson = table.Column<string>(type: "text", nullable: false),
                    Seed = table.Column<int>(type: "integer", nullable: false),
                    ActiveVersionId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    ScheduleCron = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    ScheduleRetrain = table.Column<bool>(type: "boolean", nullable: false),
                    ScheduleNextRunAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    CreatedBy = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_models", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "profile_aliases",
                columns: table => new
                {
                    alias_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    sandbox_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    profile_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    merged_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_profile_aliases", x => x.alias_id);
                });

            migrationBuilder.CreateTable(
                name: "profile_events",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    sandbox_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    profile_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    dataset_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    batch_id = table.Column<string>(type: "text", nullable: false),
                    row_number = table.Column<long>(type: "bigint", nullable: false),
                    timestamp = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    event_type = table.Column<string>(type: "text", nullable: false),
                    fields = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_profile_events", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "profile_evictions",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    sandbox_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    profile_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    @namespace = table.Column<string>(name: "namespace", type: "text", nullable: false),
                    value = table.Column<string>(type: "text", nullable: false),
                    first_seen = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    evicted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_profile_evictions", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "profile_fragments",
                columns: table => new
                {
                    sandbox_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    dataset_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    record_key = table.Column<string>(type: "text", nullable: false),
                    profile_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    batch_id = table.Column<string>(type: "text", nullable: false),
                    written_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    attributes = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_profile_fragments", x => new { x.sandbox_id, x.dataset_id, x.record_key });
                });

            migrationBuilder.CreateTable(
                name: "profile_identities",
                columns: table => new
                {
                    sandbox_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    @namespace = table.Column<string>(name: "namespace", type: "character varying(64)", maxLength: 64, nullable: false),
                    value = table.Column<string>(type: "text", nullable: false),
                    profile_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    first_seen = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_profile_identities", x => new { x.sandbox_id, x.@namespace, x.value });
                });

            migrationBuilder.CreateTable(
                name: "profile_links",
                columns: table => new
                {
                    sandbox_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    from_namespace = table.Column<string>(type: "text", nullable: false),
                    from_value = table.Column<string>(type: "text", nullable: false),
                    to_namespace = table.Column<string>(type: "text", nullable: false),
                    to_value = table.Column<string>(type: "text", nullable: false),
                    profile_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    dataset_id = table.Column<string>(type: "text", nullable: false),
                    batch_id = table.Column<string>(type: "text", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_profile_links", x => new { x.sandbox_id, x.from_namespace, x.from_value, x.to_namespace, x.to_value });
                });

            migrationBuilder.CreateTable(
                name: "profiles",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    sandbox_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    identity_count = table.Column<int>(type: "integer", nullable: false),
                    hit_limit = table.Column<bool>(type: "boolean", nullable: false),
                    attributes = table.Column<string>(type: "text", nullable: false),
                    provenance = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_profiles", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "query_history",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SandboxId = table.Column<string>(type: "text", nullable: false),
                    Principal = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Actor = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Sql = table.Column<string>(type: "text", nullable: false),
                    RowCount = table.Column<int>(type: "integer", nullable: true),
                    Truncated = table.Column<bool>(type: "boolean", nullable: false),
                    ElapsedMs = table.Column<long>(type: "bigint", nullable: false),
                    Error = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_query_history", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "sandboxes",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Title = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_sandboxes", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "schemas",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SandboxId = table.Column<string>(type: "text", nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Description = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    Class = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    FieldsJson = table.Column<string>(type: "text", nullable: false),
                    Version = table.Column<int>(type: "integer", nullable: false),
                    ProfileEnabled = table.Column<bool>(type: "boolean", nullable: false),
                    ProfileEnabledAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    FieldCount = table.Column<int>(type: "integer", nullable: false),
                    PrimaryIdentityPath = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    NamespaceCodes = table.Column<string>(type: "text", nullable: false),
                    CreatedBy = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_schemas", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "users",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    UserName = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    DisplayName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    PasswordHash = table.Column<string>(type: "text", nullable: false),
                    Disabled = table.Column<bool>(type: "boolean", nullable: false),
                    FailedLogins = table.Column<int>(type: "integer", nullable: false),
                    LockedUntil = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastLoginAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_users", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "batch_stages",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SandboxId = table.Column<string>(type: "text", nullable: false),
                    BatchId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Name = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    Status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Detail = table.Column<string>(type: "text", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_batch_stages", x => x.Id);
                    table.ForeignKey(
                        name: "FK_batch_stages_batches_BatchId",
                        column: x => x.BatchId,
                        principalTable: "batches",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "model_versions",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SandboxId = table.Column<string>(type: "text", nullable: false),
                    ModelId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Number = table.Column<int>(type: "integer", nullable: false),
                    RunId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    ArtifactPath = table.Column<string>(type: "text", nullable: false),
                    ArtifactBytes = table.Column<long>(type: "bigint", nullable: false),
                    Recipe = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    MetricsJson = table.Column<string>(type: "text", nullable: true),
                    BaselineJson = table.Column<string>(type: "text", nullable: true),
                    Grade = table.Column<string>(type: "character varying(2)", maxLength: 2, nullable: true),
                    FittedParametersJson = table.Column<string>(type: "text", nullable: true),
                    ParametersJson = table.Column<string>(type: "text", nullable: true),
                    Seed = table.Column<int>(type: "integer", nullable: false),
                    Trainer = table.Column<string>(type: "text", nullable: true),
                    SourceDatasetId = table.Column<string>(type: "text", nullable: true),
                    SourceDatasetName = table.Column<string>(type: "text", nullable: true),
                    BatchFoldersJson = table.Column<string>(type: "text", nullable: true),
                    EventDatasetId = table.Column<string>(type: "text", nullable: true),
                    TrainRows = table.Column<int>(type: "integer", nullable: false),
                    TestRows = table.Column<int>(type: "integer", nullable: false),
                    TrainingDistributionJson = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_model_versions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_model_versions_models_ModelId",
                        column: x => x.ModelId,
                        principalTable: "models",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "scoring_runs",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SandboxId = table.Column<string>(type: "text", nullable: false),
                    ModelId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    VersionId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    TargetDatasetId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    TargetSnapshot = table.Column<bool>(type: "boolean", nullable: false),
                    Status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Progress = table.Column<double>(type: "double precision", nullable: false),
                    Stage = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: true),
                    RowsScored = table.Column<long>(type: "bigint", nullable: false),
                    OutputDatasetId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    BatchId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    ProfilesUpdated = table.Column<long>(type: "bigint", nullable: false),
                    DistributionJson = table.Column<string>(type: "text", nullable: true),
                    Psi = table.Column<double>(type: "double precision", nullable: true),
                    DriftWarning = table.Column<bool>(type: "boolean", nullable: false),
                    Trigger = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Retrain = table.Column<bool>(type: "boolean", nullable: false),
                    TrainingRunId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    RetrainDecision = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    LogJson = table.Column<string>(type: "text", nullable: true),
                    JobRunId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    Error = table.Column<string>(type: "text", nullable: true),
                    CreatedBy = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_scoring_runs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_scoring_runs_models_ModelId",
                        column: x => x.ModelId,
                        principalTable: "models",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "training_runs",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SandboxId = table.Column<string>(type: "text", nullable: false),
                    ModelId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Progress = table.Column<double>(type: "double precision", nullable: false),
                    Stage = table.Column<string>(type: "text", nullable: true),
                    Seed = table.Column<int>(type: "integer", nullable: false),
                    MetricsJson = table.Column<string>(type: "text", nullable: true),
                    FittedParametersJson = table.Column<string>(type: "text", nullable: true),
                    BaselineJson = table.Column<string>(type: "text", nullable: true),
                    Grade = table.Column<string>(type: "character varying(2)", maxLength: 2, nullable: true),
                    FeatureImportanceJson = table.Column<string>(type: "text", nullable: true),
                    ChartsJson = table.Column<string>(type: "text", nullable: true),
                    LogJson = table.Column<string>(type: "text", nullable: true),
                    Trainer = table.Column<string>(type: "text", nullable: true),
                    TrainRows = table.Column<int>(type: "integer", nullable: false),
                    TestRows = table.Column<int>(type: "integer", nullable: false),
                    VersionId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    Error = table.Column<string>(type: "text", nullable: true),
                    JobRunId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    CreatedBy = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_runs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_training_runs_models_ModelId",
                        column: x => x.ModelId,
                        principalTable: "models",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "datasets",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SandboxId = table.Column<string>(type: "text", nullable: false),
                    Name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Description = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    SchemaId = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    ProfileEnabled = table.Column<bool>(type: "boolean", nullable: false),
                    ProfileEnabledAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    System = table.Column<bool>(type: "boolean", nullable: false),
                    RecordCount = table.Column<long>(type: "bigint", nullable: false),
                    BatchCount = table.Column<int>(type: "integer", nullable: false),
                    DeletedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    CreatedBy = table.Column<string>(type: "text", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_datasets", x => x.Id);
                    table.ForeignKey(
                        name: "FK_datasets_schemas_SchemaId",
                        column: x => x.SchemaId,
                        principalTable: "schemas",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "memberships",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    UserId = table.Column<string>(type: "character varying(32)", nullable: false),
                    SandboxId = table.Column<string>(type: "character varying(32)", nullable: false),
                    Role = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_memberships", x => x.Id);
                    table.ForeignKey(
                        name: "FK_memberships_sandboxes_SandboxId",
                        column: x => x.SandboxId,
                        principalTable: "sandboxes",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_memberships_users_UserId",
                        column: x => x.UserId,
                        principalTable: "users",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_api_keys_Hash",
                table: "api_keys",
                column: "Hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_api_keys_SandboxId",
                table: "api_keys",
                column: "SandboxId");

            migrationBuilder.CreateIndex(
                name: "IX_audit_log_At",
                table: "audit_log",
                column: "At");

            migrationBuilder.CreateIndex(
                name: "IX_audit_log_SandboxId",
                table: "audit_log",
                column: "SandboxId");

            migrationBuilder.CreateIndex(
                name: "IX_batch_stages_BatchId_Name",
                table: "batch_stages",
                columns: new[] { "BatchId", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_batch_stages_SandboxId",
                table: "batch_stages",
                column: "SandboxId");

            migrationBuilder.CreateIndex(
                name: "IX_batches_DatasetId_CreatedAt",
                table: "batches",
                columns: new[] { "DatasetId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_batches_DatasetId_IdempotencyKey",
                table: "batches",
                columns: new[] { "DatasetId", "IdempotencyKey" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_batches_SandboxId_CreatedAt",
                table: "batches",
                columns: new[] { "SandboxId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_batches_Status_CreatedAt",
                table: "batches",
                columns: new[] { "Status", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_dataset_stats_cache_SandboxId_DatasetId_VersionKey_Target_P~",
                table: "dataset_stats_cache",
                columns: new[] { "SandboxId", "DatasetId", "VersionKey", "Target", "Positive" });

            migrationBuilder.CreateIndex(
                name: "IX_datasets_SandboxId_Name",
                table: "datasets",
                columns: new[] { "SandboxId", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_datasets_SchemaId",
                table: "datasets",
                column: "SchemaId");

            migrationBuilder.CreateIndex(
                name: "IX_identity_namespaces_SandboxId_Code",
                table: "identity_namespaces",
                columns: new[] { "SandboxId", "Code" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_job_runs_SandboxId",
                table: "job_runs",
                column: "SandboxId");

            migrationBuilder.CreateIndex(
                name: "IX_job_runs_Status_CreatedAt",
                table: "job_runs",
                columns: new[] { "Status", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_memberships_SandboxId",
                table: "memberships",
                column: "SandboxId");

            migrationBuilder.CreateIndex(
                name: "IX_memberships_UserId_SandboxId",
                table: "memberships",
                columns: new[] { "UserId", "SandboxId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_merge_policies_sandbox_id_name",
                table: "merge_policies",
                columns: new[] { "sandbox_id", "name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_model_versions_ModelId_Number",
                table: "model_versions",
                columns: new[] { "ModelId", "Number" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_model_versions_SandboxId",
                table: "model_versions",
                column: "SandboxId");

            migrationBuilder.CreateIndex(
                name: "IX_models_SandboxId_Name",
                table: "models",
                columns: new[] { "SandboxId", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_profile_aliases_sandbox_id_profile_id",
                table: "profile_aliases",
                columns: new[] { "sandbox_id", "profile_id" });

            migrationBuilder.CreateIndex(
                name: "IX_profile_events_sandbox_id_dataset_id_batch_id_row_number",
                table: "profile_events",
                columns: new[] { "sandbox_id", "dataset_id", "batch_id", "row_number" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_profile_events_sandbox_id_profile_id_timestamp",
                table: "profile_events",
                columns: new[] { "sandbox_id", "profile_id", "timestamp" });

            migrationBuilder.CreateIndex(
                name: "IX_profile_evictions_sandbox_id_profile_id",
                table: "profile_evictions",
                columns: new[] { "sandbox_id", "profile_id" });

            migrationBuilder.CreateIndex(
                name: "IX_profile_fragments_sandbox_id_profile_id_dataset_id",
                table: "profile_fragments",
                columns: new[] { "sandbox_id", "profile_id", "dataset_id" });

            migrationBuilder.CreateIndex(
                name: "IX_profile_identities_sandbox_id_profile_id",
                table: "profile_identities",
                columns: new[] { "sandbox_id", "profile_id" });

            migrationBuilder.CreateIndex(
                name: "IX_profile_links_sandbox_id_profile_id",
                table: "profile_links",
                columns: new[] { "sandbox_id", "profile_id" });

            migrationBuilder.CreateIndex(
                name: "IX_profiles_sandbox_id_hit_limit",
                table: "profiles",
                columns: new[] { "sandbox_id", "hit_limit" });

            migrationBuilder.CreateIndex(
                name: "IX_profiles_sandbox_id_id",
                table: "profiles",
                columns: new[] { "sandbox_id", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_profiles_sandbox_id_identity_count",
                table: "profiles",
                columns: new[] { "sandbox_id", "identity_count" });

            migrationBuilder.CreateIndex(
                name: "IX_query_history_SandboxId_Principal_At",
                table: "query_history",
                columns: new[] { "SandboxId", "Principal", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_sandboxes_Name",
                table: "sandboxes",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_schemas_SandboxId_Name",
                table: "schemas",
                columns: new[] { "SandboxId", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_scoring_runs_ModelId_CreatedAt",
                table: "scoring_runs",
                columns: new[] { "ModelId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_scoring_runs_SandboxId",
                table: "scoring_runs",
                column: "SandboxId");

            migrationBuilder.CreateIndex(
                name: "IX_training_runs_ModelId_CreatedAt",
                table: "training_runs",
                columns: new[] { "ModelId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_training_runs_SandboxId",
                table: "training_runs",
                column: "SandboxId");

            migrationBuilder.CreateIndex(
                name: "IX_users_UserName",
                table: "users",
                column: "UserName",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "api_keys");

            migrationBuilder.DropTable(
                name: "audit_log");

            migrationBuilder.DropTable(
                name: "batch_stages");

            migrationBuilder.DropTable(
                name: "dataset_stats_cache");

            migrationBuilder.DropTable(
                name: "datasets");

            migrationBuilder.DropTable(
                name: "identity_namespaces");

            migrationBuilder.DropTable(
                name: "job_runs");

            migrationBuilder.DropTable(
                name: "memberships");

            migrationBuilder.DropTable(
                name: "merge_policies");

            migrationBuilder.DropTable(
                name: "model_versions");

            migrationBuilder.DropTable(
                name: "profile_aliases");

            migrationBuilder.DropTable(
                name: "profile_events");

            migrationBuilder.DropTable(
                name: "profile_evictions");

            migrationBuilder.DropTable(
                name: "profile_fragments");

            migrationBuilder.DropTable(
                name: "profile_identities");

            migrationBuilder.DropTable(
                name: "profile_links");

            migrationBuilder.DropTable(
                name: "profiles");

            migrationBuilder.DropTable(
                name: "query_history");

            migrationBuilder.DropTable(
                name: "scoring_runs");

            migrationBuilder.DropTable(
                name: "training_runs");

            migrationBuilder.DropTable(
                name: "batches");

            migrationBuilder.DropTable(
                name: "schemas");

            migrationBuilder.DropTable(
                name: "sandboxes");

            migrationBuilder.DropTable(
                name: "users");

            migrationBuilder.DropTable(
                name: "models");
        }
    }
}
