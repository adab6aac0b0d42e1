using Enrichment.Portal.Core.Sandboxes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Enrichment.Portal.Core.Schemas;

/// <summary>
/// A stored schema of one sandbox. Its fields are kept as JSON in the API.md shape (<see cref="SchemaDefinitionJson"/>);
/// a few facts about them are kept in columns so that lists and checks need not parse the JSON
/// (<see cref="FieldCount"/>, <see cref="PrimaryIdentityPath"/>, <see cref="NamespaceCodes"/>). Change it through
/// <see cref="SchemaService"/> only, which keeps those columns right.
/// </summary>
public sealed class Schema : ISandboxScoped
{
    public string Id { get; set; } = Ids.New();
    public string SandboxId { get; set; } = "";
    public string Name { get; set; } = "";
    public string? Description { get; set; }
    public SchemaClass Class { get; set; }
    public string FieldsJson { get; set; } = "[]";
    public int Version { get; set; } = 1;
    /// <summary>One-way: after it, only additive changes (<see cref="SchemaEvolution"/>).</summary>
    public bool ProfileEnabled { get; set; }
    public DateTimeOffset? ProfileEnabledAt { get; set; }
    public int FieldCount { get; set; }
    /// <summary>Path of the primary identity field, or null.</summary>
    public string? PrimaryIdentityPath { get; set; }
    /// <summary>The identity namespace codes the fields use, as <c>|Email|CRMID|</c> (to find the schemas using a namespace).</summary>
    public string NamespaceCodes { get; set; } = "|";
    public string? CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;

    public IReadOnlyList<SchemaField> Fields => SchemaDefinitionJson.DeserializeFields(FieldsJson);

    /// <summary>The definition that ingestion, stitching and export work with.</summary>
    public SchemaDefinition ToDefinition() => new(Name, Class, Fields);

    internal void SetFields(IReadOnlyList<SchemaField> fields)
    {
        FieldsJson = SchemaDefinitionJson.SerializeFields(fields);
        FieldCount = fields.Count;
        PrimaryIdentityPath = fields.FirstOrDefault(f => f.Identity is { Primary: true })?.Path;
        var codes = fields.Where(f => f.Identity is not null).Select(f => f.Identity!.Namespace).Distinct(StringComparer.Ordinal).ToList();
        NamespaceCodes = "|" + string.Concat(codes.Select(c => c + "|"));
    }

    /// <summary>The marker looked for in <see cref="NamespaceCodes"/>.</summary>
    public static string NamespaceMarker(string code) => "|" + code + "|";
}

internal sealed class SchemaConfiguration : IEntityTypeConfiguration<Schema>
{
    public void Configure(EntityTypeBuilder<Schema> b)
    {
        b.ToTable("schemas");
        b.HasKey(x => x.Id);
        b.Property(x => x.Id).HasMaxLength(32);
        b.Property(x => x.Name).HasMaxLength(200);
        b.Property(x => x.Description).HasMaxLength(4000);
        b.Property(x => x.Class).HasConversion<string>().HasMaxLength(20);
        b.Property(x => x.PrimaryIdentityPath).HasMaxLength(1000);
        b.Ignore(x => x.Fields);
        b.HasIndex(x => new { x.SandboxId, x.Name }).IsUnique();
    }
}
