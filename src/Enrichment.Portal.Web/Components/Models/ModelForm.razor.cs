using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Exploration;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Web.Auth;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Web.Components.Models;

/// <summary>A model and its first training run started; what <see cref="ModelForm"/> reports.</summary>
public sealed record ModelTrainingStarted(string ModelId, string RunId);

/// <summary>
/// The new-model form (page /models/new and wizard step 5): creates the model through <see cref="ModelService"/> and starts
/// its training. Column statistics (Core/Exploration) give the label's values and the warnings per feature (possible-leak ...).
/// </summary>
public partial class ModelForm
{
    public const string SnapshotValue = "__snapshot";

    [Inject] private IServiceScopeFactory Scopes { get; set; } = default!;
    [Inject] private SandboxContext Sandbox { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState>? AuthState { get; set; }

    /// <summary>Preselected source dataset (e.g. from the wizard's step 2).</summary>
    [Parameter] public string? DatasetId { get; set; }
    [Parameter] public string? InitialRecipe { get; set; }
    [Parameter] public EventCallback<ModelTrainingStarted> OnStarted { get; set; }

    private IReadOnlyList<LakeDataset> datasets = [];
    private LakeDataset? source;
    private DatasetStats? stats;
    private string recipe = "propensity";
    private string name = "";
    private string? sourceId, labelField, labelPositive, error;
    private readonly HashSet<string> excluded = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?> parameters = new(StringComparer.Ordinal);
    private bool busy, loadingStats, initialized;
    private int statsVersion;

    private RecipeInfo? Recipe => RecipeCatalog.Find(recipe);
    private bool IsCustom => Recipe is not null && RecipeCatalog.IsUploaded(Recipe.Name);
    /// <summary>Offer the custom (ONNX upload) recipe; the wizard, which trains, does not.</summary>
    [Parameter] public bool AllowCustom { get; set; } = true;

    protected override async Task OnInitializedAsync()
    {
        recipe = RecipeCatalog.Find(InitialRecipe)?.Name ?? recipe;
        await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
        datasets = await scope.ServiceProvider.GetRequiredService<ModelService>().SourceDatasetsAsync();
        name = await FreeNameAsync(scope.ServiceProvider.GetRequiredService<ModelService>(), recipe);
        initialized = true;
        var preselected = DatasetId is not null && datasets.Any(d => d.Id == DatasetId) ? DatasetId : datasets.Count == 1 ? datasets[0].Id : null;
        if (preselected is not null) await OnSourceAsync(preselected);
    }

    private static async Task<string> FreeNameAsync(ModelService service, string recipe)
    {
        var names = service.Query().Select(m => m.Name.ToLower()).ToHashSet();
        var n = recipe;
        for (var i = 2; names.Contains(n); i++) n = $"{recipe}-{i}";
        await Task.CompletedTask;
        return n;
    }

    private async Task OnRecipe(string value)
    {
        var oldDefault = name == recipe || name.StartsWith(recipe + "-", StringComparison.Ordinal);
        recipe = value;
        parameters.Clear();
        if (oldDefault && initialized)
        {
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            name = await FreeNameAsync(scope.ServiceProvider.GetRequiredService<ModelService>(), value);
        }
        if (Recipe?.NeedsLabel != true) { labelField = null; labelPositive = null; }
        await LoadStatsAsync();
    }

    private async Task OnSourceAsync(string? value)
    {
        sourceId = value;
        source = value is null or SnapshotValue ? null : datasets.FirstOrDefault(d => d.Id == value);
        labelField = null;
        labelPositive = null;
        excluded.Clear();
        stats = null;
        if (source is not null)
        {
            // A column named like a usual label is a good first guess.
            labelField = source.Schema.Fields.Select(f => f.Path).FirstOrDefault(p => p is "y" or "label" or "churn" or "Churn" or "converted" or "target");
        }
        await LoadStatsAsync();
    }

    private async Task OnLabelAsync(string? value)
    {
        labelField = value;
        labelPositive = null;
        await LoadStatsAsync();
    }

    private async Task LoadStatsAsync()
    {
        if (source is null) return;
        var version = ++statsVersion;
        loadingStats = true;
        StateHasChanged();
        try
        {
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            var target = Recipe?.NeedsLabel == true ? labelField : null;
            var result = await scope.ServiceProvider.GetRequiredService<ModelService>().StatisticsAsync(source.Id, target, null);
            if (version != statsVersion) return;
            stats = result;
            if (target is not null && labelPositive is null) labelPositive = GuessPositive(result.TargetPositive, LabelValues);
            error = null;
        }
        catch (CatalogException e) { error = e.Message; }
        finally { if (version == statsVersion) loadingStats = false; }
    }

    /// <summary>
    /// The value of the label column to count as positive: the statistics' choice when it is one of the column's values, else a usual
    /// positive word (yes, true, 1, y), else the rarer value. The statistics may name the positive as <c>true</c> for a yes/no column.
    /// </summary>
    public static string? GuessPositive(string? statsPositive, IReadOnlyList<string> values)
    {
        if (values.Count == 0) return statsPositive;
        var match = values.FirstOrDefault(v => string.Equals(v, statsPositive, StringComparison.OrdinalIgnoreCase));
        if (match is not null) return match;
        foreach (var word in new[] { "yes", "true", "1", "y" })
            if (values.FirstOrDefault(v => string.Equals(v, word, StringComparison.OrdinalIgnoreCase)) is { } w) return w;
        return values[^1];
    }

    private IEnumerable<SchemaField> FeatureCandidates =>
        source is null ? [] : source.Schema.Fields.Where(f => f.Identity is null && f.Path != labelField && f.Type is not (FieldType.Map or FieldType.Array));

    private IReadOnlyList<string> LabelValues =>
        stats?.Columns.FirstOrDefault(c => c.Name == labelField)?.TopValues.Where(v => v.Value is not null).Select(v => v.Value!).ToList() ?? [];

    private string PositiveHelp => stats?.Columns.FirstOrDefault(c => c.Name == labelField) is { } col
        ? string.Join(", ", col.TopValues.Take(4).Select(v => $"{v.Value ?? "(missing)"}: {Format.Count(v.Count)}"))
        : "";

    /// <summary>Columns flagged <c>possible-leak</c> for the chosen label.</summary>
    private IEnumerable<ColumnStats> Leaks => stats?.Target is null || stats.Target != labelField ? []
        : stats.Columns.Where(c => c.Name != labelField && c.Warnings.Contains(ColumnWarnings.PossibleLeak));

    private IReadOnlyList<string> WarningsOf(string column) =>
        stats?.Columns.FirstOrDefault(c => c.Name == column)?.Warnings.Where(w => w is ColumnWarnings.PossibleLeak or ColumnWarnings.IdLike or ColumnWarnings.Constant or ColumnWarnings.HighMissing).ToList() ?? [];

    private void Exclude(string column) => excluded.Add(column);

    private void Toggle(string column, bool use)
    {
        if (use) excluded.Remove(column); else excluded.Add(column);
    }

    private string? Param(string key) => parameters.GetValueOrDefault(key);
    private void SetParam(string key, string? value) => parameters[key] = string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private string? Blocker =>
        Recipe is null ? "Choose a recipe."
        : string.IsNullOrWhiteSpace(name) ? "Give the model a name."
        : Recipe.UsesSource && sourceId is null ? "Choose the training data."
        : IsCustom && sourceId is null ? "Choose the data whose fields the model's inputs read."
        : Recipe.NeedsLabel && source is not null && labelField is null && Param("eventDatasetId") is null ? "Choose the label column."
        : Recipe.Parameters.FirstOrDefault(p => p.Required && Param(p.Name) is null) is { } missing ? $"Fill in {missing.Label}."
        : loadingStats ? "Reading the data…"
        : null;

    private JsonObject ParametersJson()
    {
        var json = new JsonObject();
        foreach (var p in Recipe?.Parameters ?? [])
        {
            if (Param(p.Name) is not { } v) continue;
            json[p.Name] = p.Kind is "int" or "number" && double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d)
                ? (p.Kind == "int" && d == Math.Floor(d) ? JsonValue.Create((long)d) : JsonValue.Create(d))
                : JsonValue.Create(v);
        }
        return json;
    }

