using Enrichment.Portal.Core.Audiences;

namespace Enrichment.Portal.Core.Tests.Audiences;

/// <summary>Which audiences the daily re-evaluation picks: relative event windows, and audiences built on them, in dependency order.</summary>
public sealed class AudienceTimeWindowTests
{
    [Fact]
    public void Audiences_with_relative_windows_and_those_built_on_them_are_re_evaluated_dependencies_first()
    {
        var rules = new[]
        {
            ("z-recent", """{ "event": { "eventType": "purchase", "withinDays": 30 }, "op": "exists" }"""),
            ("a-nested", """{ "all": [ { "attribute": "age", "op": "gt", "value": 30 }, { "not": { "any": [ { "event": { "eventType": "visit", "withinDays": 7 }, "op": "none" } ] } } ] }"""),
            ("b-fixed", """{ "event": { "eventType": "purchase", "from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z" }, "op": "exists" }"""),
            ("c-attr", """{ "attribute": "age", "op": "gt", "value": 30 }"""),
            ("d-uses-recent", """{ "all": [ { "audience": "z-recent" }, { "attribute": "age", "op": "lt", "value": 60 } ] }"""),
            ("e-uses-d", """{ "not": { "audience": "d-uses-recent" } }"""),
            ("f-uses-fixed", """{ "audience": "b-fixed" }"""),
            ("g-broken", "{ not json"),
        };
        var picked = AudienceTimeWindows.Relative(rules);
        Assert.Equal(["a-nested", "d-uses-recent", "e-uses-d", "z-recent"], picked.Order(StringComparer.Ordinal));
        Assert.True(picked.ToList().IndexOf("z-recent") < picked.ToList().IndexOf("d-uses-recent"));
        Assert.True(picked.ToList().IndexOf("d-uses-recent") < picked.ToList().IndexOf("e-uses-d"));
    }
}
