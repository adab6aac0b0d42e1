using Enrichment.Portal.Core.Query;

namespace Enrichment.Portal.Core.Tests.Query;

/// <summary>DuckDB's errors on the retail lake, as the user reads them (the real messages, through the query service).</summary>
public sealed class SqlErrorWordingTests(RetailLakeFixture lake) : IClassFixture<RetailLakeFixture>
{
    private readonly QueryService _service = new(new QueryServiceOptions { MemoryLimit = "512MB", Threads = 2 });

    private async Task<string> ReasonAsync(string sql) =>
        (await Assert.ThrowsAsync<QueryRejectedException>(() => _service.ExecuteAsync(
            new QueryRequest { Sql = sql, Limit = 10, Timeout = TimeSpan.FromSeconds(30), Tables = lake.Tables }, TestContext.Current.CancellationToken))).Reason;

    [Fact]
    public async Task A_misspelt_column_says_where_and_suggests_the_datasets_column()
    {
        var reason = await ReasonAsync("SELECT Quantty FROM online_retail");
        Assert.StartsWith("There is no column \"Quantty\" (line 1, position 8).", reason);
        Assert.Contains("Did you mean \"Quantity\"?", reason);
        Assert.DoesNotContain("Binder Error", reason);
    }

    [Fact]
    public async Task A_column_on_the_second_line_gets_its_line_and_position()
    {
        var reason = await ReasonAsync("SELECT Country,\n       count(*) FROM online_retail WHERE Countri = 'France' GROUP BY 1");
        Assert.StartsWith("There is no column \"Countri\" (line 2, position 42).", reason);
        Assert.Contains("Did you mean \"Country\"?", reason);
    }

    [Fact]
    public async Task Syntax_errors_and_unknown_tables_read_as_sentences()
    {
        var syntax = await ReasonAsync("SELECT Country FROM online_retail\nORDER Quantity");
        Assert.StartsWith("The query has a syntax error near \"Quantity\" (line 2, position 7).", syntax);
        var table = await ReasonAsync("SELECT * FROM online_retale");
        Assert.StartsWith("There is no table \"online_retale\" (line 1, position 15)", table);
        Assert.DoesNotContain("Catalog Error", table);
    }
}
