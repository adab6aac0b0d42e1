using Bunit;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Guardrails;
using Enrichment.Portal.Web.Components.Guardrails;

namespace Enrichment.Portal.Web.Tests.Components;

/// <summary>The Guardrails &amp; latency panel: guardrails with their status and usage, latency figures, batches in flight and the timeline.</summary>
public sealed class GuardrailsPanelTests : PortalTestContext
{
    private static readonly DateTimeOffset Now = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static GuardrailItem Item(string key, long limit, long current, string unit = "datasets", string enforcement = "soft", string? offender = null)
    {
        var d = GuardrailCatalog.Get(key);
        return new GuardrailItem(key, d.Name, limit, current, unit, GuardrailStatus.Of(current, limit), enforcement, d.Description, d.Where, offender, null, null, d.Source);
    }

    [Fact]
    public void Guardrails_table_shows_each_status_chip_and_usage_for_people()
    {
        var items = new[]
        {
            Item(GuardrailCatalog.ProfileDatasets, 20, 3),
            Item(GuardrailCatalog.EventsPerProfile, 5000, 4200, "events", offender: "profile p-17841"),
            Item(GuardrailCatalog.ProfileRecordSize, 102_400, 150_000, "bytes", "hard"),
        };
        var cut = Render<GuardrailsTable>(p => p.Add(x => x.Items, items));

        Assert.Equal("ok", cut.Find("[data-testid=guardrail-status-profile-datasets]").TextContent.Trim());
        Assert.Equal("warning", cut.Find("[data-testid=guardrail-status-events-per-profile]").TextContent.Trim());
        Assert.Equal("exceeded", cut.Find("[data-testid=guardrail-status-profile-record-size]").TextContent.Trim());
        Assert.Equal("4,200 of 5,000 events", cut.Find("[data-testid=guardrail-usage-events-per-profile]").TextContent.Trim());
        Assert.Equal("146.5 KB of 100.0 KB", cut.Find("[data-testid=guardrail-usage-profile-record-size]").TextContent.Trim());
        Assert.Contains("profile p-17841", cut.Markup);
        Assert.Contains("hard: rejects", cut.Markup);
        Assert.Contains("soft: warns", cut.Markup);
        Assert.Equal(3, cut.FindAll("[role=progressbar]").Count);
    }

    private static LatencyStage Stage(string name, double fromMs, double? toMs, string status = "success") =>
        new(name, status, Now.AddMilliseconds(fromMs), toMs is { } t ? Now.AddMilliseconds(t) : null, toMs - fromMs, null);

    [Fact]
    public void Latency_panel_renders_the_percentiles_streaming_batches_in_flight_and_the_timeline()
    {
        var stages = LatencyService.StageNames.ToDictionary(n => n, n => new StagePercentiles(4, n == "validate" ? 1500 : 120, n == "validate" ? 2500 : 300));
        var summary = new LatencySummary(24, Now.AddDays(-1), 4, 3200, 5100, stages, new StreamingLatency(12, 40, 640, 980), 1, Percentiles.Method);
        var done = new LatencyBatch("b1", "d1", "Superstore", false, BatchSource.Upload, BatchStatus.Success, "superstore.csv.gz", Now.AddSeconds(-10), Now.AddSeconds(-6),
            null, 4000, 9994, 9994,
            [Stage("upload", -10_000, -9_800), Stage("validate", -9_700, -8_000), Stage("lake", -8_000, -7_500), Stage("identity", -7_500, -6_800), Stage("profile", -6_800, -6_000)], []);
        var scoring = new LatencyBatch("b2", "d2", "churn scores", true, BatchSource.System, BatchStatus.Success, null, Now.AddSeconds(-30), Now.AddSeconds(-29),
            null, 900, 100, 100, [Stage("lake", -30_000, -29_500), Stage("identity", -29_500, -29_300), Stage("profile", -29_300, -29_100)], []);
        var flying = new LatencyBatch("b3", "d3", "Online Retail", false, BatchSource.Upload, BatchStatus.Processing, "online_retail.csv.gz", Now.AddSeconds(-3), null,
            "validate", null, 120_000, 0, [Stage("upload", -3_000, -2_500), Stage("validate", -2_400, null, "processing")], []);
        var batches = new LatencyBatches(24, [flying, done, scoring], 1);

        var cut = Render<LatencyPanel>(p => p.Add(x => x.Summary, summary).Add(x => x.Batches, batches).Add(x => x.Hours, 24).Add(x => x.Now, Now));

        Assert.Equal("3.2 s", cut.Find("[data-testid=latency-p50]").TextContent.Trim());
        Assert.Equal("5.1 s", cut.Find("[data-testid=latency-p95]").TextContent.Trim());
        Assert.Equal("1.5 s", cut.Find("[data-testid=latency-stage-validate-p50]").TextContent.Trim());
        Assert.Equal("300 ms", cut.Find("[data-testid=latency-stage-profile-p95]").TextContent.Trim());
        Assert.Equal("640 ms", cut.Find("[data-testid=latency-streaming-p50]").TextContent.Trim());
        Assert.Equal("980 ms", cut.Find("[data-testid=latency-streaming-p95]").TextContent.Trim());
        Assert.Equal("1", cut.Find("[data-testid=latency-in-flight-count]").TextContent.Trim());
        Assert.Equal("validate", cut.Find("[data-testid=latency-in-flight-item]").GetAttribute("data-stage"));

        var rows = cut.FindAll("[data-testid=latency-row]");
        Assert.Equal(3, rows.Count);
        Assert.Equal("validate", rows[0].GetAttribute("data-stage"));
        Assert.Equal("done", rows[1].GetAttribute("data-stage"));
        Assert.Equal(5, rows[1].QuerySelectorAll("[data-testid=latency-stage-bar]").Length);
        Assert.Contains("churn scores (system)", rows[2].TextContent);
        Assert.Equal("processing", rows[0].QuerySelectorAll("[data-testid=latency-stage-bar]")[1].GetAttribute("data-stage-status"));
        Assert.Contains("4.0 s", rows[1].TextContent);
    }

    [Fact]
    public void Latency_panel_without_batches_says_how_to_get_some_and_the_window_buttons_change_the_hours()
    {
        double? chosen = null;
        var cut = Render<LatencyPanel>(p => p.Add(x => x.Summary, LatencyService.Summarize(24, Now, [], [], 0))
            .Add(x => x.Batches, new LatencyBatches(24, [], 0)).Add(x => x.Hours, 24).Add(x => x.HoursChanged, h => chosen = h));
        Assert.Contains("Upload a file", cut.Find("[data-testid=latency-timeline-empty]").TextContent);
        Assert.Equal("—", cut.Find("[data-testid=latency-p50]").TextContent.Trim());
        cut.Find("[data-testid=latency-window-168]").Click();
        Assert.Equal(168, chosen);
    }
}
