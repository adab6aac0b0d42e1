using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Enrichment.Portal.Core.Catalog.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class BatchCommitPoint : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "CommitStartedAt",
                table: "batches",
                type: "timestamp with time zone",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "CommitStartedAt",
                table: "batches");
        }
    }
}
