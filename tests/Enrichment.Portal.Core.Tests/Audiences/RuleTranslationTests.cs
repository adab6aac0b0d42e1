using System.Globalization;
using System.Text.Json.Nodes;
using Enrichment.Portal.Core.Audiences;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Core.Tests.Profiles;

namespace Enrichment.Portal.Core.Tests.Audiences;

internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;
    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>
/// The SQL translation of rules (<see cref="RuleSql"/>) against the in-memory definition (<see cref="InMemoryRuleEvaluator"/>):
/// randomized profiles (attributes of every kind, wrong-typed and missing values, insights, identities, events) and
/// randomized rules covering every operator and nesting of all / any / not, on SQLite and PostgreSQL.
/// </summary>
public sealed class RuleTranslationTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Sandbox = "sbx-rules";
    private const string OtherAudience = "aud-other-0000000000000000";

    internal static RuleCatalog Catalog()
    {
        var c = new RuleCatalog();
        c.AddSchema(new SchemaDefinition("crm", SchemaClass.Profile,
        [
            new SchemaField { Path = "crmId", Type = FieldType.String, Identity = new IdentityMapping("CRMID", true) },
            new SchemaField { Path = "tier", Type = FieldType.String },
            new SchemaField { Path = "person.name", Type = FieldType.String },
            new SchemaField { Path = "tenure", Type = FieldType.Number },
            new SchemaField { Path = "vip", Type = FieldType.Boolean },
            new SchemaField { Path = "birth", Type = FieldType.Date },
            new SchemaField { Path = "lastSeen", Type = FieldType.DateTime },
            new SchemaField { Path = "tags", Type = FieldType.Array, ItemType = FieldType.String },
            new SchemaField { Path = "prefs", Type = FieldType.Map, ValueType = FieldType.String },
            new SchemaField { Path = "insights", Type = FieldType.Map, ValueType = FieldType.Object },
        ]));
        c.AddSchema(new SchemaDefinition("events", SchemaClass.Event,
        [
            new SchemaField { Path = "crmId", Type = FieldType.String, Identity = new IdentityMapping("CRMID", true) },
            new SchemaField { Path = "timestamp", Type = FieldType.DateTime },
            new SchemaField { Path = "eventType", Type = FieldType.String },
            new SchemaField { Path = "amount", Type = FieldType.Number },
            new SchemaField { Path = "channel", Type = FieldType.String },
        ]));
        c.InsightModels.Add("churn");
        c.Namespaces.UnionWith(["Email", "CRMID", "Phone"]);
        c.Audiences[OtherAudience] = [];
        return c;
    }

    private static readonly string[] Tiers = ["gold", "silver", "bronze", "Gold", "", "gold plus"];
    private static readonly string[] Names = ["Ann", "Anna", "Bob", "Bobby", "Carla", "ann", "Zoe"];
    private static readonly string[] TagPool = ["a", "b", "c", "d"];

    private static List<MemProfile> Profiles(Random rng, int n)
    {
        var list = new List<MemProfile>();
        for (var i = 0; i < n; i++)
        {
            var a = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
            void Maybe(string key, Func<JsonNode?> value, int percent = 80) { if (rng.Next(100) < percent) a[key] = value(); }
            Maybe("tier", () => rng.Next(10) == 0 ? JsonValue.Create(5) : JsonValue.Create(Tiers[rng.Next(Tiers.Length)]));
            Maybe("person.name", () => JsonValue.Create(Names[rng.Next(Names.Length)]));
            Maybe("tenure", () => rng.Next(12) switch { 0 => JsonValue.Create("12"), 1 => null, 2 => JsonValue.Create(rng.Next(40) + 0.5), _ => JsonValue.Create(rng.Next(40)) });
            Maybe("vip", () => rng.Next(10) == 0 ? JsonValue.Create("yes") : JsonValue.Create(rng.Next(2) == 0));
            Maybe("birth", () => JsonValue.Create(new DateOnly(1960 + rng.Next(45), 1 + rng.Next(12), 1 + rng.Next(28)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
            Maybe("lastSeen", () => JsonValue.Create(Now.AddDays(-rng.Next(200)).AddSeconds(-rng.Next(86400)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)));
            Maybe("tags", () => new JsonArray(TagPool.Where(_ => rng.Next(3) == 0).Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()));
            Maybe("prefs.color", () => JsonValue.Create(rng.Next(2) == 0 ? "red" : "blue"), 50);
            Maybe("insights.churn", () =>
            {
                var o = new JsonObject { ["score"] = Math.Round(rng.NextDouble(), 3), ["segment"] = rng.Next(4), ["modelVersion"] = "v" + rng.Next(3) };
                if (rng.Next(2) == 0) o["top"] = new JsonArray(TagPool.Where(_ => rng.Next(2) == 0).Select(t => (JsonNode?)JsonValue.Create(t)).ToArray());
                if (rng.Next(8) == 0) o["score"] = "high";
                return o;
            }, 70);
            var ids = new List<(string, string)> { ("CRMID", $"c{i:D4}") };
            if (rng.Next(3) > 0) ids.Add(("Email", $"{Names[rng.Next(Names.Length)].ToLowerInvariant()}{i}@{(rng.Next(2) == 0 ? "x.com" : "y.org")}"));
            var events = new List<MemEvent>();
            for (var k = rng.Next(6); k > 0; k--)
            {
                var f = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
                if (rng.Next(5) > 0) f["amount"] = rng.Next(4) == 0 ? JsonValue.Create(rng.Next(100) + 0.25) : JsonValue.Create(rng.Next(100));
                if (rng.Next(4) > 0) f["channel"] = rng.Next(2) == 0 ? "web" : "store";
                events.Add(new MemEvent(rng.Next(3) == 0 ? "view" : "purchase", Now.AddDays(-rng.Next(120)).AddMinutes(-rng.Next(1440)), f));
            }
            var aud = new HashSet<string>(StringComparer.Ordinal);
            if (rng.Next(3) == 0) aud.Add(OtherAudience);
            list.Add(new MemProfile($"p{i:D5}", Reparse(a), ids, events.Select(e => e with { Fields = Reparse(e.Fields) }).ToList(), aud));
        }
        return list;
    }

    /// <summary>The values as the store gives them back (parsed from JSON text).</summary>
    private static Dictionary<string, JsonNode?> Reparse(Dictionary<string, JsonNode?> values)
    {
        var o = new JsonObject();
        foreach (var (k, v) in values) o[k] = v?.DeepClone();
        return JsonNode.Parse(o.ToJsonString())!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value?.DeepClone(), StringComparer.Ordinal);
    }

    private static JsonNode? V(object? o) => o switch { null => null, JsonNode n => n, _ => JsonValue.Create(o) };
    private static JsonArray L(params object[] items) => new(items.Select(V).ToArray());

    private static JsonObject Attr(string path, string op, JsonNode? value = null)
    {
        var o = new JsonObject { ["attribute"] = path, ["op"] = op };
        if (value is not null) o["value"] = value;
        return o;
    }

    /// <summary>A random valid leaf; every operator appears among them.</summary>
    private static JsonObject Leaf(Random rng)
    {
        string[] cmp = ["eq", "ne", "gt", "gte", "lt", "lte"];
        string C() => cmp[rng.Next(cmp.Length)];
        switch (rng.Next(22))
        {
            case 0: return Attr("tier", C(), V(Tiers[rng.Next(Tiers.Length)]));
            case 1: return Attr("tier", "in", L("gold", "silver", "Gold"));
            case 2: return Attr("person.name", rng.Next(2) == 0 ? "startsWith" : "contains", V(rng.Next(2) == 0 ? "Ann" : "ob"));
            case 3: return Attr("tenure", C(), V(rng.Next(40)));
            case 4: return Attr("tenure", "between", L(rng.Next(10), 10 + rng.Next(30)));
            case 5: return Attr("vip", rng.Next(2) == 0 ? "eq" : "ne", V(rng.Next(2) == 0));
            case 6: return Attr("birth", C(), V($"{1970 + rng.Next(30)}-0{1 + rng.Next(9)}-15"));
            case 7: return Attr("lastSeen", C(), V(Now.AddDays(-rng.Next(200)).ToString("o", CultureInfo.InvariantCulture)));
            case 8: return Attr("tags", "contains", V(TagPool[rng.Next(4)]));
            case 9: return Attr("tags", "in", L("a", "d"));
            case 10: return Attr(new[] { "tags", "tier", "tenure", "insights.churn", "prefs.color", "insights.churn.top" }[rng.Next(6)], rng.Next(2) == 0 ? "exists" : "isEmpty");
            case 11: return Attr("insights.churn.score", C(), V(Math.Round(rng.NextDouble(), 2)));
            case 12: return rng.Next(2) == 0 ? Attr("insights.churn.segment", "eq", V(rng.Next(4))) : Attr("insights.churn.segment", "in", L(1, 3));
            case 13: return Attr("insights.churn.top", "contains", V(TagPool[rng.Next(4)]));
            case 14: return Attr("prefs.color", "eq", V("red"));
            case 15:
                return new JsonObject { ["identity"] = rng.Next(2) == 0 ? "Email" : "Phone", ["op"] = rng.Next(2) == 0 ? "exists" : "isEmpty" };
            case 16:
                return rng.Next(2) == 0 ? new JsonObject { ["identity"] = "Email", ["op"] = "contains", ["value"] = "@x.com" }
                    : new JsonObject { ["identity"] = "CRMID", ["op"] = "in", ["value"] = L("c0001", "c0002", "c0010") };
            case 17:
            case 18:
            {
                var e = new JsonObject { ["eventType"] = rng.Next(4) == 0 ? null : (rng.Next(3) == 0 ? "view" : "purchase") };
                if (e["eventType"] is null) e.Remove("eventType");
                if (rng.Next(2) == 0) e["withinDays"] = 1 + rng.Next(90);
                else if (rng.Next(2) == 0) { e["from"] = Now.AddDays(-60).ToString("o", CultureInfo.InvariantCulture); e["to"] = Now.AddDays(-10).ToString("o", CultureInfo.InvariantCulture); }
                if (rng.Next(3) == 0) e["where"] = rng.Next(2) == 0 ? new JsonObject { ["field"] = "amount", ["op"] = "gt", ["value"] = rng.Next(100) }
                    : new JsonArray(new JsonObject { ["field"] = "channel", ["op"] = "eq", ["value"] = "web" }, new JsonObject { ["field"] = "amount", ["op"] = "exists" });
                var ops = new[] { "exists", "none", "gte", "eq", "lt", "between" };
                var op = ops[rng.Next(ops.Length)];
                if (op is not ("exists" or "none") && rng.Next(2) == 0) { e["aggregate"] = "sum"; e["field"] = "amount"; }
                var o = new JsonObject { ["event"] = e, ["op"] = op };
                if (op == "between") o["value"] = L(1, 1 + rng.Next(150));
                else if (op is not ("exists" or "none")) o["value"] = e.ContainsKey("field") ? rng.Next(200) : rng.Next(4);
                return o;
            }
            case 19: return new JsonObject { ["audience"] = OtherAudience, ["op"] = rng.Next(2) == 0 ? "in" : "notIn" };
            case 20: return Attr("tier", "eq", V("gold"));
            default: return Attr("tenure", "gte", V(20));
        }
    }

    private static JsonObject Rule(Random rng, int depth)
    {
        if (depth >= 3 || rng.Next(3) == 0) return Leaf(rng);
        var kind = rng.Next(5);
        if (kind == 0) return new JsonObject { ["not"] = Rule(rng, depth + 1) };
        var children = new JsonArray();
        for (var i = 0; i < 1 + rng.Next(3); i++) children.Add(Rule(rng, depth + 1));
        return new JsonObject { [kind % 2 == 0 ? "all" : "any"] = children };
    }

    internal static async Task StoreAsync(CatalogDb db, IEnumerable<MemProfile> profiles)
    {
        foreach (var p in profiles)
        {
            var attrs = new JsonObject();
            foreach (var (k, v) in p.Attributes) attrs[k] = v?.DeepClone();
            db.Add(new Profile { Id = p.Id, SandboxId = Sandbox, CreatedAt = Now, UpdatedAt = Now, IdentityCount = p.Identities.Count, Attributes = attrs.ToJsonString() });
            foreach (var (ns, value) in p.Identities) db.Add(new ProfileIdentity { SandboxId = Sandbox, Namespace = ns, Value = value, ProfileId = p.Id, FirstSeen = Now });
            var row = 0;
            foreach (var e in p.Events)
            {
                var f = new JsonObject();
                foreach (var (k, v) in e.Fields) f[k] = v?.DeepClone();
                db.Add(new ProfileEvent { SandboxId = Sandbox, ProfileId = p.Id, DatasetId = "ds-events", BatchId = "b1-" + p.Id, RowNumber = row++, Timestamp = e.At, EventType = e.Type, Fields = f.ToJsonString() });
            }
            foreach (var a in p.Audiences) db.Add(new AudienceMember { SandboxId = Sandbox, AudienceId = a, ProfileId = p.Id, Since = Now });
        }
        await db.SaveChangesAsync(Ct);
    }

    [Theory]
    [InlineData("sqlite", 1)]
    [InlineData("sqlite", 2)]
    [InlineData("postgres", 3)]
    public async Task Sql_translation_matches_the_in_memory_evaluation_on_random_profiles_and_rules(string provider, int seed)
    {
        await using var catalog = await TestCatalog.CreateAsync(provider, Sandbox);
        await using var db = catalog.Open();
        var rng = new Random(seed);
        var profiles = Profiles(rng, 400);
        await StoreAsync(db, profiles);
        var evaluator = new AudienceEvaluator(db, new AudienceLocks(), new FixedClock(Now));
        var rules = RuleCatalog();
        var nonTrivial = 0;
        for (var i = 0; i < 150; i++)
        {
            var json = Rule(rng, 0);
            var compiled = RuleCompiler.Compile(RuleParser.Parse(json), rules);
            var expected = profiles.Where(p => InMemoryRuleEvaluator.Matches(compiled, p, Now)).Select(p => p.Id).Order(StringComparer.Ordinal).ToList();
            var actual = await evaluator.MatchAsync(compiled, Ct);
            Assert.True(expected.SequenceEqual(actual),
                $"Rule {json.ToJsonString()}: expected {expected.Count} ({string.Join(",", expected.Except(actual).Take(5))} missing), SQL gave {actual.Count} ({string.Join(",", actual.Except(expected).Take(5))} extra)");
            if (expected.Count > 0 && expected.Count < profiles.Count) nonTrivial++;
        }
        Assert.True(nonTrivial > 60, $"Only {nonTrivial} of 150 random rules split the profiles; the generator is too weak.");
    }

    private static RuleCatalog RuleCatalog() => Catalog();
}
