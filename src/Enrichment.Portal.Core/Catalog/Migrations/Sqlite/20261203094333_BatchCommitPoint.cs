using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Enrichment.Portal.Core.Catalog.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class BatchCommitPoint : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "CommitStartedAt",
                table: "batches",
                type: "INTEGER",
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
