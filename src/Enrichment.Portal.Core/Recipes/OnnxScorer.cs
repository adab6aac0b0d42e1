using System.Globalization;
using DuckDB.NET.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>
/// An uploaded ONNX model ready to run: one ONNX Runtime session (thread-safe; one thread per Run, the callers run
/// batches in parallel) and the version's <see cref="OnnxState"/>. <see cref="Run"/> scores a batch of rows held in
/// typed column buffers and reads the chosen output: a tensor column, or the chosen class of a ZipMap output.
/// </summary>
internal sealed class OnnxRunner(byte[] model, OnnxState state) : IDisposable
{
    /// <summary>Rows per ONNX Runtime Run.</summary>
    public const int BatchRows = 8_192;

    private readonly InferenceSession _session = OnnxSessions.Create(model);
    private readonly string[] _outputs = [state.Output];
    public OnnxState State { get; } = state;

    /// <summary>Input buffers of up to <see cref="Capacity"/> rows, one array per input (row-major, Width values a row).</summary>
    public sealed class Batch
    {
        public required int Capacity { get; init; }
        public required Array[] Buffers { get; init; }
    }

    public Batch NewBatch(int capacity) => new()
    {
        Capacity = capacity,
        Buffers = State.Inputs.Select(i => (Array)(i.ElementType switch
        {
            "float" => new float[capacity * i.Width],
            "double" => new double[capacity * i.Width],
            "int64" => new long[capacity * i.Width],
            "int32" => new int[capacity * i.Width],
            "bool" => new bool[capacity * i.Width],
            _ => new string[capacity * i.Width],
        })).ToArray(),
    };

    /// <summary>Sets one cell from a CLR value (nulls: NaN for float inputs, 0 / false / "" otherwise).</summary>
    public void Set(Batch b, int row, int input, int col, object? value)
    {
        var i = State.Inputs[input];
        var at = row * i.Width + col;
        switch (b.Buffers[input])
        {
            case float[] f: f[at] = ModelLake.ToDouble(value) is { } d ? (float)d : float.NaN; break;
            case double[] d2: d2[at] = ModelLake.ToDouble(value) ?? double.NaN; break;
            case long[] l: l[at] = ModelLake.ToDouble(value) is { } dl ? (long)Math.Round(dl) : 0; break;
            case int[] n: n[at] = ModelLake.ToDouble(value) is { } dn ? (int)Math.Round(dn) : 0; break;
            case bool[] bo: bo[at] = ModelLake.ToDouble(value) is { } db && db != 0; break;
            case string[] s: s[at] = ModelLake.ToText(value) ?? ""; break;
        }
    }

