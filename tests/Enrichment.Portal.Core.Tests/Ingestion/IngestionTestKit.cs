using DuckDB.NET.Data;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Schemas;

namespace Enrichment.Portal.Core.Tests.Ingestion;

internal static class IngestionTestKit
{
    public static readonly IReadOnlyDictionary<string, NamespaceInfo> Namespaces =
        BuiltInNamespaces.All.ToDictionary(n => n.Code, StringComparer.OrdinalIgnoreCase);

    public static SchemaField F(string path, FieldType type, bool required = false, string? ns = null, IReadOnlyList<string>? en = null) =>
        new() { Path = path, Type = type, Required = required, Identity = ns is null ? null : new IdentityMapping(ns, true), Enum = en };

    /// <summary>Online Retail as purchase events; CustomerID is a CRMID identity that is not required.</summary>
    public static SchemaDefinition Retail => new("retail", SchemaClass.Event,
    [
        F("InvoiceNo", FieldType.String, true), F("StockCode", FieldType.String), F("Description", FieldType.String),
        F("Quantity", FieldType.Integer), F("timestamp", FieldType.DateTime), F("UnitPrice", FieldType.Number),
        F("CustomerID", FieldType.String, ns: "CRMID"), F("Country", FieldType.String), F("eventType", FieldType.String),
    ]);

    public static IngestOptions RetailOptions => new()
    {
        Mapping = new Dictionary<string, string>
        {
            ["InvoiceNo"] = "InvoiceNo", ["StockCode"] = "StockCode", ["Description"] = "Description", ["Quantity"] = "Quantity",
            ["InvoiceDate"] = "timestamp", ["UnitPrice"] = "UnitPrice", ["CustomerID"] = "CustomerID", ["Country"] = "Country",
        },
        Constants = new Dictionary<string, string> { ["eventType"] = "commerce.purchase" },
    };

    public static SchemaDefinition Superstore => new("superstore", SchemaClass.Profile,
    [
        F("Row ID", FieldType.Integer, true), F("Order ID", FieldType.String, true), F("Order Date", FieldType.Date),
        F("Ship Date", FieldType.Date), F("Ship Mode", FieldType.String), F("Customer ID", FieldType.String, ns: "CRMID"),
        F("Customer Name", FieldType.String), F("Segment", FieldType.String, en: ["Consumer", "Corporate", "Home Office"]),
        F("Postal Code", FieldType.Integer), F("Category", FieldType.String), F("Sales", FieldType.Number),
        F("Quantity", FieldType.Integer), F("Discount", FieldType.Number), F("Profit", FieldType.Number),
    ]);

    public static SchemaDefinition Small => new("people", SchemaClass.Profile,
    [
        F("id", FieldType.String, true, "CRMID"), F("email", FieldType.String, ns: "Email"), F("age", FieldType.Integer),
        F("score", FieldType.Number), F("vip", FieldType.Boolean), F("born", FieldType.Date), F("seen", FieldType.DateTime),
        F("tier", FieldType.String, en: ["gold", "silver"]),
    ]);

    public static IngestRequest Request(string file, string lake, SchemaDefinition schema, IngestOptions? options = null, string? fileName = null) =>
        new(file, fileName ?? Path.GetFileName(file), schema, Namespaces, lake, "b1") { Options = options ?? new IngestOptions() };

    public static object? Scalar(string sql)
    {
        using var c = new DuckDBConnection("Data Source=:memory:");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    public static long Count(string lake) =>
        Convert.ToInt64(Scalar($"SELECT count(*) FROM read_parquet('{Path.Combine(lake, "part-*.parquet")}')"));

    public static string Write(string dir, string name, string content)
    {
        var p = Path.Combine(dir, name);
        File.WriteAllText(p, content);
        return p;
    }
}