    private async Task CreateAndTrainAsync()
    {
        busy = true;
        error = null;
        try
        {
            var actor = AuthState is null ? "ui" : (await AuthState).User.Actor();
            await using var scope = Scopes.CreateSandboxScope(Sandbox.SandboxId);
            var service = scope.ServiceProvider.GetRequiredService<ModelService>();
            var model = await service.CreateAsync(new ModelDefinition
            {
                Name = name, Recipe = recipe,
                SourceDatasetId = sourceId is SnapshotValue ? null : sourceId, SourceSnapshot = sourceId is SnapshotValue,
                Label = Recipe!.NeedsLabel && labelField is not null ? new LabelSpec(labelField, labelPositive) : null,
                ExcludeFeatures = excluded.Where(e => source?.Schema.Find(e) is not null).OrderBy(e => e, StringComparer.Ordinal).ToList(),
                Parameters = ParametersJson(),
            }, actor);
            if (RecipeCatalog.IsUploaded(model.Recipe))
            {
                // Custom models get their versions by upload, on the model's page.
                await OnStarted.InvokeAsync(new ModelTrainingStarted(model.Id, ""));
                return;
            }
            TrainingRun run;
            try { run = await service.TrainAsync(model.Id, actor); }
            catch (CatalogException e)
            {
                error = $"The model '{model.Name}' was created, but its training could not start: {e.Message}";
                return;
            }
            await OnStarted.InvokeAsync(new ModelTrainingStarted(model.Id, run.Id));
        }
        catch (CatalogException e) { error = e.Message; }
        finally { busy = false; }
    }
}