    /// <summary>Scores the first <paramref name="rows"/> rows of the batch; numbers (NaN: none) or labels of the insight into the arrays from <paramref name="offset"/>.</summary>
    public void Run(Batch b, int rows, double[] numbers, string?[] labels, int offset = 0)
    {
        var inputs = new List<NamedOnnxValue>(State.Inputs.Count);
        for (var k = 0; k < State.Inputs.Count; k++)
        {
            var i = State.Inputs[k];
            int[] dims = i.Rank1 ? [rows] : [rows, i.Width];
            var len = rows * i.Width;
            inputs.Add(b.Buffers[k] switch
            {
                float[] f => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<float>(f.AsMemory(0, len), dims)),
                double[] d => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<double>(d.AsMemory(0, len), dims)),
                long[] l => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<long>(l.AsMemory(0, len), dims)),
                int[] n => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<int>(n.AsMemory(0, len), dims)),
                bool[] bo => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<bool>(bo.AsMemory(0, len), dims)),
                string[] s => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<string>(s.AsMemory(0, len), dims)),
                _ => throw new InvalidOperationException(),
            });
        }
        IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results;
        try { results = _session.Run(inputs, _outputs); }
        catch (OnnxRuntimeException e) { throw new ModelTrainingException("ONNX Runtime could not run the model: " + e.Message.Split('\n')[0]); }
        using (results)
        {
            var v = results.First();
            if (State.OutputKind == "sequence-map") ReadZipMap(v, rows, numbers, labels, offset);
            else ReadTensor(v, rows, numbers, labels, offset);
        }
    }

    private void ReadTensor(DisposableNamedOnnxValue v, int rows, double[] numbers, string?[] labels, int offset)
    {
        var cls = State.InsightKind == "class";
        switch (State.OutputElementType)
        {
            case "float": Read(v.AsTensor<float>(), x => x); break;
            case "double": Read(v.AsTensor<double>(), x => x); break;
            case "int64": Read(v.AsTensor<long>(), x => x); break;
            case "int32": Read(v.AsTensor<int>(), x => x); break;
            case "bool": Read(v.AsTensor<bool>(), x => x ? 1 : 0); break;
            default:
                var t = v.AsTensor<string>();
                var w = (int)(t.Length / Math.Max(1, rows));
                for (var r = 0; r < rows; r++) labels[offset + r] = t.GetValue(r * w + State.OutputColumn);
                break;
        }
        void Read<T>(Tensor<T> t, Func<T, double> num)
        {
            var w = (int)(t.Length / Math.Max(1, rows));
            var span = t is DenseTensor<T> dense ? dense.Buffer.Span : t.ToArray();
            for (var r = 0; r < rows; r++)
            {
                var x = num(span[r * w + State.OutputColumn]);
                if (cls) labels[offset + r] = x.ToString("R", CultureInfo.InvariantCulture);
                else numbers[offset + r] = x;
            }
        }
    }

    private void ReadZipMap(DisposableNamedOnnxValue v, int rows, double[] numbers, string?[] labels, int offset)
    {
        var r = 0;
        foreach (var m in v.AsEnumerable<DisposableNamedOnnxValue>())
        {
            if (r >= rows) break;
            if (m.ValueType != OnnxValueType.ONNX_TYPE_MAP) throw new ModelTrainingException($"The output '{State.Output}' holds no maps.");
            double p;
            if (State.Signature.Outputs.First(o => o.Name == State.Output).KeyType == "string")
                p = Pick(State.OutputElementType == "double" ? m.AsDictionary<string, double>() : m.AsDictionary<string, float>().ToDictionary(kv => kv.Key, kv => (double)kv.Value), StringKey);
            else
                p = Pick(State.OutputElementType == "double" ? m.AsDictionary<long, double>() : m.AsDictionary<long, float>().ToDictionary(kv => kv.Key, kv => (double)kv.Value), LongKey);
            numbers[offset + r] = p;
            labels[offset + r] = null;
            r++;
        }
        if (r != rows) throw new ModelTrainingException($"The output '{State.Output}' gave {r} maps for {rows} rows.");
    }

    private static double Pick<TK>(IDictionary<TK, double> map, Func<ICollection<TK>, TK> key) where TK : notnull =>
        map.Count == 0 ? double.NaN : map.TryGetValue(key(map.Keys), out var p) ? p : double.NaN;

    /// <summary>The class of a ZipMap output: the one chosen, else 1, else the largest key (the positive class of a binary model).</summary>
    private long LongKey(ICollection<long> keys) =>
        State.OutputKey is { } k && long.TryParse(k, NumberStyles.Integer, CultureInfo.InvariantCulture, out var chosen) ? chosen : keys.Contains(1) ? 1 : keys.Max();

    private string StringKey(ICollection<string> keys) =>
        State.OutputKey ?? new[] { "1", "true", "yes", "True", "Yes" }.FirstOrDefault(keys.Contains) ?? keys.Order(StringComparer.Ordinal).Last();

    /// <summary>One profile's result from its attributes (by field path).</summary>
    public ScoreResult ScoreOne(IReadOnlyDictionary<string, object?> row, string? key)
    {
        var b = NewBatch(1);
        for (var k = 0; k < State.Inputs.Count; k++)
            for (var c = 0; c < State.Inputs[k].Width; c++) Set(b, 0, k, c, row.GetValueOrDefault(State.Inputs[k].Fields[c]));
        var numbers = new double[1];
        var labels = new string?[1];
        Run(b, 1, numbers, labels);
        return Result(key, numbers[0], labels[0]);
    }

    public ScoreResult Result(string? key, double number, string? label)
    {
        double? x = double.IsNaN(number) ? null : number;
        return State.InsightKind switch
        {
            "score" => new ScoreResult(key, Score: x, Insight: State.Insight, Class: null),
            "value" => new ScoreResult(key, Value: x, Insight: State.Insight),
            _ => new ScoreResult(key, Insight: State.Insight, Class: label),
        };
    }

    public void Dispose() => _session.Dispose();
}

