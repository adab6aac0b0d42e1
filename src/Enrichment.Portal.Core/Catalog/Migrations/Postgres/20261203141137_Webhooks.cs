using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Enrichment.Portal.Core.Catalog.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Webhooks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "batch_size",
                table: "destinations",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<double>(
                name: "rate_limit",
                table: "destinations",
                type: "double precision",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "secret",
                table: "destinations",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "batches",
                table: "destination_runs",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "dead_letters",
                table: "destination_runs",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "retries",
                table: "destination_runs",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateTable(
                name: "destination_dead_letters",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    sandbox_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    destination_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    run_id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    batch_id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    from_change = table.Column<long>(type: "bigint", nullable: false),
                    to_change = table.Column<long>(type: "bigint", nullable: false),
                    changes = table.Column<int>(type: "integer", nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    error = table.Column<string>(type: "text", nullable: true),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_destination_dead_letters", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_destination_dead_letters_destination_id_at",
                table: "destination_dead_letters",
                columns: new[] { "destination_id", "at" });

            migrationBuilder.CreateIndex(
                name: "IX_destination_dead_letters_sandbox_id",
                table: "destination_dead_letters",
                column: "sandbox_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "destination_dead_letters");

            migrationBuilder.DropColumn(
                name: "batch_size",
                table: "destinations");

            migrationBuilder.DropColumn(
                name: "rate_limit",
                table: "destinations");

            migrationBuilder.DropColumn(
                name: "secret",
                table: "destinations");

            migrationBuilder.DropColumn(
                name: "batches",
                table: "destination_runs");

            migrationBuilder.DropColumn(
                name: "dead_letters",
                table: "destination_runs");

            migrationBuilder.DropColumn(
                name: "retries",
                table: "destination_runs");
        }
    }
}
