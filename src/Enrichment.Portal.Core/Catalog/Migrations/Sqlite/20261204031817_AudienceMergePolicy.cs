using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Enrichment.Portal.Core.Catalog.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AudienceMergePolicy : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "merge_policy_id",
                table: "audiences",
                type: "TEXT",
                maxLength: 32,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "merge_policy_id",
                table: "audiences");
        }
    }
}
