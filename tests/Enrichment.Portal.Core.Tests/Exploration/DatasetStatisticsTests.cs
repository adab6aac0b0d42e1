using Enrichment.Portal.Core.Exploration;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Tests.Exploration;

public sealed class DatasetStatisticsTests(BankLakeFixture bank) : IClassFixture<BankLakeFixture>
{
    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;
    private readonly DatasetStatistics _stats = new();

    private Task<DatasetStats> BankWithTarget(StatsOptions? options = null) =>
        _stats.ComputeAsync(bank.Files, null, "y", options ?? new StatsOptions { TargetPositive = "yes" }, Ct);

    [Fact]
    public async Task Bank_marketing_has_45211_rows_and_every_column_is_complete()
    {
        var stats = await BankWithTarget();

        Assert.Equal(45_211, stats.Rows);
        Assert.Equal(17, stats.Columns.Count);
        Assert.All(stats.Columns, c => Assert.Equal(1.0, c.Completeness));
        foreach (var c in stats.Columns)
            Xunit.TestContext.Current.TestOutputHelper?.WriteLine($"{c.Name,-10} {c.Type,-8} distinct {c.Distinct,6} signal {c.TargetSignal?.Value:0.0000} [{string.Join(",", c.Warnings)}]");
    }

    [Fact]
    public async Task Distinct_counts_equal_a_direct_duckdb_count_distinct_for_every_column()
    {
        var stats = await BankWithTarget();

        foreach (var c in stats.Columns)
            Assert.Equal(Convert.ToInt64(bank.Scalar($"SELECT count(DISTINCT \"{c.Name}\") FROM bank")), c.Distinct);
    }

    [Fact]
    public async Task Duration_is_flagged_as_a_possible_leak_and_ranks_first_while_ordinary_predictors_are_not()
    {
        var stats = await BankWithTarget();

        Assert.Equal("binary", stats.TargetKind);
        Assert.Equal("yes", stats.TargetPositive);
        var duration = stats.Columns.Single(c => c.Name == "duration");
        Assert.Contains(ColumnWarnings.PossibleLeak, duration.Warnings);
        Assert.Equal("duration", stats.TargetRanking[0].Column);
        Assert.InRange(duration.TargetSignal!.Value, 0.80, 0.90);
        Assert.Equal(["duration"], stats.Columns.Where(c => c.Warnings.Contains(ColumnWarnings.PossibleLeak)).Select(c => c.Name));
        Assert.DoesNotContain(stats.TargetRanking, r => r.Column == "y");
        Assert.Equal(16, stats.TargetRanking.Count);
    }

    [Fact]
    public async Task Numeric_columns_get_moments_quartiles_and_a_histogram_matching_duckdb()
    {
        var stats = await BankWithTarget();
        var age = stats.Columns.Single(c => c.Name == "age");

        Assert.Equal(18.0, age.Min);
        Assert.Equal(95.0, age.Max);
        Assert.Equal(Convert.ToDouble(bank.Scalar("SELECT avg(age) FROM bank")), age.Mean!.Value, 9);
        Assert.Equal(Convert.ToDouble(bank.Scalar("SELECT median(age) FROM bank")), age.Quartiles!.Median);
        Assert.Equal(20, age.Histogram.Count);
        Assert.Equal(45_211, age.Histogram.Sum(b => b.Count));
        Assert.Equal("integer", age.Type);
        var balance = stats.Columns.Single(c => c.Name == "balance");
        Assert.Contains(ColumnWarnings.Outliers, balance.Warnings);
        Assert.True(balance.OutlierShare > 0.05);
    }

    [Fact]
    public async Task Categorical_columns_get_top_values_with_counts()
    {
        var stats = await BankWithTarget();
        var job = stats.Columns.Single(c => c.Name == "job");

        Assert.Equal("blue-collar", job.TopValues[0].Value);
        Assert.Equal(Convert.ToInt64(bank.Scalar("SELECT count(*) FROM bank WHERE job = 'blue-collar'")), job.TopValues[0].Count);
        Assert.Equal(10, job.TopValues.Count);
        Assert.Equal("string", job.Type);
        Assert.Equal(2, stats.Columns.Single(c => c.Name == "y").TopValues.Count);
    }

    [Fact]
    public async Task Schema_fields_order_the_columns_and_a_declared_but_absent_field_is_reported_missing()
    {
        SchemaField[] fields =
        [
            new() { Path = "y", Type = FieldType.String },
            new() { Path = "person.email", Type = FieldType.String },
            new() { Path = "age", Type = FieldType.Integer },
        ];
        var stats = await _stats.ComputeAsync(bank.Files, fields, null,
            new StatsOptions { RejectedByField = new Dictionary<string, long> { ["age"] = 7 } }, Ct);

        Assert.Equal(["y", "person.email", "age"], stats.Columns.Take(3).Select(c => c.Name));
        var missing = stats.Columns[1];
        Assert.Equal(0.0, missing.Completeness);
        Assert.Contains(ColumnWarnings.MissingColumn, missing.Warnings);
        Assert.Contains(ColumnWarnings.HighMissing, missing.Warnings);
        Assert.Equal(7, stats.Columns[2].RejectedRecords);
        Assert.Contains(ColumnWarnings.RejectedRecords, stats.Columns[2].Warnings);
        Assert.Empty(stats.TargetRanking);
        Assert.All(stats.Columns, c => Assert.Null(c.TargetSignal));
    }

    [Fact]
    public async Task A_numeric_target_ranks_columns_by_absolute_correlation()
    {
        var stats = await _stats.ComputeAsync(bank.Files, null, "pdays", new StatsOptions(), Ct);

        Assert.Equal("numeric", stats.TargetKind);
        var previous = stats.Columns.Single(c => c.Name == "previous").TargetSignal!;
        Assert.Equal("correlation", previous.Kind);
        Assert.Equal(Math.Abs(Convert.ToDouble(bank.Scalar("SELECT corr(previous, pdays) FROM bank"))), previous.Value, 5);
        Assert.NotNull(stats.Columns.Single(c => c.Name == "poutcome").TargetSignal);
    }

    [Fact]
    public async Task Unknown_target_and_missing_files_are_clear_errors()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _stats.ComputeAsync(bank.Files, null, "nope", null, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _stats.ComputeAsync(["/nonexistent/x.parquet"], null, null, null, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _stats.ComputeAsync([], null, null, null, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _stats.ComputeAsync(bank.Files, null, "y", new StatsOptions { TargetPositive = "maybe" }, Ct));
    }

    [Fact]
    public async Task A_value_typed_for_a_many_valued_target_makes_it_binary_one_against_the_rest()
    {
        var none = await _stats.ComputeAsync(bank.Files, null, "job", new StatsOptions(), Ct);
        Assert.Equal("multiclass", none.TargetKind);

        // Retired (2,264 of 45,211) against every other job: age is its strongest signal.
        var retired = await _stats.ComputeAsync(bank.Files, null, "job", new StatsOptions { TargetPositive = "Retired" }, Ct);
        Assert.Equal("binary", retired.TargetKind);
        Assert.Equal("retired", retired.TargetPositive);
        var top = retired.Columns.Where(c => c.TargetSignal is not null).OrderByDescending(c => c.TargetSignal!.Value).First();
        Assert.Equal("age", top.Name);

        var e = await Assert.ThrowsAsync<ArgumentException>(() => _stats.ComputeAsync(bank.Files, null, "job", new StatsOptions { TargetPositive = "astronaut" }, Ct));
        Assert.Contains("blue-collar", e.Message);
    }
}
