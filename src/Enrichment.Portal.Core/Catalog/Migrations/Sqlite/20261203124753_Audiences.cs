using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Enrichment.Portal.Core.Catalog.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Audiences : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "audience_changes",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    sandbox_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    audience_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    profile_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    entered = table.Column<bool>(type: "INTEGER", nullable: false),
                    at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audience_changes", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "audience_members",
                columns: table => new
                {
                    audience_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    profile_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    sandbox_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    since = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audience_members", x => new { x.audience_id, x.profile_id });
                });

            migrationBuilder.CreateTable(
                name: "audience_sizes",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    sandbox_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    audience_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    at = table.Column<long>(type: "INTEGER", nullable: false),
                    size = table.Column<long>(type: "INTEGER", nullable: false),
                    entered = table.Column<long>(type: "INTEGER", nullable: false),
                    exited = table.Column<long>(type: "INTEGER", nullable: false),
                    kind = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audience_sizes", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "audiences",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    sandbox_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    description = table.Column<string>(type: "TEXT", nullable: true),
                    rule_json = table.Column<string>(type: "TEXT", nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    size = table.Column<long>(type: "INTEGER", nullable: false),
                    evaluated_at = table.Column<long>(type: "INTEGER", nullable: true),
                    last_job_run_id = table.Column<string>(type: "TEXT", nullable: true),
                    error = table.Column<string>(type: "TEXT", nullable: true),
                    created_by = table.Column<string>(type: "TEXT", nullable: true),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    updated_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_audiences", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "destination_runs",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    sandbox_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    destination_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    job_run_id = table.Column<string>(type: "TEXT", nullable: true),
                    status = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    started_at = table.Column<long>(type: "INTEGER", nullable: false),
                    finished_at = table.Column<long>(type: "INTEGER", nullable: true),
                    members = table.Column<long>(type: "INTEGER", nullable: false),
                    entered = table.Column<long>(type: "INTEGER", nullable: false),
                    exited = table.Column<long>(type: "INTEGER", nullable: false),
                    bytes = table.Column<long>(type: "INTEGER", nullable: false),
                    from_change = table.Column<long>(type: "INTEGER", nullable: false),
                    to_change = table.Column<long>(type: "INTEGER", nullable: false),
                    file = table.Column<string>(type: "TEXT", nullable: true),
                    error = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_destination_runs", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "destinations",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    sandbox_id = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    type = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    target = table.Column<string>(type: "TEXT", nullable: false),
                    format = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    mode = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    segment_ids = table.Column<string>(type: "TEXT", nullable: false),
                    attributes = table.Column<string>(type: "TEXT", nullable: false),
                    identities = table.Column<string>(type: "TEXT", nullable: false),
                    cron = table.Column<string>(type: "TEXT", nullable: true),
                    next_run_at = table.Column<long>(type: "INTEGER", nullable: true),
                    cursor = table.Column<long>(type: "INTEGER", nullable: false),
                    created_by = table.Column<string>(type: "TEXT", nullable: true),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_destinations", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_profile_fragments_sandbox_id_batch_id",
                table: "profile_fragments",
                columns: new[] { "sandbox_id", "batch_id" });

            migrationBuilder.CreateIndex(
                name: "IX_audience_changes_audience_id_id",
                table: "audience_changes",
                columns: new[] { "audience_id", "id" });

            migrationBuilder.CreateIndex(
                name: "IX_audience_changes_sandbox_id_profile_id",
                table: "audience_changes",
                columns: new[] { "sandbox_id", "profile_id" });

            migrationBuilder.CreateIndex(
                name: "IX_audience_members_sandbox_id_profile_id",
                table: "audience_members",
                columns: new[] { "sandbox_id", "profile_id" });

            migrationBuilder.CreateIndex(
                name: "IX_audience_sizes_audience_id_at",
                table: "audience_sizes",
                columns: new[] { "audience_id", "at" });

            migrationBuilder.CreateIndex(
                name: "IX_audience_sizes_sandbox_id",
                table: "audience_sizes",
                column: "sandbox_id");

            migrationBuilder.CreateIndex(
                name: "IX_audiences_sandbox_id_name",
                table: "audiences",
                columns: new[] { "sandbox_id", "name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_destination_runs_destination_id_started_at",
                table: "destination_runs",
                columns: new[] { "destination_id", "started_at" });

            migrationBuilder.CreateIndex(
                name: "IX_destination_runs_sandbox_id",
                table: "destination_runs",
                column: "sandbox_id");

            migrationBuilder.CreateIndex(
                name: "IX_destinations_sandbox_id_name",
                table: "destinations",
                columns: new[] { "sandbox_id", "name" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "audience_changes");

            migrationBuilder.DropTable(
                name: "audience_members");

            migrationBuilder.DropTable(
                name: "audience_sizes");

            migrationBuilder.DropTable(
                name: "audiences");

            migrationBuilder.DropTable(
                name: "destination_runs");

            migrationBuilder.DropTable(
                name: "destinations");

            migrationBuilder.DropIndex(
                name: "IX_profile_fragments_sandbox_id_batch_id",
                table: "profile_fragments");
        }
    }
}
