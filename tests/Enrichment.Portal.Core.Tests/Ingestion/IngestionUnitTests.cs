using System.Text;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Ingestion.Readers;
using Enrichment.Portal.Core.Schemas;
using static Enrichment.Portal.Core.Tests.Ingestion.IngestionTestKit;

namespace Enrichment.Portal.Core.Tests.Ingestion;

public class CsvRecordReaderTests
{
    private static List<List<string>> ReadAll(string text, char delim = ',')
    {
        var r = new CsvRecordReader(new StringReader(text), delim, '"');
        var all = new List<List<string>>();
        var f = new List<string>();
        while (r.TryRead(f, out var s)) all.Add(s == CsvRecordStatus.Ok ? [.. f] : ["<" + s + ">"]);
        return all;
    }

    [Fact]
    public void Quoted_fields_keep_delimiters_doubled_quotes_and_embedded_newlines()
    {
        var rows = ReadAll("a,b\n\"x, y\",\"say \"\"hi\"\"\"\n\"line1\nline2\",z\n");
        Assert.Equal(3, rows.Count);
        Assert.Equal(["x, y", "say \"hi\""], rows[1]);
        Assert.Equal(["line1\nline2", "z"], rows[2]);
    }

    [Fact]
    public void Crlf_and_lf_line_endings_give_the_same_records_and_blank_lines_are_skipped()
    {
        Assert.Equal(ReadAll("a,b\n1,2\n\n3,4"), ReadAll("a,b\r\n1,2\r\n\r\n3,4\r\n"));
        Assert.Equal(3, ReadAll("a,b\r\n1,2\r\n3,4\r\n").Count);
    }

    [Fact]
    public void Ragged_rows_come_back_with_their_own_field_count()
    {
        var rows = ReadAll("a,b,c\n1,2\n1,2,3,4\n,,\n");
        Assert.Equal([2, 4, 3], rows.Skip(1).Select(r => r.Count));
        Assert.Equal(["", "", ""], rows[3]);
    }

    [Fact]
    public void An_unterminated_quote_and_an_oversized_record_are_reported()
    {
        Assert.Equal("<UnterminatedQuote>", ReadAll("a\n\"open\n1\n")[1][0]);
        var r = new CsvRecordReader(new StringReader("a\n" + new string('x', 5000) + "\nok\n"), ',', '"') { MaxRecordChars = 100 };
        var f = new List<string>();
        Assert.True(r.TryRead(f, out _));
        Assert.True(r.TryRead(f, out var s));
        Assert.Equal(CsvRecordStatus.TooLarge, s);
        Assert.True(r.TryRead(f, out s));
        Assert.Equal((CsvRecordStatus.Ok, "ok"), (s, f[0]));
    }

    [Fact]
    public async Task A_utf8_bom_and_crlf_file_ingests_with_a_clean_first_column_name()
    {
        using var tmp = TestData.NewTempDir();
        var file = Path.Combine(tmp.Path, "bom.csv");
        File.WriteAllBytes(file, [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes("id,age\r\nA1,30\r\nA2,31\r\n")]);
        var res = await new BatchIngestor().IngestAsync(Request(file, Path.Combine(tmp.Path, "lake", "b1"), Small), null, TestContext.Current.CancellationToken);
        Assert.False(res.Failed, res.FailureReason);
        Assert.Equal(2, res.RecordsWritten);
    }
}

public class ValueCoercionTests
{
    private static object? Coerce(string raw, FieldType t, string? df = null, string? tf = null)
    {
        Assert.True(new ValueCoercer(df, tf).TryCoerce(raw, new SchemaField { Path = "x", Type = t }, out var v, out var e), e);
        return v;
    }

    private static bool Fails(string raw, FieldType t) => !new ValueCoercer().TryCoerce(raw, new SchemaField { Path = "x", Type = t }, out _, out _);

    [Fact]
    public void Text_is_coerced_to_each_field_type()
    {
        Assert.Equal(42L, Coerce(" 42 ", FieldType.Integer));
        Assert.Equal(42L, Coerce("42.0", FieldType.Integer));
        Assert.Equal(-1.5e3, Coerce("-1.5e3", FieldType.Number));
        Assert.Equal(true, Coerce("Yes", FieldType.Boolean));
        Assert.Equal(false, Coerce("0", FieldType.Boolean));
        Assert.Equal(new DateOnly(2016, 11, 8), Coerce("2016-11-08", FieldType.Date));
        Assert.Equal(new DateOnly(2016, 11, 8), Coerce("08/11/2016", FieldType.Date, df: "dd/MM/yyyy"));
        Assert.Equal(new DateTime(2010, 12, 1, 8, 26, 0, DateTimeKind.Utc), Coerce("2010-12-01 08:26:00", FieldType.DateTime));
        Assert.Equal(new DateTime(2010, 12, 1, 7, 26, 0, DateTimeKind.Utc), Coerce("2010-12-01T08:26:00+01:00", FieldType.DateTime));
        Assert.Equal(" keep ", Coerce(" keep ", FieldType.String));
        Assert.Equal("[1,2]", Coerce("[1,2]", FieldType.Array));
    }

    [Fact]
    public void Blank_text_in_non_string_fields_is_null()
    {
        foreach (var t in new[] { FieldType.Integer, FieldType.Number, FieldType.Boolean, FieldType.Date, FieldType.DateTime })
            Assert.Null(Coerce("  ", t));
    }

