using Bunit;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Web.Components.Ingestion;

namespace Enrichment.Portal.Web.Tests.Components;

public sealed class SchemaInferenceReviewTests : PortalTestContext
{
    private static InferredSchema Orders()
    {
        string?[][] rows =
        [
            ["CG-12520", "claire@example.com", "2016-11-08", "261.96", "fragile"],
            ["DV-13045", "darrin@example.com", "2016-06-12", "14.62", null],
            ["SO-20335", "sean@example.com", "2015-10-11", "957.5775", "gift"],
        ];
        var preview = new PreviewResult(InputFormat.Csv, ["Customer ID", "E-mail", "Order Date", "Sales", "Notes"],
            rows.Select(r => (IReadOnlyList<string?>)r).ToList(), new Dictionary<string, string>(), null);
        return SchemaInference.Infer(preview, ',', SchemaClass.Profile);
    }

    private static AngleSharp.Dom.IElement Input(IRenderedComponent<SchemaInferenceReview> cut, string testId) =>
        cut.Find($"[data-testid='{testId}'] input, input[data-testid='{testId}']");

    private static bool Checked(IRenderedComponent<SchemaInferenceReview> cut, string testId) =>
        ((AngleSharp.Html.Dom.IHtmlInputElement)Input(cut, testId)).IsChecked;

    [Fact]
    public void The_review_shows_each_column_with_examples_and_the_suggested_primary_and_returns_what_the_user_kept_and_changed()
    {
        ReviewedSchema? used = null;
        var cut = Render<SchemaInferenceReview>(p => p.Add(c => c.Inferred, Orders()).Add(c => c.OnUse, r => used = r));

        Assert.Contains("5 columns read from 3 sampled rows (CSV)", cut.Find("[data-testid=inference-summary]").TextContent);
        Assert.Contains("CG-12520 · DV-13045 · SO-20335", cut.Find("[data-testid='inference-row-Customer ID']").TextContent);
        Assert.Contains("customer id", cut.Find("[data-testid='inference-row-Customer ID']").TextContent);
        Assert.True(Checked(cut, "inference-primary-Customer ID"));
        Assert.False(Checked(cut, "inference-primary-E-mail"));
        Assert.Empty(cut.FindAll("[data-testid=inference-problems]"));

        Input(cut, "inference-keep-Notes").Change(false);
        Input(cut, "inference-path-Sales").Change("amount");
        Input(cut, "inference-primary-E-mail").Change(true);
        cut.WaitForAssertion(() => Assert.Equal("4 of 5 columns kept", cut.Find("[data-testid=inference-kept]").TextContent));
        Assert.False(Checked(cut, "inference-primary-Customer ID"));
        cut.Find("button[data-testid=inference-use]").Click();

        Assert.NotNull(used);
        Assert.Equal(["customerId", "eMail", "orderDate", "amount"], used!.Fields.Select(f => f.Path));
        Assert.Equal([FieldType.String, FieldType.String, FieldType.Date, FieldType.Number], used.Fields.Select(f => f.Type));
        Assert.Equal(new IdentityMapping("CRMID", false), used.Fields[0].Identity);
        Assert.Equal(new IdentityMapping("Email", true), used.Fields[1].Identity);
        Assert.Null(used.Fields[3].Identity);
        Assert.Equal("amount", used.Mapping["Sales"]);
        Assert.False(used.Mapping.ContainsKey("Notes"));
        Assert.Empty(SchemaRules.ProfileBlockers(new SchemaDefinition("orders", SchemaClass.Profile, used.Fields)));
    }

    [Fact]
    public void A_bad_field_name_or_no_primary_identity_is_explained_and_blocks_using_the_fields()
    {
        var used = false;
        var cut = Render<SchemaInferenceReview>(p => p.Add(c => c.Inferred, Orders()).Add(c => c.OnUse, _ => used = true));

        Input(cut, "inference-path-Sales").Change("9 sales");
        Input(cut, "inference-primary-Customer ID").Change(false);
        cut.WaitForAssertion(() =>
        {
            var problems = cut.Find("[data-testid=inference-problems]").TextContent;
            Assert.Contains("The field name '9 sales' (column Sales) is not valid", problems);
            Assert.Contains("Choose a primary identity", problems);
        });
        Assert.True(cut.Find("button[data-testid=inference-use]").HasAttribute("disabled"));

        Input(cut, "inference-path-Sales").Change("sales");
        Input(cut, "inference-primary-Customer ID").Change(true);
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=inference-problems]")));
        cut.Find("button[data-testid=inference-use]").Click();
        Assert.True(used);
    }
}
