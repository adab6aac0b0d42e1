using Enrichment.Portal.Core.Profiles;

namespace Enrichment.Portal.Core.Tests.Profiles;

public sealed class ProvenanceTextTests
{
    [Fact]
    public void Grouped_form_is_sorted_by_dataset_and_path_and_parses_back()
    {
        var flat = new Dictionary<string, string> { ["tier"] = "ds-b", ["age"] = "ds-b", ["insights.churn"] = "ds-a", ["crmId"] = "ds-b" };
        var text = ProvenanceText.Write(flat);
        Assert.Equal("""{"ds-a":["insights.churn"],"ds-b":["age","crmId","tier"]}""", text);
        Assert.Equal(flat.OrderBy(kv => kv.Key), ProvenanceText.Parse(text).OrderBy(kv => kv.Key));
    }

    [Fact]
    public void The_older_flat_form_is_read_and_not_patched_in_place()
    {
        const string flat = """{"age":"ds-b","insights.churn":"ds-a"}""";
        Assert.Equal("ds-b", ProvenanceText.Parse(flat)["age"]);
        Assert.Equal(["age"], ProvenanceText.OtherProviders(flat, ["age", "insights.churn"], "ds-a")!);
        Assert.Null(ProvenanceText.Patch(flat, ["age"], "ds-a"));
    }

    [Fact]
    public void Other_providers_lists_paths_of_other_datasets_only()
    {
        var text = ProvenanceText.Write(new Dictionary<string, string> { ["crmId"] = "ds-crm", ["insights.churn"] = "ds-scores", ["tier"] = "ds-crm" });
        Assert.Null(ProvenanceText.OtherProviders(text, ["insights.churn", "insights.clv"], "ds-scores"));
        Assert.Equal(["crmId"], ProvenanceText.OtherProviders(text, ["crmId", "insights.churn"], "ds-scores")!);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Patch_equals_writing_the_parsed_dictionary_with_the_paths_set(int seed)
    {
        var rng = new Random(seed);
        string[] datasets = ["01jds0a", "01jds0b", "ds-x", "zz"];
        string[] paths = ["a", "age", "b.c", "crmId", "insights.churn", "insights.clv", "tier", "z", "\u00e9t\u00e9", "quote\"d"];
        for (var i = 0; i < 300; i++)
        {
            var flat = new Dictionary<string, string>();
            foreach (var p in paths) if (rng.Next(3) > 0) flat[p] = datasets[rng.Next(datasets.Length)];
            var text = ProvenanceText.Write(flat);
            var dataset = datasets[rng.Next(datasets.Length)];
            var set = paths.Where(_ => rng.Next(4) == 0).OrderBy(p => p, StringComparer.Ordinal).ToList();
            var expected = new Dictionary<string, string>(flat);
            foreach (var p in set) expected[p] = dataset;
            Assert.Equal(ProvenanceText.Write(expected), ProvenanceText.Patch(text, set, dataset));
        }
    }
}
