using System.Text.Json.Nodes;
using Bunit;
using Enrichment.Portal.Core.Audiences;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Web.Components.Audiences;

namespace Enrichment.Portal.Web.Tests.Components;

/// <summary>The audience rule builder: rows from a prefilled rule (the wizard's insight condition), adding and removing rows, JSON mode for nested rules.</summary>
public sealed class RuleBuilderTests : PortalTestContext
{
    private static RuleCatalog Catalog()
    {
        var c = new RuleCatalog();
        c.AddSchema(new SchemaDefinition("crm", SchemaClass.Profile,
        [
            new SchemaField { Path = "crmId", Type = FieldType.String, Identity = new IdentityMapping("CRMID", true) },
            new SchemaField { Path = "age", Type = FieldType.Integer },
            new SchemaField { Path = "tier", Type = FieldType.String },
        ]));
        c.InsightModels.Add("churn");
        c.Namespaces.UnionWith(["Email", "CRMID"]);
        return c;
    }

    /// <summary>The input (or textarea) a MudBlazor field puts its data-testid on, or the one inside the element that has it.</summary>
    private static AngleSharp.Dom.IElement Control(IRenderedComponent<RuleBuilder> cut, string testId)
    {
        var e = cut.Find($"[data-testid={testId}]");
        return e.TagName is "INPUT" or "TEXTAREA" ? e : e.QuerySelector("input, textarea") ?? throw new InvalidOperationException($"{testId}: {e.OuterHtml}");
    }

    [Fact]
    public void A_prefilled_rule_shows_as_rows_and_adding_and_removing_rows_reports_the_rule()
    {
        RenderPopoverProvider();
        var reported = new List<JsonNode?>();
        var initial = JsonNode.Parse("""{"all":[{"attribute":"insights.churn.score","op":"gt","value":0.7},{"identity":"Email","op":"exists"}]}""");
        var cut = Render<RuleBuilder>(p => p.Add(x => x.Catalog, Catalog()).Add(x => x.Initial, initial)
            .Add(x => x.RuleChanged, (JsonNode? r) => reported.Add(r)));

        Assert.Equal(2, cut.FindAll("[data-testid^=rule-row-]").Count);
        Assert.Equal("insights.churn.score", Control(cut, "rule-field-0").GetAttribute("value"));
        Assert.Equal("0.7", Control(cut, "rule-value-0").GetAttribute("value"));
        Assert.Equal(initial!.ToJsonString(), cut.Find("[data-testid=rule-preview]").TextContent.Trim());

        cut.Find("[data-testid=rule-add]").Click();
        Assert.Equal(3, cut.FindAll("[data-testid^=rule-row-]").Count);
        Assert.Null(reported[^1]); // the new row has no field yet: no rule to estimate

        cut.Find("[data-testid=rule-remove-2]").Click();
        Assert.Equal(2, cut.FindAll("[data-testid^=rule-row-]").Count);
        Assert.Equal(initial.ToJsonString(), reported[^1]!.ToJsonString());

        cut.Find("[data-testid=rule-remove-1]").Click();
        Assert.Equal("""{"attribute":"insights.churn.score","op":"gt","value":0.7}""", reported[^1]!.ToJsonString());
    }

    [Fact]
    public void A_nested_rule_opens_as_json_and_edited_json_is_reported()
    {
        RenderPopoverProvider();
        var reported = new List<JsonNode?>();
        var initial = JsonNode.Parse("""{"all":[{"attribute":"age","op":"gte","value":30},{"not":{"identity":"Email","op":"exists"}}]}""");
        var cut = Render<RuleBuilder>(p => p.Add(x => x.Catalog, Catalog()).Add(x => x.Initial, initial)
            .Add(x => x.RuleChanged, (JsonNode? r) => reported.Add(r)));
        var area = Control(cut, "rule-json");
        Assert.Contains("\"not\"", area.TextContent + area.GetAttribute("value"));
        Assert.Empty(cut.FindAll("[data-testid^=rule-row-]"));

        area.Input("""{"any":[{"attribute":"age","op":"lt","value":20},{"not":{"attribute":"age","op":"exists"}}]}""");
        cut.WaitForAssertion(() => Assert.Equal("""{"any":[{"attribute":"age","op":"lt","value":20},{"not":{"attribute":"age","op":"exists"}}]}""", reported[^1]?.ToJsonString()));
        Control(cut, "rule-json").Input("{ not json");
        cut.WaitForAssertion(() => Assert.Null(reported[^1]));
    }

    [Fact]
    public async Task A_text_attribute_offers_the_data_s_top_values_and_a_number_does_not()
    {
        RenderPopoverProvider();
        var asked = new List<string>();
        var initial = JsonNode.Parse("""{"all":[{"attribute":"tier","op":"eq","value":"gold"},{"attribute":"age","op":"gt","value":30}]}""");
        var cut = Render<RuleBuilder>(p => p.Add(x => x.Catalog, Catalog()).Add(x => x.Initial, initial)
            .Add(x => x.SuggestValues, (string path, CancellationToken _) => { asked.Add(path); return Task.FromResult<IReadOnlyList<string>>(["gold", "silver", "bronze"]); }));

        var autocompletes = cut.FindComponents<MudBlazor.MudAutocomplete<string>>().Where(a => a.Instance.UserAttributes.TryGetValue("data-testid", out var t) && t is "rule-value-0" or "rule-value-1").ToList();
        var value = Assert.Single(autocompletes);
        Assert.Equal("rule-value-0", value.Instance.UserAttributes["data-testid"]);
        var search = value.Instance.SearchFunc ?? throw new InvalidOperationException("no search");
        async Task<List<string>> Search(string t) => ((await search(t, CancellationToken.None)!) ?? []).ToList();
        Assert.Equal(["gold", "silver", "bronze"], await Search(""));
        Assert.Equal(["silver", "sil"], await Search("sil"));
        Assert.Equal(["silver"], await Search("silver"));
        Assert.Equal(["tier"], asked); // asked once per field
        Assert.Equal("30", Control(cut, "rule-value-1").GetAttribute("value"));
    }
}
