using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Schemas;
using static Enrichment.Portal.Core.Tests.Ingestion.IngestionTestKit;

namespace Enrichment.Portal.Core.Tests.Ingestion;

public class SchemaInferenceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Superstore_infers_every_column_typed_with_the_customer_id_as_primary_and_ingests_without_rejects()
    {
        var file = TestData.Shipped("superstore/superstore.csv.gz");
        var inferred = await SchemaInference.InferAsync(file, "superstore.csv.gz", ct: Ct);
        Assert.Null(inferred.Error);
        Assert.Equal(21, inferred.Fields.Count);
        Assert.Equal(SchemaInference.DefaultSampleRows, inferred.SampledRows);
        var byColumn = inferred.Fields.ToDictionary(f => f.Column);
        Assert.Equal(("customerId", FieldType.String, "CRMID", true), (byColumn["Customer ID"].Path, byColumn["Customer ID"].Type, byColumn["Customer ID"].Identity?.Namespace, byColumn["Customer ID"].Identity?.Primary));
        Assert.True(byColumn["Customer ID"].Required);
        Assert.Equal(("orderDate", FieldType.Date), (byColumn["Order Date"].Path, byColumn["Order Date"].Type));
        Assert.Equal(("subCategory", FieldType.String), (byColumn["Sub-Category"].Path, byColumn["Sub-Category"].Type));
        Assert.Equal(FieldType.Number, byColumn["Sales"].Type);
        Assert.Equal(FieldType.Integer, byColumn["Quantity"].Type);
        Assert.Equal(FieldType.Integer, byColumn["Postal Code"].Type);
        Assert.Single(inferred.Fields, f => f.Identity is not null);
        Assert.Empty(SchemaRules.Validate(new SchemaDefinition("s", SchemaClass.Profile, inferred.ToSchemaFields()), Enrichment.Portal.Core.Identity.BuiltInNamespaces.Find));
        Assert.Empty(SchemaRules.ProfileBlockers(new SchemaDefinition("s", SchemaClass.Profile, inferred.ToSchemaFields())));

        using var tmp = TestData.NewTempDir();
        var lake = Path.Combine(tmp.Path, "lake", "b1");
        var schema = new SchemaDefinition("superstore", SchemaClass.Profile, inferred.ToSchemaFields());
        var res = await new BatchIngestor().IngestAsync(Request(file, lake, schema, new IngestOptions { Mapping = inferred.Mapping }), null, Ct);
        Assert.False(res.Failed, res.FailureReason);
        Assert.Equal((9_994L, 9_994L, 0L), (res.RecordsRead, res.RecordsWritten, res.RecordsFailed));
        Assert.Equal(2_297_200.86, Convert.ToDouble(Scalar($"SELECT round(sum(sales), 2) FROM read_parquet('{lake}/part-*.parquet')")), 2);
        Assert.Equal("DATE", Scalar($"SELECT typeof(orderDate) FROM read_parquet('{lake}/part-*.parquet') LIMIT 1"));
    }

    [Fact]
    public async Task Semicolon_csv_json_lines_and_parquet_infer_types_emails_and_leading_zero_codes()
    {
        using var tmp = TestData.NewTempDir();
        var csv = Write(tmp.Path, "p.csv", "Contact;zip;score;vip;signed up;Last Seen\nann@x.com;01234;1.5;yes;2024-01-02;2024-01-02 10:00:00\nbob@y.org;02345;2;no;2024-02-03;2024-02-03 11:30:00\n");
        var fromCsv = await SchemaInference.InferAsync(csv, "p.csv", ct: Ct);
        Assert.Null(fromCsv.Error);
        Assert.Equal(';', fromCsv.Delimiter);
        Assert.Equal(["contact", "zip", "score", "vip", "signedUp", "lastSeen"], fromCsv.Fields.Select(f => f.Path));
        Assert.Equal([FieldType.String, FieldType.String, FieldType.Number, FieldType.Boolean, FieldType.Date, FieldType.DateTime], fromCsv.Fields.Select(f => f.Type));
        Assert.Equal(new IdentityMapping("Email", true), fromCsv.Fields[0].Identity); // by its values: no "email" in the name
        Assert.Contains("leading zeros", fromCsv.Fields[1].Reason);

        var jsonl = Write(tmp.Path, "e.jsonl", "{\"userId\":\"u1\",\"event\":\"view\",\"at\":\"2024-01-02T10:00:00Z\",\"page\":{\"url\":\"/a\"},\"n\":3}\n{\"userId\":\"u2\",\"event\":\"buy\",\"at\":\"2024-01-03T11:00:00Z\",\"page\":{\"url\":\"/b\"},\"n\":4}\n");
        var events = await SchemaInference.InferAsync(jsonl, "e.jsonl", SchemaClass.Event, ct: Ct);
        Assert.Null(events.Error);
        Assert.Equal(InputFormat.JsonLines, events.Format);
        Assert.Equal(["userId", "eventType", "timestamp", "page.url", "n"], events.Fields.Select(f => f.Path));
        Assert.Equal("CRMID", events.Fields[0].Identity?.Namespace);
        Assert.Equal(FieldType.DateTime, events.Fields[2].Type);
        Assert.Empty(SchemaRules.Validate(new SchemaDefinition("e", SchemaClass.Event, events.ToSchemaFields()), Enrichment.Portal.Core.Identity.BuiltInNamespaces.Find));

        var parquet = Path.Combine(tmp.Path, "p.parquet");
        Scalar($"COPY (SELECT 'C' || i::VARCHAR AS \"Customer ID\", i AS visits, i * 1.5 AS spend, DATE '2024-01-01' + i::INTEGER AS since FROM range(1, 50) t(i)) TO '{parquet}' (FORMAT parquet)");
        var fromParquet = await SchemaInference.InferAsync(parquet, "p.parquet", ct: Ct);
        Assert.Null(fromParquet.Error);
        Assert.Equal([FieldType.String, FieldType.Integer, FieldType.Number, FieldType.Date], fromParquet.Fields.Select(f => f.Type));
        Assert.True(fromParquet.Fields[0].Identity?.Primary);
    }

    [Fact]
    public async Task A_file_that_is_not_data_gives_an_error_and_no_fields()
    {
        using var tmp = TestData.NewTempDir();
        var bad = Write(tmp.Path, "x.parquet", "id,age\n1,2\n");
        var r = await SchemaInference.InferAsync(bad, "x.parquet", ct: Ct);
        Assert.NotNull(r.Error);
        Assert.Empty(r.Fields);
    }

    [Theory]
    [InlineData("Customer ID", "customerId")]
    [InlineData("Sub-Category", "subCategory")]
    [InlineData("person.First Name", "person.firstName")]
    [InlineData("2nd address", "_2ndAddress")]
    [InlineData("URL", "url")]
    public void Column_names_become_valid_camel_case_paths(string column, string path)
    {
        Assert.Equal(path, SchemaInference.ToPath(column));
        Assert.True(SchemaPaths.IsValidPath(path));
    }
}
