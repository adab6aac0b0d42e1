using System.Text.Json.Nodes;
using Bunit;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Web.Components.Pages.Profiles;

namespace Enrichment.Portal.Web.Tests.Components;

public sealed class ProfileTitleTests : PortalTestContext
{
    [Fact]
    public void A_profile_is_named_by_its_persons_name_and_its_crm_id_before_other_identities()
    {
        Assert.Equal("Claire Gute", ProfileTitle.Name(JsonNode.Parse("""{"customerName":"Claire Gute","segment":"Consumer"}""")!.AsObject()));
        Assert.Equal("Ann Lee", ProfileTitle.Name(JsonNode.Parse("""{"person":{"firstName":"Ann","lastName":"Lee"}}""")!.AsObject()));
        Assert.Equal("Bo", ProfileTitle.Name(JsonNode.Parse("""{"person":{"name":{"first":"Bo"}}}""")!.AsObject()));
        Assert.Null(ProfileTitle.Name(JsonNode.Parse("""{"city":"Lyon"}""")!.AsObject()));
        Assert.Equal(new ProfileIdentityView("CRMID", "CG-12520"),
            ProfileTitle.MainIdentity([new("ECID", "123"), new("Email", "c@x.com"), new("CRMID", "CG-12520")]));
        Assert.Equal(new ProfileIdentityView("Email", "c@x.com"), ProfileTitle.MainIdentity([new("ECID", "123"), new("Email", "c@x.com")]));
    }

    [Fact]
    public void The_identity_graph_shows_full_namespaces_and_ids_and_labels_each_link_with_its_batch()
    {
        var t = DateTimeOffset.Parse("2026-03-01T10:00:00Z");
        var graph = new ProfileGraph("p1", [new("CRMID", "CG-12520", "CrossDevice", t), new("Email", "claire@example.com", "Person", t), new("ECID", "ecid-0001", "Cookie", t)],
            [new("CRMID", "CG-12520", "Email", "claire@example.com", "ds1", "batch0000abc123", t), new("Email", "claire@example.com", "ECID", "ecid-0001", "ds2", "batch0000def456", t)], []);
        var cut = Render<IdentityGraphPicture>(p => p.Add(x => x.Graph, graph).Add(x => x.DatasetNames, new Dictionary<string, string> { ["ds1"] = "CRM", ["ds2"] = "Web" }));
        var nodes = cut.FindAll("[data-testid=profile-graph-node]");
        Assert.Equal(3, nodes.Count);
        Assert.Contains("CRMID", nodes[0].TextContent);
        Assert.Contains("CG-12520", nodes[0].TextContent);
        Assert.Contains("claire@example.com", nodes[1].TextContent);
        var edges = cut.FindAll("[data-testid=profile-graph-edge]");
        Assert.Equal(2, edges.Count);
        Assert.Contains("batch …abc123", edges[0].TextContent);
        Assert.Contains("dataset CRM", edges[0].QuerySelector("title")!.TextContent);
        Assert.Empty(cut.FindAll("[data-testid=profile-graph-single]"));
    }
}
