using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Ingestion.LakeWriters;
using Enrichment.Portal.Core.Lake;
using Enrichment.Portal.Core.Schemas;
using static Enrichment.Portal.Core.Tests.Ingestion.IngestionTestKit;

namespace Enrichment.Portal.Core.Tests.Ingestion;

public class RealFileIngestionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Online_retail_csv_gz_lands_all_541909_lines_with_135080_anonymous_and_reference_sums()
    {
        using var tmp = TestData.NewTempDir();
        var lake = Path.Combine(tmp.Path, "lake", "retail", "b1");
        var seen = new List<IngestProgress>();
        var res = new BatchIngestor().Ingest(Request(TestData.Shipped("online_retail/online_retail.csv.gz"), lake, Retail, RetailOptions),
            new SyncProgress(seen.Add), Ct);
        Assert.False(res.Failed, res.FailureReason);
        Assert.Equal(InputFormat.Csv, res.Format);
        Assert.Equal(541_909, res.RecordsRead);
        Assert.Equal(541_909, res.RecordsWritten);
        Assert.Equal(0, res.RecordsFailed);
        Assert.Equal(135_080, res.RecordsWithoutIdentity);
        Assert.True(seen.Count >= 5, $"progress reported {seen.Count} times");
        Assert.True(LakeFolders.IsComplete(lake));
        var parts = Path.Combine(lake, "part-*.parquet");
        Assert.Equal(5_176_450L, Convert.ToInt64(Scalar($"SELECT sum(Quantity)::BIGINT FROM read_parquet('{parts}')")));
        Assert.Equal(9_747_747.93, Convert.ToDouble(Scalar($"SELECT round(sum(Quantity * UnitPrice), 2) FROM read_parquet('{parts}')")), 2);
        Assert.Equal(4_372L, Convert.ToInt64(Scalar($"SELECT count(DISTINCT CustomerID) FROM read_parquet('{parts}')")));
        Assert.Equal("TIMESTAMP", Scalar($"SELECT typeof(timestamp) FROM read_parquet('{parts}') LIMIT 1"));
        Assert.Equal(["validate", "lake"], res.Stages.Select(s => s.Name));
    }

    [Fact]
    public async Task Superstore_lands_9994_rows_typed_with_reference_sales()
    {
        using var tmp = TestData.NewTempDir();
        var lake = Path.Combine(tmp.Path, "lake", "b1");
        var res = await new BatchIngestor().IngestAsync(Request(TestData.Shipped("superstore/superstore.csv.gz"), lake, Superstore), null, Ct);
        Assert.False(res.Failed, res.FailureReason);
        Assert.Equal((9_994L, 9_994L, 0L), (res.RecordsRead, res.RecordsWritten, res.RecordsFailed));
        Assert.Equal(2_297_200.86, Convert.ToDouble(Scalar($"SELECT round(sum(Sales), 2) FROM read_parquet('{lake}/part-*.parquet')")), 2);
        Assert.Equal("DATE", Scalar($"SELECT typeof(\"Order Date\") FROM read_parquet('{lake}/part-*.parquet') LIMIT 1"));
    }

    [Fact]
    public async Task Bank_marketing_with_semicolon_delimiter_lands_45211_rows()
    {
        using var tmp = TestData.NewTempDir();
        var schema = new SchemaDefinition("bank", SchemaClass.Profile,
        [
            F("age", FieldType.Integer, true), F("job", FieldType.String), F("balance", FieldType.Integer), F("duration", FieldType.Integer),
            F("pdays", FieldType.Integer), F("y", FieldType.String, en: ["yes", "no"]),
        ]);
        var lake = Path.Combine(tmp.Path, "lake", "b1");
        var res = await new BatchIngestor().IngestAsync(Request(TestData.Shipped("bank_marketing/bank-full.csv.gz"), lake, schema, new IngestOptions { Delimiter = ';' }), null, Ct);
        Assert.False(res.Failed, res.FailureReason);
        Assert.Equal((45_211L, 45_211L), (res.RecordsRead, res.RecordsWritten));
        Assert.Equal(5_289L, Convert.ToInt64(Scalar($"SELECT count(*) FROM read_parquet('{lake}/part-*.parquet') WHERE y = 'yes'")));
    }

    [Fact]
    public async Task Every_format_lands_the_same_records()
    {
        using var tmp = TestData.NewTempDir();
        var csv = Write(tmp.Path, "p.csv", "id,email,age,vip,person.tier\nA,a@x.com,30,true,gold\nB,b@x.com,,false,silver\n");
        var gz = Path.Combine(tmp.Path, "p.csv.gz");
        using (var o = new System.IO.Compression.GZipStream(File.Create(gz), System.IO.Compression.CompressionLevel.Fastest))
            o.Write(File.ReadAllBytes(csv));
        var json = Write(tmp.Path, "p.json", """[{"id":"A","email":"a@x.com","age":30,"vip":true,"person":{"tier":"gold"}},{"id":"B","email":"b@x.com","age":null,"vip":false,"person":{"tier":"silver"}}]""");
        var jsonl = Write(tmp.Path, "p.jsonl", "{\"id\":\"A\",\"email\":\"a@x.com\",\"age\":30,\"vip\":true,\"person\":{\"tier\":\"gold\"}}\n\n{\"id\":\"B\",\"email\":\"b@x.com\",\"vip\":false,\"person\":{\"tier\":\"silver\"}}\n");
        var parquet = Path.Combine(tmp.Path, "p.parquet");
        Scalar($"COPY (SELECT * FROM read_csv('{csv}')) TO '{parquet}' (FORMAT parquet)");
        var schema = new SchemaDefinition("p", SchemaClass.Profile,
            [F("id", FieldType.String, true, "CRMID"), F("email", FieldType.String, ns: "Email"), F("age", FieldType.Integer), F("vip", FieldType.Boolean), F("person.tier", FieldType.String, en: ["gold", "silver"])]);
        foreach (var (file, format) in new[] { (csv, InputFormat.Csv), (gz, InputFormat.Csv), (json, InputFormat.JsonArray), (jsonl, InputFormat.JsonLines), (parquet, InputFormat.Parquet) })
        {
            var lake = Path.Combine(tmp.Path, "lake", Path.GetFileName(file).Replace('.', '_'));
            var res = await new BatchIngestor().IngestAsync(Request(file, lake, schema), null, Ct);
            Assert.False(res.Failed, file + ": " + res.FailureReason);
            Assert.Equal(format, res.Format);
            Assert.Equal((2L, 2L), (res.RecordsRead, res.RecordsWritten));
            Assert.Equal("gold|silver", Scalar($"SELECT string_agg(\"person.tier\", '|' ORDER BY id) FROM read_parquet('{lake}/part-*.parquet')"));
            Assert.Equal(30L, Convert.ToInt64(Scalar($"SELECT sum(age)::BIGINT FROM read_parquet('{lake}/part-*.parquet')")));
        }
    }

    [Fact]
    public async Task A_partial_batch_keeps_good_rows_and_reports_each_rejected_row_with_its_reason()
    {
        using var tmp = TestData.NewTempDir();
        var lines = new List<string> { "id,email,age,tier" };
        for (var i = 1; i <= 100; i++) lines.Add($"C{i},u{i}@x.com,{20 + i % 50},gold");
        lines[10] = "C10,u10@x.com,ten,gold";      // row 10: TYPE_MISMATCH
        lines[20] = "C20,u20@x.com,30,bronze";     // row 20: ENUM_VIOLATION
        lines[30] = "C30,u30@x.com,30";            // row 30: ragged
        var file = Write(tmp.Path, "partial.csv", string.Join("\n", lines));
        var lake = Path.Combine(tmp.Path, "lake", "b1");
        var res = await new BatchIngestor().IngestAsync(Request(file, lake, Small), null, Ct);
        Assert.False(res.Failed, res.FailureReason);
        Assert.Equal((100L, 97L, 3L), (res.RecordsRead, res.RecordsWritten, res.RecordsFailed));
        Assert.Equal(97, Count(lake));
        var page = BatchErrors.Read(lake, 0, 10);
        Assert.Equal(3, page.Total);
        Assert.Equal([(10L, "TYPE_MISMATCH", "age"), (20L, "ENUM_VIOLATION", "tier"), (30L, "PARSE_ERROR", null)],
            page.Items.Select(e => (e.Row, e.Code, e.Field)));
        Assert.Contains("expected 4 fields, found 3", page.Items[2].Message);
        Assert.Equal("C10,u10@x.com,ten,gold", page.Items[0].Raw);
        Assert.Equal(2, BatchErrors.Read(lake, 1, 10).Items.Count);
        Assert.Contains(res.ErrorSummary, s => s.Code == "TYPE_MISMATCH" && s.Field == "age" && s.Count == 1 && s.Example.StartsWith("row 10"));
        var csvOut = Path.Combine(tmp.Path, "errors.csv");
        Assert.True(BatchErrors.ExportCsv(lake, csvOut));
        Assert.Equal(4, File.ReadAllLines(csvOut).Length);
    }

    [Fact]
    public async Task A_batch_over_its_threshold_fails_with_the_reason_and_keeps_only_the_rejected_rows()
    {
        using var tmp = TestData.NewTempDir();
        var lines = new List<string> { "id,age" };
        for (var i = 1; i <= 1000; i++) lines.Add(i % 8 == 0 ? $"C{i},old" : $"C{i},{i % 90}");
        var file = Write(tmp.Path, "bad.csv", string.Join("\n", lines));
        var lake = Path.Combine(tmp.Path, "lake", "b1");
        var res = await new BatchIngestor().IngestAsync(Request(file, lake, Small), null, Ct);
        Assert.True(res.Failed);
        Assert.Equal("12.5% of records were rejected (125 of 1,000), above the 5% threshold", res.FailureReason);
        Assert.Empty(res.Files);
        Assert.Empty(Directory.GetFiles(lake, "part-*.parquet"));
        Assert.True(File.Exists(Path.Combine(lake, LakeFolders.FailedMarker)));
        Assert.Equal(125, BatchErrors.Read(lake).Total);
        var lenient = await new BatchIngestor().IngestAsync(Request(file, lake, Small, new IngestOptions { ErrorThresholdPercent = 20 }), null, Ct);
        Assert.False(lenient.Failed);
        Assert.Equal(875, Count(lake));
    }

    [Fact]
    public async Task A_run_cancelled_half_way_or_crashed_leaves_nothing_and_the_rerun_stores_the_rows_exactly_once()
    {
        using var tmp = TestData.NewTempDir();
        var lake = Path.Combine(tmp.Path, "lake", "retail", "b1");
        var req = Request(TestData.Shipped("online_retail/online_retail.csv.gz"), lake, Retail, RetailOptions);
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p => { if (p.RecordsRead >= 100_000) cts.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Run(() => new BatchIngestor().Ingest(req, progress, cts.Token), Ct));
        Assert.False(Directory.Exists(lake));
        // A crash leaves a temp folder with a half-written part file behind.
        var leftover = Path.Combine(tmp.Path, "lake", "retail", LakeFolders.TempFolderName, "b1-deadbeef");
        Directory.CreateDirectory(leftover);
        File.WriteAllText(Path.Combine(leftover, "part-00000.parquet"), "half");
        var res = await new BatchIngestor().IngestAsync(req, null, Ct);
        Assert.False(res.Failed, res.FailureReason);
        Assert.False(Directory.Exists(leftover));
        Assert.Equal(541_909, Count(lake));
        Assert.Equal(541_909, Count(Path.Combine(tmp.Path, "lake", "retail", "*")));
    }

    [Fact]
    public async Task Preview_shows_columns_first_rows_and_a_suggested_mapping()
    {
        var p = await IngestPreview.PreviewAsync(TestData.Shipped("superstore/superstore.csv.gz"), "superstore.csv.gz", ',', 5, Superstore, Ct);
        Assert.Null(p.Error);
        Assert.Equal(21, p.Columns.Count);
        Assert.Equal(5, p.Rows.Count);
        Assert.Equal("CA-2016-152156", p.Rows[0][1]);
        Assert.Equal("Order Date", p.SuggestedMapping["Order Date"]);
    }

    [Fact]
    public async Task Streamed_micro_batches_are_written_atomically()
    {
        using var tmp = TestData.NewTempDir();
        using var doc = System.Text.Json.JsonDocument.Parse("""{"id":"A","email":"A@X.com","age":3,"born":"2001-02-03","seen":"2024-01-01T10:00:00Z"}""");
        var v = RecordValidator.Validate(Small, doc.RootElement, Namespaces);
        Assert.True(v.Accepted);
        var lake = Path.Combine(tmp.Path, "lake", "stream-1");
        var files = LakeWriter.WriteRecords(lake, Small, [v.Record!, v.Record!]);
        Assert.Equal(2, files.Single().Records);
        Assert.True(LakeFolders.IsComplete(lake));
        Assert.Equal("a@x.com", Scalar($"SELECT min(email) FROM read_parquet('{lake}/part-*.parquet')"));
        await Task.CompletedTask;
    }

    private sealed class SyncProgress(Action<IngestProgress> a) : IProgress<IngestProgress>
    {
        public void Report(IngestProgress value) => a(value);
    }
}
