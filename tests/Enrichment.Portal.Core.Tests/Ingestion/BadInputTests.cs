using System.IO.Compression;
using System.Text;
using Enrichment.Portal.Core.Ingestion;
using static Enrichment.Portal.Core.Tests.Ingestion.IngestionTestKit;

namespace Enrichment.Portal.Core.Tests.Ingestion;

public class BadInputTests
{
    private static async Task<IngestResult> Ingest(string file, Enrichment.Portal.Core.Schemas.SchemaDefinition? schema = null)
    {
        var lake = Path.Combine(Path.GetDirectoryName(file)!, "lake", "b-" + Path.GetFileName(file).Replace('.', '_'));
        return await new BatchIngestor().IngestAsync(Request(file, lake, schema ?? Small), null, TestContext.Current.CancellationToken);
    }

    private static void AssertFailed(IngestResult r, string reasonPart)
    {
        Assert.True(r.Failed);
        Assert.Contains(reasonPart, r.FailureReason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_truncated_gzip_fails_with_a_clear_reason()
    {
        using var tmp = TestData.NewTempDir();
        var whole = File.ReadAllBytes(TestData.Shipped("superstore/superstore.csv.gz"));
        var file = Path.Combine(tmp.Path, "cut.csv.gz");
        File.WriteAllBytes(file, whole[..(whole.Length / 2)]);
        AssertFailed(await Ingest(file, Superstore), "truncated");
    }

    [Fact]
    public async Task Binary_garbage_fails_as_not_text()
    {
        using var tmp = TestData.NewTempDir();
        var bytes = new byte[100_000];
        new Random(7).NextBytes(bytes);
        var file = Path.Combine(tmp.Path, "garbage.csv");
        File.WriteAllBytes(file, bytes);
        AssertFailed(await Ingest(file), "binary");
    }

    [Fact]
    public async Task Invalid_utf8_fails_as_not_utf8()
    {
        using var tmp = TestData.NewTempDir();
        var file = Path.Combine(tmp.Path, "latin1.csv");
        File.WriteAllBytes(file, [.. Encoding.ASCII.GetBytes("id,age\nA,1\nB"), 0xE9, 0xFF, .. Encoding.ASCII.GetBytes(",2\n")]);
        AssertFailed(await Ingest(file), "not valid UTF-8");
    }

    [Fact]
    public async Task A_ten_thousand_column_header_fails_over_the_column_limit()
    {
        using var tmp = TestData.NewTempDir();
        var file = Write(tmp.Path, "wide.csv", string.Join(",", Enumerable.Range(0, 10_000).Select(i => "c" + i)) + "\n" + string.Join(",", Enumerable.Range(0, 10_000)) + "\n");
        AssertFailed(await Ingest(file), "10,000 columns");
    }

    [Fact]
    public async Task A_50_MB_single_field_is_rejected_as_too_large_without_holding_it()
    {
        using var tmp = TestData.NewTempDir();
        var file = Path.Combine(tmp.Path, "huge.csv");
        using (var w = new StreamWriter(file))
        {
            w.Write("id,age\nA,1\n\"");
            var chunk = new string('x', 1 << 20);
            for (var i = 0; i < 50; i++) w.Write(chunk);
            w.Write("\",2\n");
        }
        var r = await Ingest(file);
        AssertFailed(r, "50% of records were rejected");
        Assert.Equal(ErrorCodes.RecordTooLarge, Assert.Single(r.ErrorSummary).Code);
    }

    [Fact]
    public async Task Json_nested_10000_deep_fails_with_a_json_reason()
    {
        using var tmp = TestData.NewTempDir();
        var deep = new string('[', 10_000) + new string(']', 10_000);
        AssertFailed(await Ingest(Write(tmp.Path, "deep.json", "[{\"id\":\"A\",\"x\":" + deep + "}]")), "JSON");
        var lines = await Ingest(Write(tmp.Path, "deep.jsonl", "{\"id\":\"A\",\"x\":" + deep + "}\n"));
        Assert.True(lines.Failed);
        Assert.Equal(ErrorCodes.ParseError, Assert.Single(lines.ErrorSummary).Code);
    }

    [Fact]
    public async Task Empty_files_header_only_files_and_broken_parquet_fail_with_reasons()
    {
        using var tmp = TestData.NewTempDir();
        AssertFailed(await Ingest(Write(tmp.Path, "empty.csv", "")), "empty");
        AssertFailed(await Ingest(Write(tmp.Path, "header.csv", "id,age\n")), "header but no records");
        AssertFailed(await Ingest(Write(tmp.Path, "fake.parquet", "id,age\n1,2\n")), "not a Parquet file");
        AssertFailed(await Ingest(Write(tmp.Path, "open.json", "[{\"id\":\"A\"},{\"id\":")), "JSON");
        AssertFailed(await Ingest(Write(tmp.Path, "nomap.csv", "age\n1\n")), "required field 'id' is not mapped");
        var emptyGz = Path.Combine(tmp.Path, "empty.csv.gz");
        using (new GZipStream(File.Create(emptyGz), CompressionLevel.Fastest)) { }
        AssertFailed(await Ingest(emptyGz), "empty");
    }
}
