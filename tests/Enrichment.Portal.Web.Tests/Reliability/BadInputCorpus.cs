using System.IO.Compression;
using System.Text;
using DuckDB.NET.Data;

namespace Enrichment.Portal.Web.Tests.Reliability;

/// <summary>What a bad file must end as: rejected whole, or kept in part (the good rows written, the bad ones reported).</summary>
public enum Outcome
{
    /// <summary>A 4xx problem at upload or a failed batch.</summary>
    Rejected,
    /// <summary>A batch that ends with exactly <see cref="BadFile.Good"/> rows written and at least one row-level error.</summary>
    Partial,
    /// <summary>A batch that ends success with exactly <see cref="BadFile.Good"/> rows written and no errors.</summary>
    Clean,
    /// <summary>Anything but a server error (the portal's choice: e.g. extra columns ignored or refused).</summary>
    Any,
}

public sealed record BadFile(string Name, string FileName, byte[] Bytes, Outcome Outcome, long Good = 0, Dictionary<string, string>? Fields = null);

/// <summary>
/// The bad-input corpus, generated here (nothing is downloaded). Every file targets the dataset schema
/// <c>id</c> (string, required, CRMID), <c>name</c> (string), <c>age</c> (integer), <c>vip</c> (boolean).
/// </summary>
public static class BadInputCorpus
{
    public const string Header = "id,name,age,vip";

    public static object Schema(string name) => new
    {
        name, @class = "profile",
        fields = new object[]
        {
            new { path = "id", type = "string", required = true, identity = new { @namespace = "CRMID", primary = true } },
            new { path = "name", type = "string" }, new { path = "age", type = "integer" }, new { path = "vip", type = "boolean" },
        },
    };

    private static string Good(string tag, int from, int count) =>
        string.Concat(Enumerable.Range(from, count).Select(i => $"{tag}-{i},Person {i},{20 + i % 50},{(i % 2 == 0 ? "true" : "false")}\n"));

    private static byte[] U(string s) => Encoding.UTF8.GetBytes(s);
    private static byte[] Cat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    private static string Nested(int depth, string leaf) => new string('[', depth) + leaf + new string(']', depth);

