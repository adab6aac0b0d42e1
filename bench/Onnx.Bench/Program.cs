// ONNX batch scoring through to the Parquet output: N rows x 20 features (a Parquet file made with DuckDB), the
// logistic regression tests/data/onnx/logreg20.onnx mapped to the 20 fields, scored by ModelScorer (the scoring job's
// code: DuckDB reader, 8,192-row ONNX Runtime batches in parallel, DuckDB appender, Parquet). Usage: dotnet run -c Release -- [rows]
using System.Diagnostics;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Schemas;

var rows = args.Length > 0 ? long.Parse(args[0]) : 1_000_000;
var dir = Path.Combine(Path.GetTempPath(), "ep-onnx-bench");
Directory.CreateDirectory(dir);
var input = Path.Combine(dir, $"input-{rows}.parquet");
var names = Enumerable.Range(0, 20).Select(i => $"f{i}").ToArray();
if (!File.Exists(input))
{
    using var c = new DuckDBConnection("Data Source=:memory:");
    c.Open();
    using var cmd = c.CreateCommand();
    cmd.CommandText = $"COPY (SELECT 'C-' || CAST(i AS VARCHAR) AS customerId, {string.Join(", ", names.Select((n, j) => $"random() * {j + 1} AS {n}"))} FROM range({rows}) t(i)) TO '{input}' (FORMAT parquet)";
    cmd.ExecuteNonQuery();
}
var root = new DirectoryInfo(AppContext.BaseDirectory);
while (root is not null && !File.Exists(Path.Combine(root.FullName, "Enrichment.Portal.sln"))) root = root.Parent;
var onnx = File.ReadAllBytes(Path.Combine(root!.FullName, "tests", "data", "onnx", "logreg20.onnx"));
var sig = OnnxSignature.Read(onnx);
var fields = new[] { new SchemaField { Path = "customerId", Type = FieldType.String } }.Concat(names.Select(n => new SchemaField { Path = n, Type = FieldType.Number })).ToList();
var state = OnnxMapper.Resolve(sig, new OnnxMappingRequest { Inputs = new Dictionary<string, IReadOnlyList<string>> { ["features"] = names } }, fields, "bench");
var artifact = ModelArtifact.WriteOnnx(new ModelManifest { Recipe = Recipe.Custom, Trainer = "onnx", KeyField = "customerId", Onnx = state }, onnx);
var scorer = new ModelScorer();
Console.WriteLine($"ONNX scoring: {rows:N0} rows x 20 features, {Environment.ProcessorCount} core(s)");
for (var run = 1; run <= 2; run++)
{
    var output = Path.Combine(dir, $"scores-{run}.parquet");
    var sw = Stopwatch.StartNew();
    var outcome = await scorer.ScoreAsync(new ScoringRequest { Artifact = artifact, InputGlobs = [input], OutputPath = output });
    sw.Stop();
    Console.WriteLine($"run {run}: {outcome.RowsScored:N0} rows in {sw.Elapsed.TotalSeconds:F2} s = {outcome.RowsScored / sw.Elapsed.TotalSeconds:N0} rows/s (Parquet {new FileInfo(output).Length / 1e6:F1} MB)");
}
