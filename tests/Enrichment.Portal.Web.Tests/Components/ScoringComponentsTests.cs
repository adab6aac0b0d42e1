using System.Text.Json.Nodes;
using Bunit;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Insights;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Scoring;
using Enrichment.Portal.Web.Components.Insights;
using Enrichment.Portal.Web.Components.Scoring;
using MudBlazor;

namespace Enrichment.Portal.Web.Tests.Components;

/// <summary>Insight cards, the scoring section's parts (runs, distribution, drift, schedule) and the BYO mapping form.</summary>
public sealed class ScoringComponentsTests : PortalTestContext
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private static JsonObject Insights() => JsonNode.Parse("""
        {
          "churn":   { "score": 0.82, "modelVersion": "v-churn-3", "scoredAt": "2026-03-01T10:00:00Z" },
          "clv":     { "value": 412.5, "modelVersion": "external", "scoredAt": "2026-03-01T11:00:00Z" },
          "rfm":     { "segment": 2, "modelVersion": "v-seg-1", "scoredAt": "2026-03-01T12:00:00Z" },
          "engaged": { "engagement": 73, "modelVersion": "v-eng", "scoredAt": "2026-03-01T12:00:00Z" },
          "likes":   { "top": ["shoes", "bags"], "modelVersion": "v-aff", "scoredAt": "2026-03-01T12:00:00Z", "basket": "big" }
        }
        """)!.AsObject();

    [Fact]
    public void Insight_cards_show_the_main_figure_per_kind_and_link_versions_of_this_sandbox_to_their_model()
    {
        var links = new Dictionary<string, InsightModelLink>
        {
            ["v-churn-3"] = new("m-churn", "churn", 3, "churn", new Dictionary<string, string>()),
            ["v-seg-1"] = new("m-rfm", "rfm", 1, "segmentation", new Dictionary<string, string> { ["2"] = "frequent, low spend" }),
        };
        var cut = Render<InsightCards>(p => p.Add(x => x.Insights, Insights()).Add(x => x.Links, links));

        var cards = cut.FindAll("[data-testid=insight-card]");
        Assert.Equal(["churn", "clv", "engaged", "likes", "rfm"], cards.Select(c => c.GetAttribute("data-name")).ToArray());
        var churn = cut.Find("[data-testid=insight-card][data-name=churn]");
        Assert.Equal("82.0 %", churn.QuerySelector("[data-testid=insight-score-value]")!.TextContent.Trim());
        Assert.NotNull(churn.QuerySelector("[data-testid=insight-score] .mud-progress-linear"));
        var link = churn.QuerySelector("[data-testid=insight-model-link]")!;
        Assert.Equal("/models/m-churn", link.GetAttribute("href"));
        Assert.Contains("churn v3", link.TextContent);

        var clv = cut.Find("[data-testid=insight-card][data-name=clv]");
        Assert.Equal("412.50", clv.QuerySelector("[data-testid=insight-value]")!.TextContent.Trim());
        Assert.Null(clv.QuerySelector("[data-testid=insight-model-link]"));
        Assert.Contains("external", clv.QuerySelector("[data-testid=insight-version]")!.TextContent);
        Assert.Contains("2026-03-01", clv.QuerySelector("[data-testid=insight-scored-at]")!.TextContent);

        var rfm = cut.Find("[data-testid=insight-card][data-name=rfm]");
        Assert.Contains("Segment 2", rfm.QuerySelector("[data-testid=insight-segment-value]")!.TextContent);
        Assert.Equal("frequent, low spend", rfm.QuerySelector("[data-testid=insight-segment-description]")!.TextContent.Trim());

        Assert.Equal("73 / 100", cut.Find("[data-testid=insight-card][data-name=engaged] [data-testid=insight-engagement-value]").TextContent.Trim());
        var likes = cut.Find("[data-testid=insight-card][data-name=likes]");
        Assert.Equal(["1. shoes", "2. bags"], likes.QuerySelectorAll("[data-testid=insight-top-item]").Select(e => e.TextContent.Trim()).ToArray());
        Assert.Contains("basket", likes.QuerySelector("[data-testid=insight-other]")!.TextContent);
    }

    [Fact]
    public void Insight_cards_say_what_to_do_when_there_is_none() =>
        Assert.Contains("No model results", Render<InsightCards>(p => p.Add(x => x.Insights, new JsonObject())).Find("[data-testid=insight-cards-empty]").TextContent);

    private static ScoringRunView Run(string id, string status, DateTimeOffset at, long rows, double? psi, ScoreDistribution? dist = null, string trigger = "manual") =>
        new(id, "m1", "v1", new ScoringTargetView(null, true), status, status == ScoringStatus.Succeeded ? 1 : 0.4, status == ScoringStatus.Running ? "scoring" : "done",
            rows, "out-ds", "b-" + id, rows - 1, dist, psi, psi > ScoringService.DriftThreshold, trigger, false, null, null, [], null,
            status == ScoringStatus.Failed ? "boom" : null, "jane", at, at, ScoringStatus.IsFinal(status) ? at.AddSeconds(12) : null);

    private static readonly ScoreDistribution Training = new([0.1, 0.2, 0.5], [0.25, 0.25, 0.25, 0.25]);

    [Fact]
    public void Scoring_runs_table_lists_runs_with_rows_profiles_duration_output_and_drift()
    {
        var runs = new List<ScoringRunView>
        {
            Run("r3", ScoringStatus.Running, T0.AddHours(2), 500, null),
            Run("r2", ScoringStatus.Succeeded, T0.AddHours(1), 45_211, 0.31, trigger: "schedule"),
            Run("r1", ScoringStatus.Failed, T0, 0, null),
        };
        var cut = Render<ScoringRunsTable>(p => p.Add(x => x.Runs, runs).Add(x => x.DatasetNames, new Dictionary<string, string> { ["out-ds"] = "Scores: churn" }));
        var rows = cut.FindAll("[data-testid=scoring-run]");
        Assert.Equal(["running", "succeeded", "failed"], rows.Select(r => r.GetAttribute("data-status")).ToArray());
        Assert.Equal("45,211", rows[1].QuerySelector("[data-testid=scoring-run-rows]")!.TextContent.Trim());
        Assert.Equal("45,210", rows[1].QuerySelector("[data-testid=scoring-run-profiles]")!.TextContent.Trim());
        Assert.Contains("schedule", rows[1].TextContent);
        Assert.Contains("12", rows[1].TextContent); // 12 s
        Assert.Equal("/datasets/out-ds", rows[1].QuerySelector("[data-testid=scoring-run-output]")!.GetAttribute("href"));
        Assert.Contains("Scores: churn", rows[1].QuerySelector("[data-testid=scoring-run-output]")!.TextContent);
        Assert.Contains("0.310", rows[1].QuerySelector("[data-testid=scoring-run-psi]")!.TextContent);
        Assert.Contains("40 %", rows[0].TextContent);

        Assert.Contains("No scoring run yet", Render<ScoringRunsTable>(p => p.Add(x => x.Runs, [])).Find("[data-testid=scoring-runs-empty]").TextContent);
    }

    [Fact]
    public void Psi_chart_warns_above_0_2_and_says_stable_below()
    {
        var drifting = new List<ScoringRunView> { Run("r2", ScoringStatus.Succeeded, T0.AddDays(1), 10, 0.27), Run("r1", ScoringStatus.Succeeded, T0, 10, 0.02) };
        var cut = Render<PsiChart>(p => p.Add(x => x.Runs, drifting));
        Assert.Contains("PSI 0.270", cut.Find("[data-testid=scoring-drift-warning]").TextContent);
        Assert.NotEmpty(cut.Find("[data-testid=scoring-psi]").GetElementsByTagName("svg"));

        var stable = Render<PsiChart>(p => p.Add(x => x.Runs, [Run("r1", ScoringStatus.Succeeded, T0, 10, 0.05)]));
        Assert.Empty(stable.FindAll("[data-testid=scoring-drift-warning]"));
        Assert.Contains("0.050", stable.Find("[data-testid=scoring-psi-ok]").TextContent);
    }

    [Fact]
    public void Distribution_chart_puts_the_latest_run_next_to_training_with_readable_bins()
    {
        var latest = new ScoreDistribution(Training.Edges, [0.1, 0.2, 0.3, 0.4]);
        var cut = Render<ScoreDistributionChart>(p => p.Add(x => x.Training, Training).Add(x => x.Latest, latest).Add(x => x.Recipe, "churn"));
        var svg = cut.Find("[data-testid=scoring-distribution] svg");
        Assert.Contains("Training", cut.Markup);
        Assert.Contains("Latest run", cut.Markup);
        Assert.NotNull(svg);
        Assert.Equal(["≤ 0.10", "0.10–0.20", "0.20–0.50", "> 0.50"], ScoreDistributionChart.BinLabels(Training.Edges, "churn").ToArray());
        Assert.Equal(["segment 0", "segment 1"], ScoreDistributionChart.BinLabels([0.5], "segmentation").ToArray());
    }

    [Fact]
    public async Task Schedule_editor_describes_the_cron_previews_the_next_runs_and_saves()
    {
        (string Cron, bool Retrain)? saved = null;
        var cut = Render<ScheduleEditor>(p => p.Add(x => x.Schedule, new ModelScheduleView(null, false, null)).Add(x => x.Now, T0)
            .Add(x => x.OnSave, v => saved = v));
        Assert.True(cut.Find("[data-testid=schedule-save]").HasAttribute("disabled"));
        Assert.Contains("No schedule saved", cut.Find("[data-testid=schedule-current]").TextContent);

        cut.Find("[data-testid=schedule-cron]").Input("0 3 * * *");
        Assert.Equal("Scores every day at 03:00 UTC.", cut.Find("[data-testid=schedule-description]").TextContent.Trim());
        var next = cut.Find("[data-testid=schedule-next]").TextContent;
        Assert.Contains("2026-03-03 03:00", next);
        Assert.Contains("2026-03-07 03:00", next);

        cut.Find("[data-testid=schedule-cron]").Input("61 * * * *");
        Assert.NotEmpty(cut.FindAll(".mud-input-error"));
        Assert.True(cut.Find("[data-testid=schedule-save]").HasAttribute("disabled"));

        await cut.InvokeAsync(() => cut.Find("[data-testid='schedule-preset-0_6_*_*_1']").Click());
        cut.Find("[data-testid=schedule-retrain]").Change(true);
        Assert.Contains("every Monday at 06:00 UTC", cut.Find("[data-testid=schedule-description]").TextContent);
        await cut.InvokeAsync(() => cut.Find("[data-testid=schedule-save]").Click());
        Assert.Equal(("0 6 * * 1", true), saved);
    }

    [Theory]
    [InlineData("*/15 * * * *", "every 15 minutes")]
    [InlineData("5 * * * *", "every hour at minute 5")]
    [InlineData("30 6 * * 1-5", "every weekday at 06:30 UTC")]
    [InlineData("0 4 1 * *", "on day 1 of every month at 04:00 UTC")]
    [InlineData("0 0 3 * * *", "every day at 03:00 UTC")]
    [InlineData("0 4 1 1,7 *", "on a custom schedule (UTC)")]
    [InlineData("nope", null)]
    public void Cron_expressions_read_as_sentences(string cron, string? expected) => Assert.Equal(expected, CronText.Describe(cron));

    private static readonly IReadOnlyList<NamespaceInfo> Namespaces =
        [new("CRMID", "CRM id", IdentityType.CrossDevice, NormalizerKind.Id, true), new("Email", "Email", IdentityType.Person, NormalizerKind.Email, true)];

    private static InsightImportPreview Preview(string fileName = "churn scores.csv")
    {
        IReadOnlyList<string> columns = ["customer_id", "churn_probability", "segment", "scored_at"];
        IReadOnlyList<IReadOnlyList<string?>> rows =
        [
            ["C-1", "0.82", "At risk", "2026-01-05"], ["C-2", "abc", "Loyal", "2026-01-05"], ["C-3", "0.1", "Loyal", "2026-01-05"],
            ["C-4", "0.4", "Loyal", "2026-01-05"], ["C-5", "0.5", "Loyal", "2026-01-05"],
        ];
        return new InsightImportPreview(columns, rows, InsightImportService.Suggest(columns, rows, fileName), null);
    }

    [Fact]
    public async Task Byo_mapping_starts_from_the_suggestion_previews_rows_and_submits_a_valid_request()
    {
        InsightImportRequest? submitted = null;
        var cut = Render<ScoreImportMapping>(p => p.Add(x => x.Preview, Preview()).Add(x => x.Namespaces, Namespaces).Add(x => x.OnSubmit, r => submitted = r));

        Assert.Equal("churn scores", cut.Find("input[data-testid=byo-name], [data-testid=byo-name] input").GetAttribute("value"));
        Assert.Empty(cut.FindAll("[data-testid=byo-blocked]"));
        // The preview shows row 1 as it will land and row 2 as rejected (not a number) before anything is uploaded.
        var previewRows = cut.FindAll("[data-testid=byo-preview-row]");
        Assert.True(previewRows[0].TextContent.Contains("\"score\":0.82"), previewRows[0].TextContent);
        Assert.Contains("\"segment\":\"At risk\"", previewRows[0].TextContent);
        Assert.Contains("'abc' is not a number", previewRows[1].QuerySelector("[data-testid=byo-preview-reject]")!.TextContent);

        await cut.InvokeAsync(() => cut.Find("[data-testid=byo-import]").Click());
        Assert.NotNull(submitted);
        Assert.Equal("churn scores", submitted!.Name);
        Assert.Equal(new InsightImportIdentity("customer_id", "CRMID"), submitted.Identity);
        Assert.Equal("score", submitted.Fields!["churn_probability"]);
        Assert.Equal("segment", submitted.Fields["segment"]);
        Assert.Equal("scored_at", submitted.ScoredAtColumn);
    }

    [Fact]
    public async Task Byo_mapping_blocks_bad_names_model_names_and_files_without_score_columns()
    {
        var submitted = 0;
        var cut = Render<ScoreImportMapping>(p => p.Add(x => x.Preview, Preview()).Add(x => x.Namespaces, Namespaces)
            .Add(x => x.ModelNames, ["churn"]).Add(x => x.OnSubmit, _ => submitted++));
        var name = cut.Find("input[data-testid=byo-name], [data-testid=byo-name] input");

        name.Input("churn/v2");
        Assert.Contains("letters, digits, spaces", cut.Find("[data-testid=byo-blocked]").TextContent);
        Assert.True(cut.Find("[data-testid=byo-import]").HasAttribute("disabled"));

        cut.Find("input[data-testid=byo-name], [data-testid=byo-name] input").Input("Churn");
        Assert.Contains("The model 'Churn' writes insights.Churn", cut.Find("[data-testid=byo-blocked]").TextContent);

        cut.Find("input[data-testid=byo-name], [data-testid=byo-name] input").Input("churn outside");
        Assert.Empty(cut.FindAll("[data-testid=byo-blocked]"));
        Assert.False(cut.Find("[data-testid=byo-import]").HasAttribute("disabled"));

        // A file with only an identity column: nothing to import, the form says so.
        IReadOnlyList<string> cols = ["email"];
        var only = new InsightImportPreview(cols, [["a@x.com"]], InsightImportService.Suggest(cols, [["a@x.com"]]), null);
        cut.Render(p => p.Add(x => x.Preview, only));
        Assert.Contains("Map at least one column", cut.Find("[data-testid=byo-fields-error]").TextContent);
        await cut.InvokeAsync(() => cut.Find("[data-testid=byo-import]").Click());
        Assert.Equal(0, submitted);
    }
}
