using Enrichment.Portal.Core.Catalog;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Models;

/// <summary>
/// The next version number of a model, taken and saved as one step: under the model's <see cref="CatalogLock"/> (in-process,
/// and a PostgreSQL advisory lock across processes) the number is MAX + 1 and the save (with whatever else the caller has
/// tracked) commits before the lock is released. Without it two trainings (or an upload and a training) of one model on
/// two workers both read the same MAX and the second save fails on the unique (model_id, number) index.
/// </summary>
public static class ModelVersionNumbers
{
    public static async Task<int> SaveWithNextNumberAsync(CatalogDb db, ModelVersion version, CancellationToken ct, Action<int>? numbered = null)
    {
        await using var held = await CatalogLock.AcquireAsync(db, "model-version/" + version.ModelId, ct);
        var number = (await db.Set<ModelVersion>().IgnoreQueryFilters().Where(v => v.ModelId == version.ModelId).MaxAsync(v => (int?)v.Number, ct) ?? 0) + 1;
        version.Number = number;
        numbered?.Invoke(number);
        await db.SaveChangesAsync(ct);
        return number;
    }
}
