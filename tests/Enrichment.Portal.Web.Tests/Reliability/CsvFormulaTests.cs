using System.Net;
using System.Net.Http.Json;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Query;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Tests;
using Enrichment.Portal.Web.Components.Pages.Query;
using Enrichment.Portal.Web.Tests.Api;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Enrichment.Portal.Web.Tests.Reliability;

/// <summary>
/// Formula cells (issue #20) in the two other CSV files the portal hands out: the query page's CSV download (a real query
/// through the sandbox's query service, written by <see cref="QueryCsv"/>) and an audience file destination's CSV (a real
/// run over ingested people). Text starting with <c>= + - @</c>, a tab or a CR comes out with a leading <c>'</c>; plain
/// numbers such as <c>-5</c> (as text or as numbers) and ordinary text stay as they are.
/// </summary>
public sealed class CsvFormulaTests(PortalHost host)
{
    private static string Unique(string name) => $"{name} {Guid.NewGuid():N}"[..Math.Min(name.Length + 9, 60)];

    [Fact]
    public async Task The_query_download_neutralizes_formula_cells_and_keeps_numbers()
    {
        var sandbox = "csvq-" + Guid.NewGuid().ToString("N")[..8];
        await host.KeyAsync("admin", sandbox);
        await using var scope = host.Services.GetRequiredService<IServiceScopeFactory>().CreateSandboxScope(null);
        var id = await scope.ServiceProvider.GetRequiredService<CatalogDb>().Set<Sandbox>().IgnoreQueryFilters().Where(s => s.Name == sandbox).Select(s => s.Id).SingleAsync();
        await using var inSandbox = host.Services.GetRequiredService<IServiceScopeFactory>().CreateSandboxScope(id);
        var result = await inSandbox.ServiceProvider.GetRequiredService<SandboxQueries>().RunAsync(
            """SELECT '=cmd|'' /C calc''!A0' AS a, '+1+1' AS b, '-2+3' AS c, '@SUM(A1)' AS d, chr(9) || 'tab' AS e, chr(13) || 'cr' AS f, '-5' AS g, -5 AS h, 'plain' AS i, 1.5e3 AS j, '=x' AS "=col" """,
            10, null, new QueryCaller("test", "test"));
        var csv = QueryCsv.Write(result);
        var lines = csv.Split("\r\n");
        Assert.Equal("a,b,c,d,e,f,g,h,i,j,'=col", lines[0]);
        var cells = lines[1];
        Assert.Equal("'=cmd|' /C calc'!A0,'+1+1,'-2+3,'@SUM(A1),'\ttab,\"'\rcr\",-5,-5,plain,1500,'=x", cells);
    }

    [Fact]
    public async Task An_audience_file_destination_csv_neutralizes_formula_cells_and_keeps_numbers()
    {
        var sandbox = "csva-" + Guid.NewGuid().ToString("N")[..8];
        using var api = host.Api(await host.KeyAsync("admin", sandbox));
        var tag = Guid.NewGuid().ToString("N")[..8];
        var schemaId = (await Post(api, "/api/v1/schemas", new
        {
            name = Unique("Csv people"), @class = "profile",
            fields = new object[] { new { path = "id", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } }, new { path = "age", type = "integer" }, new { path = "note", type = "string" } },
        }))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/schemas/{schemaId}/enable-profile", null)).StatusCode);
        var datasetId = (await Post(api, "/api/v1/datasets", new { name = Unique("Csv people"), schemaId }))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/api/v1/datasets/{datasetId}/enable-profile", null)).StatusCode);
        var tiers = new[] { "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\ttab", "-5", "plain" };
        using var dir = Core.Tests.TestData.NewTempDir();
        var csv = Path.Combine(dir.Path, "people.csv");
        await File.WriteAllTextAsync(csv, "id,age,note\n" + string.Concat(tiers.Select((t, i) =>
            $"F-{tag}-{i},{30 + i},\"{t.Replace("\"", "\"\"")}\"\n")));
        var batch = await BatchIngestionApiTests.IngestAsync(api, datasetId, csv);
        Assert.True(batch["status"]!.GetValue<string>() == "success", batch.ToJsonString());

        var segment = (await Post(api, "/api/v1/segments", new { name = Unique("All"), rule = new { attribute = "age", op = "gt", value = 0 } }))["id"]!.GetValue<string>();
        Assert.Equal(tiers.Length, (await AudiencesApiTests.EvaluatedAsync(api, segment))["size"]!.GetValue<long>());
        var dest = await Post(api, "/api/v1/destinations", new
        {
            name = Unique("Formula file"), type = "file", target = "formula-" + tag, format = "csv", mode = "full",
            segmentIds = new[] { segment }, identities = new[] { "CRMID" }, attributes = new[] { "note", "age" },
        });
        var destId = dest["id"]!.GetValue<string>();
        var run = await api.PostAsync($"/api/v1/destinations/{destId}/run", null);
        Assert.True(run.StatusCode == HttpStatusCode.Accepted, await run.Content.ReadAsStringAsync());
        var detail = await PortalHost.PollAsync(api, $"/api/v1/destinations/{destId}",
            d => d["runs"]!.AsArray().Any(r => r!["status"]!.GetValue<string>() is "succeeded" or "failed"), TimeSpan.FromMinutes(3));
        var last = detail["runs"]!.AsArray().First(r => r!["status"]!.GetValue<string>() is "succeeded" or "failed")!;
        Assert.True(last["status"]!.GetValue<string>() == "succeeded", detail.ToJsonString());
        var text = await File.ReadAllTextAsync(last["file"]!.GetValue<string>());
        foreach (var (tier, i) in tiers.Select((t, i) => (t, i)))
        {
            var expected = tier is "-5" or "plain" ? tier : "'" + tier;
            var line = text.Split('\n').FirstOrDefault(l => l.Contains($"F-{tag}-{i}", StringComparison.Ordinal));
            Assert.True(line is not null, text);
            var cell = expected.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + expected.Replace("\"", "\"\"") + "\"" : expected;
            Assert.True(line!.Contains("," + cell + ",", StringComparison.Ordinal) || line.EndsWith("," + cell, StringComparison.Ordinal) || line.Contains("," + cell + "\r", StringComparison.Ordinal),
                $"tier {tier.Replace("\t", "\\t")}: expected cell {cell.Replace("\t", "\\t")} in: {line.Replace("\t", "\\t")}");
        }
    }

    private static async Task<System.Text.Json.Nodes.JsonNode> Post(HttpClient api, string url, object body)
    {
        var r = await api.PostAsJsonAsync(url, body);
        var json = await PortalHost.JsonAsync(r);
        Assert.True(r.IsSuccessStatusCode, $"{url}: {(int)r.StatusCode} {json.ToJsonString()}");
        return json;
    }
}
