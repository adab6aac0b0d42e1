using System.Globalization;
using System.Text.Json;
using Enrichment.Portal.Core.Exploration;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace Enrichment.Portal.Web.Components.Exploration;

public partial class ColumnCard
{
    public const string LeakExplanation = "This column alone predicts the target: is it known before the outcome? If it is only known afterwards (like the duration of the call that sold), exclude it from the model.";

    [Parameter, EditorRequired] public ColumnReport Column { get; set; } = default!;
    [Parameter] public bool IsTarget { get; set; }

    private List<ChartSeries<double>> series = [];
    private string[] labels = [];
    private readonly ChartOptions options = new() { ShowLegend = false };

    private bool ShowHistogram => Column.Histogram.Count > 0;

    private string SignalKind => Column.TargetSignalKind == "auc" ? "AUC" : Column.TargetSignalKind ?? "";

    /// <summary>How far the signal is from "no signal": AUC 0.5..1 and correlation 0..1 both as 0..1.</summary>
    private double SignalShare => Column.TargetSignal is not { } v ? 0
        : Column.TargetSignalKind == "auc" ? Math.Clamp((v - 0.5) * 2, 0, 1) : Math.Clamp(v, 0, 1);

    private string TopValuesLine => string.Join(" · ", Column.TopValues.Take(5).Select(t => $"{t.Value ?? "(missing)"}: {Format.Count(t.Count)}"));

    protected override void OnParametersSet()
    {
        if (ShowHistogram)
        {
            var bins = Column.Histogram;
            var step = Math.Max(1, bins.Count / 5);
            labels = bins.Select((b, i) => i % step == 0 ? Short(b.From) : "").ToArray();
            series = [new ChartSeries<double> { Name = "rows", Data = bins.Select(b => (double)b.Count).ToArray() }];
        }
        else if (Column.TopValues.Count > 0)
        {
            var top = Column.TopValues.Take(10).ToList();
            labels = top.Select(t => Truncate(t.Value ?? "(missing)", 10)).ToArray();
            series = [new ChartSeries<double> { Name = "rows", Data = top.Select(t => (double)t.Count).ToArray() }];
        }
    }

    public static string WarningText(string warning) => warning switch
    {
        ColumnWarnings.PossibleLeak => LeakExplanation,
        ColumnWarnings.Constant => "At most one distinct value: it cannot help a model.",
        ColumnWarnings.IdLike => "Nearly every value is distinct: an identifier, not a feature.",
        ColumnWarnings.HighMissing => "More than half of the rows have no value.",
        ColumnWarnings.Outliers => "More extreme values than a normal distribution would have: check for errors or use a robust transform.",
        ColumnWarnings.RejectedRecords => "Records were rejected at ingestion because of this field.",
        ColumnWarnings.MissingColumn => "The schema declares this field but no file has it.",
        _ => warning,
    };

    private static Color WarningColor(string warning) => warning switch
    {
        ColumnWarnings.PossibleLeak => Color.Error,
        ColumnWarnings.RejectedRecords or ColumnWarnings.MissingColumn or ColumnWarnings.HighMissing => Color.Warning,
        _ => Color.Info,
    };

    private static string Number(double? v) => v is { } d ? Format.Number(d, Math.Abs(d) >= 1000 ? 0 : Math.Abs(d) >= 10 ? 1 : 3) : "—";

    private static string Value(JsonElement? v) => v switch
    {
        null => "—",
        { ValueKind: JsonValueKind.Number } e => Number(e.GetDouble()),
        { ValueKind: JsonValueKind.String } e => e.GetString() ?? "—",
        { ValueKind: JsonValueKind.Null } => "—",
        { } e => e.ToString(),
    };

    private static string Short(double v) => Math.Abs(v) switch
    {
        >= 1_000_000 => (v / 1_000_000).ToString("0.#", CultureInfo.InvariantCulture) + "M",
        >= 10_000 => (v / 1000).ToString("0.#", CultureInfo.InvariantCulture) + "k",
        >= 100 => v.ToString("0", CultureInfo.InvariantCulture),
        _ => v.ToString("0.##", CultureInfo.InvariantCulture),
    };

    private static string Truncate(string s, int max) => s.Length > max ? s[..(max - 1)] + "…" : s;
}