/// <summary>
/// Batch scoring of an ONNX version, like the built-in scorer: one DuckDB reader streams the mapped fields of the input (cast
/// to the input element types), each slice is cut into batches of <see cref="OnnxRunner.BatchRows"/> rows run in parallel on
/// the cores, and the results go to a DuckDB appender, then to the Parquet file (<c>key</c>, <c>&lt;insight&gt;</c>).
/// </summary>
internal static class OnnxBatchScorer
{
    public static (long Rows, List<double> Values) Score(DuckDBConnection c, OnnxRunner runner, ModelManifest man, ScoringRequest req, CancellationToken ct)
    {
        var s = runner.State;
        var keyField = req.KeyField ?? man.KeyField;
        var select = new List<string> { (keyField is null ? "CAST(row_number() OVER () - 1 AS VARCHAR)" : "CAST(s." + ModelLake.Quote(keyField) + " AS VARCHAR)") + " AS " + ProfileData.KeyColumn };
        foreach (var i in s.Inputs)
        {
            var sql = i.ElementType switch { "float" or "double" => "DOUBLE", "int64" or "int32" => "BIGINT", "bool" => "BOOLEAN", _ => "VARCHAR" };
            select.AddRange(i.Fields.Select(f => $"TRY_CAST(s.{ModelLake.Quote(f)} AS {sql})"));
        }
        var from = (req.OnePerProfile && keyField is not null ? ModelLake.NewestPerKey(req.InputGlobs, keyField) : ModelLake.ReadParquet(req.InputGlobs)) + " s";
        var isClass = s.InsightKind == "class";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(req.OutputPath))!);
        ModelLake.Execute(c, $"CREATE TEMP TABLE out_rows (key VARCHAR, {ModelLake.Quote(s.Insight)} {(isClass ? "VARCHAR" : "DOUBLE")})");

        var workers = Math.Max(1, Math.Min(Environment.ProcessorCount, 8));
        var slice = OnnxRunner.BatchRows * workers;
        var batches = Enumerable.Range(0, workers).Select(_ => runner.NewBatch(OnnxRunner.BatchRows)).ToArray();
        var keys = new string?[slice];
        var numbers = new double[slice];
        var labels = new string?[slice];
        var values = new List<double>();
        long total = 0;
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {string.Join(", ", select)} FROM {from}";
        DuckDBDataReader reader;
        try { reader = (DuckDBDataReader)cmd.ExecuteReader(); }
        catch (DuckDBException e) { throw new ModelTrainingException("The mapped fields cannot be read from the data: " + e.Message); }
        using (reader)
        using (var app = c.CreateAppender("out_rows"))
        {
            while (true)
            {
                var n = 0;
                while (n < slice && reader.Read())
                {
                    keys[n] = reader.IsDBNull(0) ? null : reader.GetString(0);
                    var batch = batches[n / OnnxRunner.BatchRows];
                    var row = n % OnnxRunner.BatchRows;
                    var col = 1;
                    for (var k = 0; k < s.Inputs.Count; k++)
                    {
                        var input = s.Inputs[k];
                        var buffer = batch.Buffers[k];
                        for (var j = 0; j < input.Width; j++, col++)
                        {
                            var at = row * input.Width + j;
                            var isNull = reader.IsDBNull(col);
                            switch (buffer)
                            {
                                case float[] f: f[at] = isNull ? float.NaN : (float)reader.GetDouble(col); break;
                                case double[] d: d[at] = isNull ? double.NaN : reader.GetDouble(col); break;
                                case long[] l: l[at] = isNull ? 0 : reader.GetInt64(col); break;
                                case int[] i32: i32[at] = isNull ? 0 : (int)reader.GetInt64(col); break;
                                case bool[] b: b[at] = !isNull && reader.GetBoolean(col); break;
                                case string[] t: t[at] = isNull ? "" : reader.GetString(col); break;
                            }
                        }
                    }
                    n++;
                }
                if (n == 0) break;
                ct.ThrowIfCancellationRequested();
                var count = n;
                var parts = (count + OnnxRunner.BatchRows - 1) / OnnxRunner.BatchRows;
                Parallel.For(0, parts, new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = workers }, p =>
                {
                    var lo = p * OnnxRunner.BatchRows;
                    runner.Run(batches[p], Math.Min(OnnxRunner.BatchRows, count - lo), numbers, labels, lo);
                });
                for (var r = 0; r < count; r++)
                {
                    var row = app.CreateRow();
                    row.AppendValue(keys[r]);
                    if (isClass) row.AppendValue(labels[r]);
                    else if (double.IsNaN(numbers[r])) row.AppendNullValue();
                    else { row.AppendValue((double?)numbers[r]); values.Add(numbers[r]); }
                    row.EndRow();
                }
                total += count;
                if (count < slice) break;
            }
        }
        ModelLake.Execute(c, $"COPY (SELECT * FROM out_rows) TO {ModelLake.Literal(req.OutputPath)} (FORMAT parquet)");
        return (total, values);
    }
}
