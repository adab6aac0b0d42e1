using Microsoft.AspNetCore.Components;

namespace Enrichment.Portal.Web.Components.Pages.Wizard;

/// <summary>What a step knows about the path so far (from the URL, so the wizard can be left and resumed) and how it moves on.</summary>
public sealed record WizardContext(int Step, string? SchemaId, string? DatasetId, Func<int, string?, string?, Task> GoToAsync)
{
    /// <summary>The model of steps 5-7 (query <c>model</c>), kept when moving between steps.</summary>
    public string? ModelId { get; init; }
    /// <summary>Moves to a step with a model (steps 6 and 7).</summary>
    public Func<int, string?, Task>? GoToModelAsync { get; init; }
}

/// <summary>One step of the guided path: its number, title, and the component that renders it.</summary>
public sealed record WizardStepInfo(int Number, string Title, Type Component);

/// <summary>Base of step components: the wizard passes <see cref="Context"/>.</summary>
public abstract class WizardStepBase : ComponentBase
{
    [Parameter, EditorRequired] public WizardContext Context { get; set; } = default!;
}

/// <summary>
/// The guided path (UX.md). Adding a step is adding a component deriving from <see cref="WizardStepBase"/> and one line here;
/// steps that do not exist yet are shown as coming in the header.
/// </summary>
public static class WizardSteps
{
    public static readonly IReadOnlyList<WizardStepInfo> All =
    [
        new(1, "Schema with identities", typeof(SchemaStep)),
        new(2, "Dataset", typeof(DatasetStep)),
        new(3, "Ingest data", typeof(IngestStep)),
        new(4, "Profiles stitch", typeof(ProfileStep)),
        new(5, "Train a model", typeof(TrainStep)),
        new(6, "Score it", typeof(ScoreStep)),
        new(7, "Insights on profiles", typeof(InsightsStep)),
    ];

    /// <summary>The whole path, for the header; steps without a component yet are "coming".</summary>
    public static readonly IReadOnlyList<string> Titles =
        ["Schema with identities", "Dataset", "Ingest data", "Profiles stitch", "Train a model", "Score it", "Insights on profiles"];
}
