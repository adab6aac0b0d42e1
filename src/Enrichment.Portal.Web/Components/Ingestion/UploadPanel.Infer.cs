using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Web.Auth;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Web.Components.Ingestion;

/// <summary>
/// "Add the file's other columns to the schema": the columns of the file that no field stores get a field each, with the
/// type inferred from a sample of this file (<see cref="SchemaInference"/>, no identity, optional), added to the dataset's
/// schema as a new version (additive, so allowed on profile-enabled schemas too), and mapped.
/// </summary>
public sealed partial class UploadPanel
{
    private string? addedNote;

    /// <summary>Source columns mapped to no field (shown as "(not stored)").</summary>
    private List<string> NotStored => preview is null || preview.Error is not null ? []
        : preview.Columns.Where(c => !string.IsNullOrWhiteSpace(c) && string.IsNullOrEmpty(mapping.GetValueOrDefault(c))).ToList();

    private async Task AddColumnsToSchemaAsync()
    {
        if (staged is null) return;
        var columns = NotStored.ToHashSet(StringComparer.Ordinal);
        busy = true;
        busyText = "Reading a sample to type the new columns…";
        error = null;
        addedNote = null;
        try
        {
            var actor = AuthState is null ? "ui" : (await AuthState).User.Actor();
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            var sp = scope.ServiceProvider;
            var service = sp.GetRequiredService<IngestionService>();
            var dataset = await service.DatasetAsync(DatasetId);
            var schemaId = await sp.GetRequiredService<CatalogDb>().Set<Dataset>().AsNoTracking()
                .Where(d => d.Id == DatasetId).Select(d => d.SchemaId).FirstAsync();
            var inferred = await SchemaInference.InferAsync(staged.Path, staged.FileName, dataset.Schema.Class);
            if (inferred.Error is not null) { error = "The file's columns could not be typed: " + inferred.Error; return; }
            var taken = fields.ToHashSet(StringComparer.OrdinalIgnoreCase);
            var added = inferred.Fields.Where(f => columns.Contains(f.Column) && taken.Add(f.Path)).ToList();
            if (added.Count == 0) { error = "Every column of the file already has a field of that name in the schema: map them above."; return; }
            var schema = await sp.GetRequiredService<SchemaService>().AddFieldsAsync(schemaId,
                added.Select(f => new SchemaField { Path = f.Path, Type = f.Type }).ToList(), actor);
            fields = schema.Fields.Select(f => f.Path).ToList();
            foreach (var f in added) mapping[f.Column] = f.Path;
            addedNote = $"Added {added.Count} field{(added.Count == 1 ? "" : "s")} to schema '{schema.Name}' (version {schema.Version}): " +
                        string.Join(", ", added.Select(f => $"{f.Path} ({f.Type.ToString().ToLowerInvariant()})")) + ".";
            await MapAsync(service);
        }
        catch (CatalogException e) { error = e.Message; }
        finally { busy = false; }
    }
}
