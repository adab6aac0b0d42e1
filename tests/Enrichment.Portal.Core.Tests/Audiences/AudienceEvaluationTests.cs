using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Audiences;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Tests.Profiles;
using Microsoft.EntityFrameworkCore;

namespace Enrichment.Portal.Core.Tests.Audiences;

/// <summary>Full and incremental evaluation write entered / exited changes, current members and size points; both agree with a fresh full evaluation.</summary>
public sealed class AudienceEvaluationTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Sandbox = "sbx-eval";

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Incremental_evaluation_of_changed_profiles_equals_a_full_evaluation(string provider)
    {
        await using var catalog = await TestCatalog.CreateAsync(provider, Sandbox);
        await using var db = catalog.Open();
        for (var i = 0; i < 120; i++)
            db.Add(new Profile { Id = $"p{i:D4}", SandboxId = Sandbox, CreatedAt = Now, UpdatedAt = Now, Attributes = new JsonObject { ["tenure"] = i, ["tier"] = i % 2 == 0 ? "gold" : "silver" }.ToJsonString() });
        var audience = new Audience { SandboxId = Sandbox, Name = "gold 50+", Status = AudienceStatus.Ready,
            RuleJson = """{"all":[{"attribute":"tier","op":"eq","value":"gold"},{"attribute":"tenure","op":"gte","value":50}]}""" };
        db.Add(audience);
        await db.SaveChangesAsync(Ct);
        var clock = new FixedClock(Now);
        var evaluator = new TestEvaluator(db, clock);

        var full = await evaluator.Inner.EvaluateFullAsync(audience, null, Ct);
        Assert.Equal(35, full.Size); // even ages 50..118
        Assert.Equal(35, full.Entered);

        // p0050 turns silver (exits), p0049 turns gold (enters), p0100 is merged away (its profile row disappears: exits).
        await db.Database.ExecuteSqlRawAsync("UPDATE profiles SET attributes={0} WHERE id='p0050'", [new JsonObject { ["tenure"] = 50, ["tier"] = "silver" }.ToJsonString()], Ct);
        await db.Database.ExecuteSqlRawAsync("UPDATE profiles SET attributes={0} WHERE id='p0049'", [new JsonObject { ["tenure"] = 50.5, ["tier"] = "gold" }.ToJsonString()], Ct);
        await db.Database.ExecuteSqlRawAsync("DELETE FROM profiles WHERE id='p0100'", Ct);
        db.Add(new ProfileAlias { AliasId = "p0100", SandboxId = Sandbox, ProfileId = "p0101", MergedAt = Now });
        await db.SaveChangesAsync(Ct);
        clock.Now = Now.AddMinutes(5);
        var inc = await evaluator.Inner.EvaluateProfilesAsync(["p0050", "p0049", "p0101"], "batch", Ct);
        Assert.Equal(1, inc.Entered);
        Assert.Equal(2, inc.Exited);

        var members = await db.Set<AudienceMember>().Where(m => m.AudienceId == audience.Id).Select(m => m.ProfileId).OrderBy(x => x).ToListAsync(Ct);
        Assert.Equal(34, members.Count);
        Assert.Contains("p0049", members);
        Assert.DoesNotContain("p0050", members);
        Assert.DoesNotContain("p0100", members);
        var since = await db.Set<AudienceMember>().Where(m => m.ProfileId == "p0049").Select(m => m.Since).SingleAsync(Ct);
        Assert.Equal(Now.AddMinutes(5), since);

        // A fresh full evaluation finds nothing more to change; the history holds both points.
        var again = await evaluator.Inner.EvaluateFullAsync((await db.Set<Audience>().AsNoTracking().SingleAsync(Ct)), null, Ct);
        Assert.Equal(0, again.Entered + again.Exited);
        var changes = await db.Set<AudienceChange>().CountAsync(Ct);
        Assert.Equal(35 + 3, changes);
        var sizes = await db.Set<AudienceSizePoint>().OrderBy(p => p.Id).Select(p => p.Size).ToListAsync(Ct);
        Assert.Equal([35L, 34L, 34L], sizes);
    }

    private sealed class TestEvaluator(Enrichment.Portal.Core.Catalog.CatalogDb db, TimeProvider clock)
    {
        public AudienceEvaluator Inner { get; } = new(db, new AudienceLocks(), clock) { FixedCatalog = RuleTranslationTests.Catalog() };
    }
}
