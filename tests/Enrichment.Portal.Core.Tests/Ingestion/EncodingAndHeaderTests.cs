using System.Text;
using Enrichment.Portal.Core.Ingestion.LakeWriters;
using Enrichment.Portal.Core.Ingestion.Readers;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Lake;
using static Enrichment.Portal.Core.Tests.Ingestion.IngestionTestKit;

namespace Enrichment.Portal.Core.Tests.Ingestion;

/// <summary>Issue #21: invalid bytes reject only their records (with the real row number), encodings are an option, duplicate headers are refused.</summary>
public class EncodingAndHeaderTests
{
    private static readonly byte[] Header = Encoding.ASCII.GetBytes("id,email,age\n");

    private static async Task<(IngestResult Result, string Lake)> Ingest(string file, IngestOptions? options = null)
    {
        var lake = Path.Combine(Path.GetDirectoryName(file)!, "lake", "b-" + Path.GetFileName(file).Replace('.', '_'));
        var r = await new BatchIngestor().IngestAsync(Request(file, lake, Small, options), null, TestContext.Current.CancellationToken);
        return (r, lake);
    }

    private static string WriteBytes(string dir, string name, params byte[][] parts)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, parts.SelectMany(p => p).ToArray());
        return path;
    }

    private static byte[] A(string s) => Encoding.ASCII.GetBytes(s);

    [Fact]
    public async Task Invalid_utf8_in_the_second_row_rejects_that_row_with_its_number_and_keeps_the_others()
    {
        using var tmp = TestData.NewTempDir();
        var file = WriteBytes(tmp.Path, "mixed.csv", Header, A("A,a@x.org,1\nB,b@x.org,2\nC,Ren"), [0xE9], A("e@x.org,3\nD,d@x.org,4\n"));
        // 1 of 4 rejected = 25%: within a 60% threshold the batch succeeds with the three good rows.
        var (r, lake) = await Ingest(file, new IngestOptions { ErrorThresholdPercent = 60 });
        Assert.False(r.Failed, r.FailureReason);
        Assert.Equal(4, r.RecordsRead);
        Assert.Equal(3, r.RecordsWritten);
        var rejected = Assert.Single(BatchErrors.Read(lake).Items);
        Assert.Equal(3, rejected.Row);
        Assert.Equal(ErrorCodes.InvalidEncoding, rejected.Code);
        Assert.Contains("0xE9", rejected.Message);
        Assert.Contains("column 'email'", rejected.Message);
        Assert.Contains("Latin-1", rejected.Message);
        Assert.Contains("Ren\\xE9e", rejected.Raw);
        Assert.Equal(3, Count(lake));
    }

    [Fact]
    public async Task A_latin1_file_over_the_threshold_fails_and_says_it_looks_like_latin1()
    {
        using var tmp = TestData.NewTempDir();
        var latin1 = Encoding.Latin1.GetBytes("id,email,age\nA,andré@x.org,1\nB,zoë@x.org,2\nC,c@x.org,3\n");
        var file = WriteBytes(tmp.Path, "latin1.csv", latin1);
        var (r, _) = await Ingest(file);
        Assert.True(r.Failed);
        Assert.Contains("looks like Latin-1", r.FailureReason);
        Assert.Contains("encoding=windows-1252", r.FailureReason);
    }

    [Theory]
    [InlineData("latin1")]
    [InlineData("windows-1252")]
    public async Task A_latin1_file_ingests_whole_with_the_encoding_option(string encoding)
    {
        using var tmp = TestData.NewTempDir();
        var file = WriteBytes(tmp.Path, "latin1.csv", Encoding.Latin1.GetBytes("id,email,age\nA,andré@x.org,1\nB,zoë@x.org,2\n"));
        var (r, lake) = await Ingest(file, new IngestOptions { Encoding = encoding });
        Assert.False(r.Failed, r.FailureReason);
        Assert.Equal(2, r.RecordsWritten);
        Assert.Equal("andré@x.org", Scalar($"SELECT email FROM read_parquet('{Path.Combine(lake, "part-*.parquet")}') WHERE id = 'A'"));
    }

    [Fact]
    public async Task Windows1252_curly_quotes_decode_with_the_encoding_option()
    {
        using var tmp = TestData.NewTempDir();
        var file = WriteBytes(tmp.Path, "cp1252.csv", A("id,email,age\nA,"), [0x93], A("q"), [0x94], A("@x.org,1\n"));
        var (r, lake) = await Ingest(file, new IngestOptions { Encoding = "windows-1252" });
        Assert.False(r.Failed, r.FailureReason);
        Assert.Equal("\u201Cq\u201D@x.org", Scalar($"SELECT email FROM read_parquet('{Path.Combine(lake, "part-*.parquet")}')"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Utf16_with_a_byte_order_mark_is_read_in_either_byte_order(bool bigEndian)
    {
        using var tmp = TestData.NewTempDir();
        var enc = new UnicodeEncoding(bigEndian, byteOrderMark: true);
        var file = WriteBytes(tmp.Path, "utf16.csv", enc.GetPreamble(), enc.GetBytes("id,email,age\nA,żółw@x.org,1\n"));
        var (r, lake) = await Ingest(file, new IngestOptions { Encoding = "utf-16" });
        Assert.False(r.Failed, r.FailureReason);
        Assert.Equal("żółw@x.org", Scalar($"SELECT email FROM read_parquet('{Path.Combine(lake, "part-*.parquet")}')"));
    }

    [Fact]
    public async Task Valid_utf8_with_astral_characters_is_not_mistaken_for_invalid_bytes()
    {
        using var tmp = TestData.NewTempDir();
        var file = Write(tmp.Path, "emoji.csv", "id,email,age\nA,💀@x.org,1\n");
        var (r, _) = await Ingest(file);
        Assert.False(r.Failed, r.FailureReason);
        Assert.Equal(0, r.RecordsFailed);
    }

    [Theory]
    [InlineData("customerId,email,tenure,tenure,name", "'tenure'", "columns 3, 4")]
    [InlineData("id,Email,EMAIL", "'Email'", "columns 2, 3")]
    public async Task Duplicate_header_names_fail_the_batch_naming_the_columns(string header, string name, string columns)
    {
        using var tmp = TestData.NewTempDir();
        var file = Write(tmp.Path, "dup.csv", header + "\n" + string.Join(",", header.Split(',').Select((_, i) => "v" + i)) + "\n");
        var (r, _) = await Ingest(file);
        Assert.True(r.Failed);
        Assert.Contains(name, r.FailureReason);
        Assert.Contains(columns, r.FailureReason);
        Assert.Equal(0, r.RecordsWritten);
    }

    [Fact]
    public async Task The_preview_refuses_duplicate_headers_and_shows_invalid_bytes()
    {
        using var tmp = TestData.NewTempDir();
        var dup = Write(tmp.Path, "dup.csv", "a,b,a\n1,2,3\n");
        Assert.Contains("more than once", (await IngestPreview.PreviewAsync(dup, "dup.csv", ct: TestContext.Current.CancellationToken)).Error);
        var bad = WriteBytes(tmp.Path, "bad.csv", A("a,b\nx"), [0xE9], A(",2\n"));
        var p = await IngestPreview.PreviewAsync(bad, "bad.csv", ct: TestContext.Current.CancellationToken);
        Assert.Null(p.Error);
        Assert.Equal("x\\xE9", p.Rows[0][0]);
    }

    [Theory]
    [InlineData("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0")]
    [InlineData("+1+2", "'+1+2")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tx", "'\tx")]
    [InlineData("-5", "-5")]
    [InlineData("+1.5e3", "+1.5e3")]
    [InlineData("plain", "plain")]
    [InlineData("", "")]
    public void Csv_cells_that_a_spreadsheet_would_run_are_neutralized(string cell, string expected) =>
        Assert.Equal(expected, CsvSafety.Neutralize(cell));

    [Fact]
    public async Task The_rejected_rows_download_neutralizes_formula_cells()
    {
        using var tmp = TestData.NewTempDir();
        var file = Write(tmp.Path, "formula.csv", "id,email,age\n=cmd|'/C calc'!A0,a@x.org,notanumber\nB,b@x.org,2\n");
        var (r, lake) = await Ingest(file, new IngestOptions { ErrorThresholdPercent = 60 });
        Assert.Equal(1, r.RecordsFailed);
        var csv = Path.Combine(tmp.Path, "errors.csv");
        Assert.True(BatchErrors.ExportCsv(lake, csv));
        var text = File.ReadAllText(csv);
        Assert.Contains("'=cmd|", text);
        Assert.DoesNotContain(",=cmd", text);
        Assert.DoesNotContain("\n=cmd", text);
    }
}