    [Fact]
    public void Values_of_the_wrong_type_fail()
    {
        Assert.True(Fails("12a", FieldType.Integer));
        Assert.True(Fails("1.5", FieldType.Integer));
        Assert.True(Fails("NaN", FieldType.Number));
        Assert.True(Fails("maybe", FieldType.Boolean));
        Assert.True(Fails("2016-13-45", FieldType.Date));
        Assert.True(Fails("yesterday", FieldType.DateTime));
        Assert.True(Fails("{not json", FieldType.Map));
    }

    [Fact]
    public void Streaming_records_are_validated_with_codes_per_field()
    {
        using var ok = System.Text.Json.JsonDocument.Parse("""{"id":" C-1 ","email":"Jane@X.com ","age":"41","vip":true,"tier":"gold"}""");
        var v = RecordValidator.Validate(Small, ok.RootElement, Namespaces);
        Assert.True(v.Accepted);
        Assert.Equal("jane@x.com", v.Record!["email"]);
        Assert.Equal("C-1", v.Record["id"]);
        Assert.Equal(41L, v.Record["age"]);

        using var bad = System.Text.Json.JsonDocument.Parse("""{"email":"nope","age":"x","tier":"bronze"}""");
        var b = RecordValidator.Validate(Small, bad.RootElement, Namespaces);
        Assert.False(b.Accepted);
        Assert.Equal(["ENUM_VIOLATION", "INVALID_IDENTITY", "REQUIRED_MISSING", "TYPE_MISMATCH"], b.Errors.Select(e => e.Code).Order());
    }

    [Fact]
    public void Event_schemas_require_timestamp_and_event_type_and_records_over_10_KB_are_too_large()
    {
        var ev = new SchemaDefinition("ev", SchemaClass.Event, [F("timestamp", FieldType.DateTime), F("eventType", FieldType.String), F("note", FieldType.String)]);
        using var missing = System.Text.Json.JsonDocument.Parse("""{"note":"x"}""");
        Assert.Equal(2, RecordValidator.Validate(ev, missing.RootElement, Namespaces).Errors.Count(e => e.Code == ErrorCodes.RequiredMissing));
        using var big = System.Text.Json.JsonDocument.Parse($$"""{"timestamp":"2020-01-01","eventType":"a","note":"{{new string('x', 11_000)}}"}""");
        Assert.Equal(ErrorCodes.RecordTooLarge, RecordValidator.Validate(ev, big.RootElement, Namespaces).Errors.Single().Code);
        Assert.Throws<ArgumentException>(() => new RecordValidator(new SchemaDefinition("bad", SchemaClass.Event, [F("x", FieldType.String)])));
    }
}

public class ThresholdAndNormalizerTests
{
    [Fact]
    public void The_batch_fails_only_when_the_rejected_share_is_above_the_threshold()
    {
        Assert.Null(ErrorThreshold.Check(100, 5, 5));
        Assert.Null(ErrorThreshold.Check(100, 0, 0));
        Assert.NotNull(ErrorThreshold.Check(100, 1, 0));
        Assert.Equal("12.4% of records were rejected (124 of 1,000), above the 5% threshold", ErrorThreshold.Check(1000, 124, 5));
        Assert.NotNull(ErrorThreshold.Check(1_000_000, 50_001, 5));
        Assert.Null(ErrorThreshold.Check(1_000_000, 50_000, 5));
        Assert.Equal(12.5, ErrorThreshold.RejectedPercent(8, 1));
    }

    [Fact]
    public void Identity_values_are_normalized_per_namespace()
    {
        Assert.Equal(IdentityNormalizer.Normalize(NormalizerKind.Email, "jane@x.com"), IdentityNormalizer.Normalize(NormalizerKind.Email, "Jane@X.com "));
        Assert.Equal("jane@x.com", IdentityNormalizer.Normalize(NormalizerKind.Email, " Jane@X.com "));
        Assert.Null(IdentityNormalizer.Normalize(NormalizerKind.Email, "jane.x.com"));
        Assert.Null(IdentityNormalizer.Normalize(NormalizerKind.Email, "a@b@c"));
        Assert.Equal("15550102030", IdentityNormalizer.Normalize(NormalizerKind.Phone, "+1 (555) 010-2030"));
        Assert.Equal("0612345678", IdentityNormalizer.Normalize(NormalizerKind.Phone, "06 12 34 56 78"));
        Assert.Null(IdentityNormalizer.Normalize(NormalizerKind.Phone, "call me"));
        Assert.Equal("C-17", IdentityNormalizer.Normalize(NormalizerKind.Id, "  C-17 "));
        Assert.Null(IdentityNormalizer.Normalize(NormalizerKind.Id, "   "));
    }

    [Fact]
    public void Mapping_suggestions_match_names_case_insensitively_and_ignoring_punctuation()
    {
        var schema = new SchemaDefinition("s", SchemaClass.Profile, [F("customerId", FieldType.String), F("person.email", FieldType.String), F("Age", FieldType.Integer)]);
        var m = MappingSuggester.Suggest(["Customer ID", "EMAIL", "age", "other"], schema);
        Assert.Equal("customerId", m["Customer ID"]);
        Assert.Equal("person.email", m["EMAIL"]);
        Assert.Equal("Age", m["age"]);
        Assert.False(m.ContainsKey("other"));
    }
}
