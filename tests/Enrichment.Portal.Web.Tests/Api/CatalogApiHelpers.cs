using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enrichment.Portal.Tests;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>Bodies shared by the schema, dataset and namespace API tests (the host is shared: names are made unique).</summary>
internal static class CatalogApiHelpers
{
    public static string Unique(string name) => $"{name} {Guid.NewGuid():N}"[..(name.Length + 9)];

    public static object ProfileSchema(string name) => new
    {
        name,
        @class = "profile",
        fields = new object[]
        {
            new { path = "customerId", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
            new { path = "person.email", type = "string", identity = new { @namespace = "Email" } },
            new { path = "tenure", type = "integer" },
            new { path = "contract", type = "string", @enum = new[] { "Month-to-month", "One year", "Two year" } },
            new { path = "insights", type = "map", valueType = "object" },
        },
    };

    public static async Task<JsonNode> CreateAsync(HttpClient client, string url, object body)
    {
        var response = await client.PostAsJsonAsync(url, body);
        var json = await PortalHost.JsonAsync(response);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"{url}: {(int)response.StatusCode} {json.ToJsonString()}");
        return json;
    }

    public static string Id(this JsonNode node) => node["id"]!.GetValue<string>();
}
