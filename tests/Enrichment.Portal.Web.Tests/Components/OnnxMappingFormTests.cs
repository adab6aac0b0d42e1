using Bunit;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Web.Components.Models;
using MudBlazor;
using FieldType = Enrichment.Portal.Core.Schemas.FieldType;

namespace Enrichment.Portal.Web.Tests.Components;

/// <summary>The ONNX mapping form on the signatures of the shipped test models: inputs pre-matched by name, the output chosen, errors where they belong.</summary>
public sealed class OnnxMappingFormTests : PortalTestContext
{
    private static readonly SchemaField[] Fields =
    [
        new() { Path = "customerId", Type = FieldType.String }, new() { Path = "Age", Type = FieldType.Integer },
        new() { Path = "balance", Type = FieldType.Number }, new() { Path = "duration", Type = FieldType.Integer },
        new() { Path = "job", Type = FieldType.String }, new() { Path = "campaign", Type = FieldType.Integer },
    ];

    private static OnnxInspection Inspect(string file)
    {
        var sig = OnnxSignature.Read(File.ReadAllBytes(TestData.Shipped("onnx/" + file)));
        return new OnnxInspection(sig, OnnxMapper.Suggest(sig, Fields), Fields, "Bank", "ds1", false);
    }

    [Fact]
    public void Inputs_are_pre_matched_by_name_case_insensitively_and_the_probability_column_is_the_score()
    {
        OnnxMappingRequest? submitted = null;
        var cut = Render<OnnxMappingForm>(p => p.Add(x => x.Inspection, Inspect("logreg.onnx")).Add(x => x.ModelName, "lr").Add(x => x.OnSubmit, r => submitted = r));

        Assert.Equal(3, cut.FindAll("[data-testid=onnx-inputs] tbody tr").Count);
        Assert.Contains("[N,1]", cut.Find("[data-testid=onnx-input-age]").TextContent);
        Assert.Single(cut.FindAll("[data-testid=onnx-output-probabilities]"));
        Assert.Single(cut.FindAll("[data-testid=onnx-output-index]"));
        Assert.Contains("insights.lr.score", cut.Markup);

        cut.Find("[data-testid=onnx-deploy]").Click();
        Assert.NotNull(submitted);
        Assert.Equal("probabilities", submitted!.Output);
        Assert.Equal((1, "score", "score"), (submitted.OutputIndex!.Value, submitted.Kind!, submitted.Insight!));
        Assert.Equal(["Age"], submitted.Inputs!["age"]);
        Assert.Equal(["balance"], submitted.Inputs["balance"]);
        Assert.Equal(["duration"], submitted.Inputs["duration"]);
        // The mapping the form gives is one the portal accepts.
        var state = OnnxMapper.Resolve(Inspect("logreg.onnx").Signature, submitted, Fields, "Bank");
        Assert.Equal(3, state.Inputs.Count);
    }

    [Fact]
    public void A_k_column_input_gets_one_dropdown_per_column_a_zipmap_output_is_chosen_and_errors_show_by_the_input()
    {
        var errors = new Dictionary<string, string[]> { ["inputs.input"] = ["The input 'input' (float [N,3]) is not mapped."], ["insight"] = ["bad insight name"] };
        var cut = Render<OnnxMappingForm>(p => p.Add(x => x.Inspection, Inspect("tree_classifier.onnx")).Add(x => x.Errors, errors));
        Assert.Equal(3, cut.FindComponents<MudSelect<string>>().Count(s => s.Instance.Label?.StartsWith("Column", StringComparison.Ordinal) == true));
        Assert.Contains("not mapped", cut.Find("[data-testid=onnx-input-error-input]").TextContent);
        Assert.Contains("bad insight name", cut.Find("[data-testid=onnx-error-insight]").TextContent);
        Assert.Contains("ZipMap", cut.Find("[data-testid=onnx-output-output_probability]").TextContent);
        Assert.Single(cut.FindAll("[data-testid=onnx-output-key]"));
        // Number fields only for float inputs: the text field job is not offered.
        Assert.DoesNotContain("job (string)", cut.Markup);
    }

    [Fact]
    public void An_input_the_portal_cannot_serve_shows_why()
    {
        var cut = Render<OnnxMappingForm>(p => p.Add(x => x.Inspection, Inspect("bad_shape.onnx")));
        Assert.Contains("[N,2,3]", cut.Find("[data-testid=onnx-input-problem-x]").TextContent);
    }
}
