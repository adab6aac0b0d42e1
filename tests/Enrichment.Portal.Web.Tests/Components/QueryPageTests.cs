using Bunit;
using DuckDB.NET.Data;
using Enrichment.Portal.Core;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Query;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Web.Components.Pages.Query;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Enrichment.Portal.Web.Tests.Components;

/// <summary>The SQL page on the real query service over a real Parquet file in a temp lake.</summary>
public sealed class QueryPageTests : CatalogComponentTest
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "ep-bunit-lake-" + Guid.NewGuid().ToString("N"));

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton<IOptions<PortalOptions>>(Options.Create(new PortalOptions { DataDirectory = _data }));
        services.AddSingleton<IOptions<QueryOptions>>(Options.Create(new QueryOptions { TimeoutSeconds = 30 }));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new QueryService());
        services.AddScoped<LakeCatalog>();
        services.AddScoped<SandboxQueries>();
        services.AddSingleton<QueryAdmission>();
    }

    private async Task<string> CitiesAsync()
    {
        var dataset = await WithServicesAsync(async sp =>
        {
            var schema = await sp.GetRequiredService<SchemaService>().CreateAsync(new SchemaDraft("Cities schema", SchemaClass.Profile,
                [new SchemaField { Path = "city", Type = FieldType.String }, new SchemaField { Path = "people", Type = FieldType.Integer }]));
            return await sp.GetRequiredService<DatasetService>().CreateAsync("Cities", schema.Id);
        });
        var folder = Path.Combine(_data, "lake", SandboxId, dataset.Id, "b1");
        Directory.CreateDirectory(folder);
        using (var c = new DuckDBConnection("DataSource=:memory:"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"COPY (SELECT * FROM (VALUES ('Lyon', 522250), ('Nantes', 320732), ('Lille', 236710)) t(city, people)) TO '{Path.Combine(folder, "part-00000.parquet")}' (FORMAT parquet)";
            cmd.ExecuteNonQuery();
        }
        await File.WriteAllTextAsync(Path.Combine(folder, LakeFolders.SuccessMarker), "");
        return "cities";
    }

    [Fact]
    public async Task Running_a_query_shows_the_results_the_status_and_the_history()
    {
        var table = await CitiesAsync();
        var page = RenderWithProviders<QueryPage>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll($"[data-testid=query-table-{table}]")));
        Assert.Contains("people", page.Find($"[data-testid=query-table-{table}]").TextContent);

        page.Find("textarea").Input($"SELECT city, people FROM {table} WHERE people > 300000 ORDER BY people DESC");
        page.Find("button[data-testid=query-run]").Click();

        page.WaitForAssertion(() => Assert.Contains("Nantes", page.Find("[data-testid=query-results]").TextContent), TimeSpan.FromSeconds(20));
        var results = page.Find("[data-testid=query-results]").TextContent;
        Assert.Contains("Lyon", results);
        Assert.Contains("522,250", results); // numbers for people: thousands separators, right-aligned
        Assert.Contains("text-align:right", page.FindAll("[data-testid=query-results] td").First(td => td.TextContent.Trim() == "522,250").GetAttribute("style"));
        Assert.DoesNotContain("Lille", results);
        Assert.StartsWith("2 rows", page.Find("[data-testid=query-status]").TextContent.Trim());
        Assert.Empty(page.FindAll("[data-testid=query-error]"));
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=query-history-item]")));
    }

    [Fact]
    public async Task A_rejected_query_shows_its_reason_inline()
    {
        await CitiesAsync();
        var page = RenderWithProviders<QueryPage>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=query-table-cities]")));

        page.Find("textarea").Input("COPY (SELECT 1) TO '/tmp/ep-bunit-escape.csv'");
        page.Find("button[data-testid=query-run]").Click();

        page.WaitForAssertion(() => Assert.Contains("Only a single read-only SELECT", page.Find("[data-testid=query-error]").TextContent), TimeSpan.FromSeconds(20));
        Assert.Contains("Query rejected", page.Find("[data-testid=query-error]").TextContent);
        Assert.Empty(page.FindAll("[data-testid=query-results]"));
        Assert.False(File.Exists("/tmp/ep-bunit-escape.csv"));
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }
}