    public static IEnumerable<BadFile> Files(string tag, string dir)
    {
        var t = tag;
        yield return new("ragged rows (too few and too many fields)", "ragged.csv",
            U(Header + "\n" + Good(t, 1, 3) + $"{t}-x1,Short\n{t}-x2,Long,30,true,extra,more\n" + Good(t, 4, 2)), Outcome.Partial, 5);
        yield return new("wrong types (age 'abc', vip 'maybe')", "types.csv",
            U(Header + "\n" + Good(t, 1, 4) + $"{t}-x1,Bad age,abc,true\n{t}-x2,Bad vip,30,maybe\n{t}-x3,Big age,99999999999999999999999,true\n"), Outcome.Partial, 4);
        yield return new("missing required id", "noid.csv", U(Header + "\n" + Good(t, 1, 3) + ",No id,30,true\n"), Outcome.Partial, 3);
        yield return new("invalid UTF-8 in the second data row", "badutf8.csv",
            Cat(U(Header + "\n" + Good(t, 1, 1)), U($"{t}-x1,Bad "), [0xC3, 0x28, 0xFF], U(",30,true\n"), U(Good(t, 2, 3))), Outcome.Partial, 4);
        var latin = Cat(U(Header + "\n"), Encoding.Latin1.GetBytes($"{t}-1,José Müller,30,true\n{t}-2,Françoise,31,false\n"));
        yield return new("a Latin-1 file read as UTF-8", "latin1.csv", latin, Outcome.Rejected);
        yield return new("a Latin-1 file with encoding=latin1", "latin1-declared.csv", latin, Outcome.Clean, 2, new() { ["encoding"] = "latin1" });
        yield return new("UTF-8 byte order mark", "bom.csv", Cat([0xEF, 0xBB, 0xBF], U(Header + "\n" + Good(t, 1, 3))), Outcome.Clean, 3);
        yield return new("UTF-16 LE with BOM", "utf16.csv", Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(Header + "\n" + Good(t, 1, 3))).ToArray(), Outcome.Clean, 3, new() { ["encoding"] = "utf-16" });
        yield return new("CRLF line ends", "crlf.csv", U((Header + "\n" + Good(t, 1, 4)).Replace("\n", "\r\n")), Outcome.Clean, 4);
        yield return new("quoted newlines and quotes in a field", "quoted.csv",
            U(Header + "\n" + $"{t}-1,\"Line one\nline two\",30,true\n{t}-2,\"Say \"\"hi\"\"\r\nagain\",31,false\n" + Good(t, 3, 2)), Outcome.Clean, 4);
        yield return new("an unterminated quote", "openquote.csv", U(Header + "\n" + Good(t, 1, 2) + $"{t}-x,\"never closed,30,true\n" + Good(t, 3, 2)), Outcome.Any);
        var gz = Gzip(U(Header + "\n" + Good(t, 1, 20_000)));
        yield return new("truncated gzip", "truncated.csv.gz", gz[..(gz.Length / 2)], Outcome.Rejected);
        var random = new byte[64 * 1024];
        new Random(20).NextBytes(random);
        yield return new("random bytes named .csv.gz", "random.csv.gz", random, Outcome.Rejected);
        yield return new("random bytes named .csv", "random.csv", random, Outcome.Rejected);
        yield return new("empty file", "empty.csv", [], Outcome.Rejected);
        yield return new("header only", "header.csv", U(Header + "\n"), Outcome.Any);
        yield return new("duplicate header names", "dupheader.csv", U("id,name,age,age,vip\n" + $"{t}-1,A,30,31,true\n"), Outcome.Rejected);
        yield return new("10,000 columns", "wide.csv",
            U(Header + "," + string.Join(',', Enumerable.Range(1, 9_996).Select(i => "extra" + i)) + "\n" + $"{t}-1,Wide,30,true," + string.Join(',', Enumerable.Repeat("x", 9_996)) + "\n"), Outcome.Any);
        yield return new("a 5 MB single field", "bigfield.csv", U(Header + "\n" + Good(t, 1, 2) + $"{t}-big,{new string('x', 5 * 1024 * 1024)},30,true\n" + Good(t, 3, 2)), Outcome.Any);
        yield return new("formula-injection cells", "formula.csv",
            U(Header + "\n" + $"{t}-1,\"=cmd|' /C calc'!A0\",30,true\n{t}-2,+1+1,31,false\n{t}-3,-2+3,32,true\n{t}-4,@SUM(A1:A9),33,false\n"), Outcome.Clean, 4);
        yield return new("NUL bytes in a CSV", "nul.csv", Cat(U(Header + "\n" + Good(t, 1, 2) + $"{t}-x,A"), [0, 0, 0], U("B,30,true\n")), Outcome.Any);
        yield return new("JSON nested 10,000 deep", "deep.json", U($"[{{\"id\":\"{t}-1\",\"name\":" + Nested(10_000, "1") + "}]"), Outcome.Any);
        yield return new("a JSON array nested 10,000 deep as the document", "deepdoc.json", U(Nested(10_000, "")), Outcome.Rejected);
        yield return new("a huge array in one field", "hugearray.json", U($"[{{\"id\":\"{t}-x\",\"name\":[" + string.Join(',', Enumerable.Range(0, 200_000)) + $"]}},{{\"id\":\"{t}-1\",\"name\":\"Fine\",\"age\":3,\"vip\":true}}]"), Outcome.Partial, 1);
        yield return new("a JSON array of 100,000 records", "many.json",
            U("[" + string.Join(',', Enumerable.Range(1, 100_000).Select(i => $"{{\"id\":\"{t}-{i}\",\"name\":\"P{i}\",\"age\":{i % 90},\"vip\":{(i % 2 == 0 ? "true" : "false")}}}")) + "]"), Outcome.Clean, 100_000);
        yield return new("JSON lines with a broken line in the middle", "broken.jsonl",
            U($"{{\"id\":\"{t}-1\",\"name\":\"A\",\"age\":1,\"vip\":true}}\n{{\"id\":\"{t}-2\",\"name\":\"B\",\"age\":2,\"vip\":false}}\n{{\"id\":\"{t}-x\",\"name\":\"broken\n{{\"id\":\"{t}-3\",\"name\":\"C\",\"age\":3,\"vip\":true}}\n"), Outcome.Partial, 3);
        yield return new("JSON of wrong types", "types.json",
            U($"[{{\"id\":\"{t}-1\",\"name\":\"A\",\"age\":1,\"vip\":true}},{{\"id\":{{\"x\":1}},\"name\":\"B\"}},{{\"id\":\"{t}-x\",\"age\":\"old\",\"vip\":\"no\"}},{{\"id\":\"{t}-2\",\"name\":false,\"age\":2.5}},5,null,\"text\"]"), Outcome.Partial, 1);
        yield return new("not JSON named .json", "notjson.json", U("this is not json {"), Outcome.Rejected);
        yield return new("Parquet whose schema disagrees (age as text, no name, vip as number)", "disagree.parquet",
            Parquet(dir, $"SELECT '{t}-' || i AS id, CASE WHEN i % 2 = 0 THEN 'old' ELSE CAST(i AS VARCHAR) END AS age, i AS vip FROM range(1, 11) r(i)"), Outcome.Any);
        yield return new("Parquet without the required id", "noid.parquet", Parquet(dir, "SELECT 'x' AS name, 3 AS age FROM range(5)"), Outcome.Any);
        yield return new("random bytes named .parquet", "random.parquet", random, Outcome.Rejected);
    }

    private static byte[] Parquet(string dir, string select)
    {
        var path = Path.Combine(dir, Guid.NewGuid().ToString("N") + ".parquet");
        using (var c = new DuckDBConnection("Data Source=:memory:"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"COPY ({select}) TO '{path}' (FORMAT parquet)";
            cmd.ExecuteNonQuery();
        }
        return File.ReadAllBytes(path);
    }

    /// <summary>Bodies for the streaming endpoint and its outcome: the number of good records it must accept (null: a 4xx; -1: the portal's choice, never a 500).</summary>
    public static IEnumerable<(string Name, byte[] Body, int? Accepted)> StreamingBodies(string tag)
    {
        var t = tag;
        string Rec(int i) => $"{{\"id\":\"{t}-s{i}\",\"name\":\"S{i}\",\"age\":{i},\"vip\":true}}";
        yield return ("not JSON", U("{ not json"), null);
        yield return ("empty body", [], null);
        yield return ("a number", U("5"), null);
        yield return ("invalid UTF-8", Cat(U("[{\"id\":\"x\",\"name\":\""), [0xC3, 0x28, 0xFF], U("\"}]")), null);
        yield return ("nested 10,000 deep", U(Nested(10_000, "")), null);
        yield return ("a record nested 10,000 deep", U($"[{Rec(1)},{{\"id\":\"{t}-deep\",\"name\":" + Nested(10_000, "1") + "}]"), -1);
        yield return ("good and bad records mixed", U($"[{Rec(2)},{{\"id\":5}},{{\"name\":\"no id\"}},{{\"id\":\"{t}-b\",\"age\":\"old\"}},7,null,{Rec(3)}]"), 3); // an id given as a number is read as its text
        yield return ("a 900 KB string", U($"[{{\"id\":\"{t}-long\",\"name\":\"{new string('y', 900 * 1024)}\"}},{Rec(4)}]"), -1);
        yield return ("a 2 MB body", U("[" + string.Join(',', Enumerable.Range(0, 30_000).Select(i => Rec(100_000 + i))) + "]"), null);
        yield return ("1,001 records", U("[" + string.Join(',', Enumerable.Range(0, 1_001).Select(i => Rec(200_000 + i))) + "]"), null);
        yield return ("an array of arrays", U("[[1,2],[3]]"), -1);
        yield return ("formula cells", U($"[{{\"id\":\"{t}-f1\",\"name\":\"=HYPERLINK(\\\"http://x\\\")\"}}]"), 1);
        yield return ("one good record, not in an array", U(Rec(5)), 1);
    }
}
