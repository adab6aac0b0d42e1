using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Audiences;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Tests.Profiles;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Core.Tests.Audiences;

/// <summary>
/// Above <see cref="AudienceOptions.ExactEstimateBelow"/> profiles the rule builder's estimate counts the rule on a fixed sample
/// (profiles with portal-made ids, whose ends are random) and scales it: the true size lies within the stated margin, the sample
/// members really match, and a sandbox under the bound still gets the exact count.
/// </summary>
public sealed class AudienceSampledEstimateTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Sandbox = "sbx-sampled";
    private const int N = 30_000;

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_sampled_estimate_holds_the_true_size_within_its_margin(string provider)
    {
        await using var catalog = await TestCatalog.CreateAsync(provider, Sandbox);
        await using var db = catalog.Open();
        var rng = new Random(7);
        for (var i = 0; i < N; i++)
        {
            var score = Math.Round(rng.NextDouble(), 4);
            db.Add(new Profile { Id = Ids.New(), SandboxId = Sandbox, CreatedAt = Now, UpdatedAt = Now,
                Attributes = new JsonObject { ["tier"] = rng.Next(4) == 0 ? "gold" : "silver", ["insights.churn"] = new JsonObject { ["score"] = score } }.ToJsonString() });
        }
        await db.SaveChangesAsync(Ct);
        var clock = new FixedClock(Now);
        var sampled = new AudienceEvaluator(db, new AudienceLocks(), clock, Options.Create(new AudienceOptions { ExactEstimateBelow = 5_000, EstimateSample = 3_000 }))
            { FixedCatalog = RuleTranslationTests.Catalog() };
        var exact = new AudienceEvaluator(db, new AudienceLocks(), clock) { FixedCatalog = RuleTranslationTests.Catalog() };

        foreach (var json in new[]
                 {
                     """{"all":[{"attribute":"insights.churn.score","op":"gt","value":0.7},{"attribute":"tier","op":"eq","value":"gold"}]}""",
                     """{"attribute":"insights.churn.score","op":"lte","value":0.5}""",
                 })
        {
            var rule = await sampled.CompileAsync(json, null, Ct);
            var truth = await exact.MatchAsync(rule, Ct);
            var whole = await exact.EstimateAsync(rule, 5, Ct);
            Assert.True(whole.Exact);
            Assert.Equal(truth.Count, whole.Size);

            var e = await sampled.EstimateAsync(rule, 5, Ct);
            Assert.False(e.Exact);
            Assert.Equal(N, e.Total);
            Assert.InRange(e.Sampled, 2_000, 6_000); // 4 of 32 id endings: about 3,750
            Assert.True(e.Margin > 0 && e.Margin < truth.Count / 3, $"margin {e.Margin} for {truth.Count}");
            // 2.1 margins is about 4 standard errors: a sound estimate misses by that much once in 16,000 runs.
            Assert.True(Math.Abs(e.Size - truth.Count) <= 2.1 * e.Margin, $"estimate {e.Size} ± {e.Margin}, true {truth.Count}");
            Assert.Equal(5, e.Sample.Count);
            Assert.All(e.Sample, id => Assert.Contains(id, truth));
        }

        // Nothing in the sample: 0, with the "rule of three" bound as the margin.
        var none = await sampled.EstimateAsync(await sampled.CompileAsync("""{"attribute":"tier","op":"eq","value":"platinum"}""", null, Ct), 5, Ct);
        Assert.Equal(0, none.Size);
        Assert.False(none.Exact);
        Assert.InRange(none.Margin, 1, N / 100);
        Assert.Empty(none.Sample);
    }

    [Fact]
    public async Task Profiles_whose_ids_do_not_spread_get_an_exact_count()
    {
        await using var catalog = await TestCatalog.CreateAsync("sqlite", Sandbox);
        await using var db = catalog.Open();
        // Ids that all end in "z" (not made by the portal): no sample can be drawn from their endings.
        for (var i = 0; i < 2_000; i++)
            db.Add(new Profile { Id = $"p{i:D6}z", SandboxId = Sandbox, CreatedAt = Now, UpdatedAt = Now, Attributes = new JsonObject { ["tier"] = i % 3 == 0 ? "gold" : "silver" }.ToJsonString() });
        await db.SaveChangesAsync(Ct);
        var ev = new AudienceEvaluator(db, new AudienceLocks(), new FixedClock(Now), Options.Create(new AudienceOptions { ExactEstimateBelow = 100, EstimateSample = 200 }))
            { FixedCatalog = RuleTranslationTests.Catalog() };
        var e = await ev.EstimateAsync(await ev.CompileAsync("""{"attribute":"tier","op":"eq","value":"gold"}""", null, Ct), 3, Ct);
        Assert.True(e.Exact);
        Assert.Equal(667, e.Size);
        Assert.Equal(0, e.Margin);
        Assert.Equal(await db.Set<Profile>().CountAsync(Ct), e.Total);
    }
}
