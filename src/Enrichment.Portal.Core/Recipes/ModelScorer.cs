using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using DuckDB.NET.Data;
using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>One profile's result: <c>score</c> (binary, [0,1]), <c>value</c> (clv), <c>top</c> (affinity), <c>segment</c> + description, <c>engagement</c> (0-100).
/// <see cref="Insight"/>: for ONNX versions, the insight's name (its value is Score, Value or <see cref="Class"/>).</summary>
public sealed record ScoreResult(string? Key, double? Score = null, double? Value = null, IReadOnlyList<string>? Top = null, int? Segment = null, string? SegmentDescription = null, double? Engagement = null,
    string? Class = null, string? Insight = null)
{
    /// <summary>Binary models: the top contributing features (see <see cref="ScoreReason"/>).</summary>
    public IReadOnlyList<ScoreReason>? Reasons { get; init; }
    /// <summary>Uplift models: P(outcome | treated) − P(outcome | control), and the two probabilities.</summary>
    public double? Uplift { get; init; }
    public double? Treated { get; init; }
    public double? Control { get; init; }
}

/// <summary>
/// Applies a model artifact. <see cref="ScoreAsync"/> scores a whole table with one ML.NET Transform over an IDataView
/// and writes one row per key to a Parquet file (columns <c>key</c> and, by recipe, <c>score</c> | <c>value</c> |
/// <c>top</c> | <c>segment</c>, <c>segmentDescription</c> | <c>engagement</c>). <see cref="ScoreOne"/> scores one profile
/// with a pooled PredictionEngine (thread-safe) and gives the same value as the batch for the same data.
/// Keep one instance per process (it caches loaded models by artifact hash).
/// </summary>
public sealed class ModelScorer
{
    private sealed class Loaded(ModelManifest manifest, MLContext ml, ITransformer? model)
    {
        /// <summary>Uplift models: the control model (<see cref="Model"/> is the treated one).</summary>
        public ITransformer? Control { get; init; }
        public ModelManifest Manifest { get; } = manifest;
        public MLContext Ml { get; } = ml;
        public ITransformer? Model { get; } = model;
        public ObjectPool<PredictionEngine<FeatureRow, ScoreRow>>? ScorePool { get; init; }
        public ObjectPool<PredictionEngine<FeatureRow, ClusterRow>>? ClusterPool { get; init; }
        public ObjectPool<PredictionEngine<FeatureRow, ReasonRow>>? ReasonPool { get; init; }
        /// <summary>ONNX versions (recipe custom): the ONNX Runtime session.</summary>
        public OnnxRunner? Onnx { get; init; }
    }

    private sealed class EnginePolicy<TOut>(Func<PredictionEngine<FeatureRow, TOut>> create) : PooledObjectPolicy<PredictionEngine<FeatureRow, TOut>> where TOut : class, new()
    {
        public override PredictionEngine<FeatureRow, TOut> Create() => create();
        public override bool Return(PredictionEngine<FeatureRow, TOut> obj) => true;
    }

    private readonly ConcurrentDictionary<string, Loaded> _cache = new();

    private Loaded Load(byte[] artifact)
    {
        var hash = Convert.ToHexString(SHA256.HashData(artifact));
        return _cache.GetOrAdd(hash, _ =>
        {
            var manifest = ModelArtifact.ReadManifest(artifact);
            if (manifest.Onnx is { } onnx) return new Loaded(manifest, new MLContext(0), null) { Onnx = new OnnxRunner(ModelArtifact.ReadOnnx(artifact), onnx) };
            var ml = new MLContext(0);
            var model = ModelArtifact.ReadModel(artifact, ml);
            var width = manifest.Plan?.Width ?? 0;
            var provider = new DefaultObjectPoolProvider { MaximumRetained = Environment.ProcessorCount * 2 };
            return new Loaded(manifest, ml, model)
            {
                Control = manifest.Recipe == Recipe.Uplift ? ModelArtifact.ReadModel(artifact, ml, "control.zip") : null,
                ReasonPool = model is null || manifest.Reasons is null ? null : provider.Create(new EnginePolicy<ReasonRow>(() =>
                    ml.Model.CreatePredictionEngine<FeatureRow, ReasonRow>(model, inputSchemaDefinition: MlRows.Schema<FeatureRow>(width)))),
                ScorePool = model is null || manifest.Recipe == Recipe.Segmentation ? null : provider.Create(new EnginePolicy<ScoreRow>(() =>
                    ml.Model.CreatePredictionEngine<FeatureRow, ScoreRow>(model, inputSchemaDefinition: MlRows.Schema<FeatureRow>(width)))),
                ClusterPool = model is null || manifest.Recipe != Recipe.Segmentation ? null : provider.Create(new EnginePolicy<ClusterRow>(() =>
                    ml.Model.CreatePredictionEngine<FeatureRow, ClusterRow>(model, inputSchemaDefinition: MlRows.Schema<FeatureRow>(width)))),
            };
        });
    }

    /// <summary>Scores every row of the input (or every customer of the events) and writes the Parquet file.</summary>
    public Task<ScoringOutcome> ScoreAsync(ScoringRequest request, CancellationToken ct = default) => Task.Run(() => Score(request, ct), ct);

    private ScoringOutcome Score(ScoringRequest req, CancellationToken ct)
    {
        var m = Load(req.Artifact);
        var man = m.Manifest;
        using var c = ModelLake.Open();
        if (m.Onnx is not null)
        {
            var (n, onnxValues) = OnnxBatchScorer.Score(c, m.Onnx, man, req, ct);
            return new ScoringOutcome(req.OutputPath, n, m.Onnx.State.InsightKind == "class" ? null
                : req.DistributionEdges is { } de ? ScoreDistribution.From(onnxValues, de) : ScoreDistribution.Deciles(onnxValues));
        }
        if (man.Plan is not null && man.Recipe != Recipe.Clv && m.Model is not null)
        {
            var (rows, values) = ScorePlanStreaming(c, m, req, ct);
            return new ScoringOutcome(req.OutputPath, rows, req.DistributionEdges is { } e ? ScoreDistribution.From(values, e) : ScoreDistribution.Deciles(values));
        }
        var results = ScoreEventsBatch(c, m, req, ct);
        Write(c, man.Recipe, results, req.OutputPath);
        var vals = results.Select(r => r.Score ?? r.Value ?? r.Engagement ?? r.Segment).Where(v => v is not null).Select(v => v!.Value).ToArray();
        return new ScoringOutcome(req.OutputPath, results.Count, req.DistributionEdges is { } edges ? ScoreDistribution.From(vals, edges) : ScoreDistribution.Deciles(vals));
    }

    /// <summary>Rows read from DuckDB and scored per slice: one reader streams the input, each slice is split among the cores and
    /// every part is encoded and scored with one ML.NET batch Transform (the same model and encoding as <see cref="ScoreOne"/>, so
    /// the batch and the one-profile score agree), and the results go straight to a DuckDB appender, then to Parquet. Nothing
    /// holds the whole table.</summary>
    private (long Rows, List<double> Values) ScorePlanStreaming(DuckDBConnection c, Loaded m, ScoringRequest req, CancellationToken ct)
    {
        var man = m.Manifest; var plan = man.Plan!;
        var keyField = req.KeyField ?? man.KeyField;
        var sourceCols = plan.Specs.Select(s => s.Name).Where(n => !n.StartsWith("ev_", StringComparison.Ordinal) || !man.UsesEventFeatures).ToList();
        var select = new List<string> { (keyField is null ? "CAST(row_number() OVER () - 1 AS VARCHAR)" : "CAST(s." + ModelLake.Quote(keyField) + " AS VARCHAR)") + " AS " + ProfileData.KeyColumn };
        select.AddRange(sourceCols.Select(n => "s." + ModelLake.Quote(n)));
        var from = (req.OnePerProfile && keyField is not null ? ModelLake.NewestPerKey(req.InputGlobs, keyField) : ModelLake.ReadParquet(req.InputGlobs)) + " s";
        if (man.UsesEventFeatures)
        {
            if (req.EventGlobs.Count == 0) throw new ModelTrainingException("This model uses event features: give the event Parquet glob(s).");
            var asOf = req.AsOf ?? man.TrainingCutoff!.Value;
            var names = EventFeatures.Names(man.EventTypes);
            select.AddRange(names.Select(n => n is "ev_recency_days" or "ev_days_since_first" ? "a." + n : $"coalesce(a.{n}, 0) AS {n}"));
            from += $" LEFT JOIN {EventFeatures.Sql(man.Events!, req.EventGlobs, asOf, man.EventTypes)} a ON CAST(s.{ModelLake.Quote(keyField!)} AS VARCHAR) = a.k";
        }
        var refDate = req.AsOf ?? plan.ReferenceDate;
        var segmentation = man.Recipe == Recipe.Segmentation;
        var reasons = man.Reasons;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(req.OutputPath))!);
        var uplift = man.Recipe == Recipe.Uplift;
        ModelLake.Execute(c, segmentation
            ? "CREATE TEMP TABLE out_rows (key VARCHAR, segment INTEGER, segmentDescription VARCHAR)"
            : uplift ? "CREATE TEMP TABLE out_rows (key VARCHAR, uplift DOUBLE, treated DOUBLE, control DOUBLE)"
            : reasons is not null ? "CREATE TEMP TABLE out_rows (key VARCHAR, score DOUBLE, reasons VARCHAR)" : "CREATE TEMP TABLE out_rows (key VARCHAR, score DOUBLE)");

        const int Slice = 16_384;
        var workers = Math.Max(1, Math.Min(Environment.ProcessorCount, 8));
        var values = new List<double>();
        long total = 0;
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {string.Join(", ", select)} FROM {from}";
        DuckDBDataReader reader;
        try { reader = (DuckDBDataReader)cmd.ExecuteReader(); }
        catch (DuckDBException e) { throw new ModelTrainingException("Query on the data lake failed: " + e.Message); }
        using (reader)
        {
            var width = reader.FieldCount;
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < width; i++) index[reader.GetName(i)] = i;
            var specCols = plan.Specs.Select(sp => index.TryGetValue(sp.Name, out var i) ? i : throw new ModelTrainingException($"Column '{sp.Name}' is not in the data.")).ToArray();
            var specIndex = plan.Specs.Select((sp, i) => (sp.Name, i)).GroupBy(x => x.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => specCols[g.First().i], StringComparer.Ordinal);
            var rows = new object?[Slice][];
            for (var i = 0; i < Slice; i++) rows[i] = new object?[width];
            var keys = new string?[Slice];
            var scores = new double[Slice];
            var segments = new int[Slice];
            var reasonJson = new string?[Slice];
            var treatedP = new double[Slice]; var controlP = new double[Slice];
            using var app = c.CreateAppender("out_rows");
            while (true)
            {
                var n = 0;
                while (n < Slice && reader.Read())
                {
                    var row = rows[n];
                    for (var i = 0; i < width; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                    keys[n] = ModelLake.ToText(row[0]);
                    n++;
                }
                if (n == 0) break;
                ct.ThrowIfCancellationRequested();
                var count = n;
                var per = (count + workers - 1) / workers;
                Parallel.For(0, workers, new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = workers }, w =>
                {
                    var lo = w * per; var hi = Math.Min(count, lo + per);
                    if (lo >= hi) return;
                    // One ML.NET batch Transform per worker's part of the slice (not one prediction at a time): encode the
                    // rows, load them as an IDataView, transform with the model and read the output column with a cursor.
                    var part = new FeatureRow[hi - lo];
                    for (var r = lo; r < hi; r++)
                    {
                        var row = rows[r];
                        part[r - lo] = new FeatureRow { Features = Standardize(man, plan.Encode(name => row[specIndex[name]], refDate)) };
                    }
                    if (uplift)
                    {
                        var pt = UpliftRecipe.Probabilities(m.Ml, m.Model!, part.Select(f => f.Features), plan.Width);
                        var pc = UpliftRecipe.Probabilities(m.Ml, m.Control!, part.Select(f => f.Features), plan.Width);
                        for (var r = lo; r < hi; r++) { treatedP[r] = pt[r - lo]; controlP[r] = pc[r - lo]; }
                        return;
                    }
                    var scored = m.Model!.Transform(MlRows.Load(m.Ml, part, plan.Width));
                    if (segmentation)
                    {
                        var col = scored.Schema["PredictedLabel"];
                        using var cursor = scored.GetRowCursor([col]);
                        var getter = cursor.GetGetter<uint>(col);
                        uint label = 0;
                        for (var r = lo; cursor.MoveNext(); r++) { getter(ref label); segments[r] = (int)label; }
                    }
                    else
                    {
                        var col = scored.Schema["Score"];
                        if (reasons is null)
                        {
                            using var cursor = scored.GetRowCursor([col]);
                            var getter = cursor.GetGetter<float>(col);
                            float v = 0;
                            for (var r = lo; cursor.MoveNext(); r++) { getter(ref v); scores[r] = Platt.Apply(v, man.PlattA, man.PlattB); }
                        }
                        else
                        {
                            var fc = scored.Schema[Reasons.Column];
                            using var cursor = scored.GetRowCursor([col, fc]);
                            var getter = cursor.GetGetter<float>(col);
                            var fcGetter = cursor.GetGetter<Microsoft.ML.Data.VBuffer<float>>(fc);
                            float v = 0; var buffer = default(Microsoft.ML.Data.VBuffer<float>); var dense = new float[plan.Width];
                            for (var r = lo; cursor.MoveNext(); r++)
                            {
                                getter(ref v); scores[r] = Platt.Apply(v, man.PlattA, man.PlattB);
                                fcGetter(ref buffer); buffer.CopyTo(dense);
                                var row = rows[r];
                                reasonJson[r] = Reasons.ToJson(Reasons.Explain(plan, reasons, dense, i => row[specIndex[plan.Specs[i].Name]], refDate));
                            }
                        }
                    }
                });
                for (var r = 0; r < count; r++)
                {
                    var row = app.CreateRow();
                    row.AppendValue(keys[r]);
                    if (segmentation)
                    {
                        row.AppendValue((int?)segments[r]);
                        row.AppendValue(man.Segmentation!.Descriptions[segments[r] - 1]);
                        values.Add(segments[r]);
                    }
                    else if (uplift)
                    {
                        row.AppendValue((double?)(treatedP[r] - controlP[r]));
                        row.AppendValue((double?)treatedP[r]);
                        row.AppendValue((double?)controlP[r]);
                        values.Add(treatedP[r] - controlP[r]);
                    }
                    else
                    {
                        row.AppendValue((double?)scores[r]);
                        if (reasons is not null) row.AppendValue(reasonJson[r]);
                        values.Add(scores[r]);
                    }
                    row.EndRow();
                }
                total += count;
                if (count < Slice) break;
            }
        }
        var outCols = reasons is not null ? $"key, score, from_json(reasons, {ModelLake.Literal(Reasons.DuckDbShape)}) AS reasons" : "*";
        ModelLake.Execute(c, $"COPY (SELECT {outCols} FROM out_rows) TO {ModelLake.Literal(req.OutputPath)} (FORMAT parquet)");
        return (total, values);
    }

    private static DateTime EventAsOf(DuckDBConnection c, ModelManifest man, ScoringRequest req)
    {
        if (req.AsOf is { } a) return a;
        var max = ModelLake.ToDate(ModelLake.Query(c, $"SELECT max(ts) AS m FROM {man.Events!.Relation(req.EventGlobs)}").Column("m")[0]);
        return (max ?? DateTime.UtcNow).Date.AddDays(1);
    }

    private static List<ScoreResult> ScoreEventsBatch(DuckDBConnection c, Loaded m, ScoringRequest req, CancellationToken ct)
    {
        var man = m.Manifest;
        if (req.EventGlobs.Count == 0) throw new ModelTrainingException($"The {man.Recipe} model scores from events: give the event Parquet glob(s).");
        var asOf = EventAsOf(c, man, req);
        switch (man.Recipe)
        {
            case Recipe.Engagement:
                return EngagementRecipe.Compute(c, man.Events!, req.EventGlobs, asOf, ct)
                    .Select(x => new ScoreResult(x.Key, Engagement: EngagementRecipe.Score(man.Engagement!, x.Recency, x.Frequency, x.Monetary))).ToList();
            case Recipe.Affinity:
                var a = man.Affinity!;
                var rel = AffinityRecipe.ItemRelation(man.Events!, a.ItemField, null, req.EventGlobs);
                return AffinityRecipe.TopItems(c, rel, asOf, a.HalfLifeDays, a.TopN, ct).OrderBy(kv => kv.Key, StringComparer.Ordinal)
                    .Select(kv => new ScoreResult(kv.Key, Top: kv.Value)).ToList();
            case Recipe.Clv when man.Clv!.Method == "bgnbd":
                var s = man.Clv;
                var unitDays = ClvRecipe.UnitDays(s.TimeUnit);
                return ClvRecipe.Customers(c, man.Events!, req.EventGlobs, ClvRecipe.LastDayBefore(asOf), unitDays, s.Horizon, ct)
                    .Select(x => new ScoreResult(x.Key, Value: ClvRecipe.PredictValue(s, x.Rfm, x.Spend, s.Horizon, discount: true))).ToList();
            case Recipe.Clv:
                var plan = man.Plan!;
                var (keys, columns, _) = ClvRecipe.RegressionTable(c, man.Events!, req.EventGlobs, asOf, man.EventTypes, ClvRecipe.UnitDays(man.Clv.TimeUnit), man.Clv.Horizon, ct);
                var view = MlRows.Load(m.Ml, Enumerable.Range(0, keys.Length).Select(r => new FeatureRow { Features = plan.Encode(n => columns.TryGetValue(n, out var col) ? col[r] : null) }), plan.Width);
                var values = MlRows.Scores(m.Model!.Transform(view));
                return values.Select((v, i) => new ScoreResult(keys[i], Value: man.Clv.LogTarget ? ClvRecipe.FromLog(v) : Math.Max(0, v))).ToList();
            default:
                throw new ModelTrainingException($"Cannot score recipe {man.Recipe} from events.");
        }
    }

    private static void Write(DuckDBConnection c, Recipe recipe, List<ScoreResult> results, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        ModelLake.Execute(c, "CREATE TEMP TABLE out_rows (key VARCHAR, score DOUBLE, value DOUBLE, top VARCHAR, segment INTEGER, segmentDescription VARCHAR, engagement DOUBLE)");
        using (var app = c.CreateAppender("out_rows"))
        {
            foreach (var r in results)
            {
                var row = app.CreateRow();
                row.AppendValue(r.Key);
                row.AppendValue(r.Score);
                row.AppendValue(r.Value);
                row.AppendValue(r.Top is null ? null : string.Join('\u001f', r.Top));
                row.AppendValue(r.Segment);
                row.AppendValue(r.SegmentDescription);
                row.AppendValue(r.Engagement);
                row.EndRow();
            }
        }
        var cols = recipe switch
        {
            Recipe.Propensity or Recipe.Churn => "score",
            Recipe.Clv => "value",
            Recipe.Affinity => "string_split(top, chr(31)) AS top",
            Recipe.Segmentation => "segment, segmentDescription",
            _ => "engagement",
        };
        ModelLake.Execute(c, $"COPY (SELECT key, {cols} FROM out_rows) TO {ModelLake.Literal(path)} (FORMAT parquet)");
    }

    /// <summary>
    /// Scores one profile from its attributes (<paramref name="row"/>, by column name) and, for models with event
    /// features, its events (by event column name) aggregated as of <paramref name="asOf"/> (default: the training cutoff).
    /// Supported for propensity, churn, uplift and segmentation, and engagement (from <paramref name="events"/>).
    /// </summary>
    public ScoreResult ScoreOne(byte[] artifact, IReadOnlyDictionary<string, object?> row, IReadOnlyList<IReadOnlyDictionary<string, object?>>? events = null, DateTime? asOf = null)
    {
        var m = Load(artifact);
        var man = m.Manifest;
        var key = man.KeyField is null ? null : ModelLake.ToText(row.GetValueOrDefault(man.KeyField));
        if (m.Onnx is not null) return m.Onnx.ScoreOne(row, key);
        if (man.Recipe == Recipe.Engagement)
        {
            if (events is null) throw new ModelTrainingException("Engagement scoring needs the profile's events.");
            var cutoff = asOf ?? man.TrainingCutoff!.Value;
            var agg = EventFeatures.InMemory(events, man.Events!, cutoff, []);
            if (agg.Count == 0) return new ScoreResult(key, Engagement: 0);
            return new ScoreResult(key, Engagement: EngagementRecipe.Score(man.Engagement!, (double)agg["ev_recency_days"]!, (double)agg["ev_frequency"]!, (double)agg["ev_monetary"]!));
        }
        if (man.Plan is null || m.Model is null || man.Recipe == Recipe.Clv)
            throw new ModelTrainingException($"One-profile scoring is not supported for the {man.Recipe} recipe; use a scoring run.");
        var plan = man.Plan;
        Dictionary<string, object?> agg2 = [];
        if (man.UsesEventFeatures)
        {
            agg2 = EventFeatures.InMemory(events ?? [], man.Events!, asOf ?? man.TrainingCutoff!.Value, man.EventTypes);
            foreach (var n in EventFeatures.Names(man.EventTypes))
                if (!agg2.ContainsKey(n) && n is not ("ev_recency_days" or "ev_days_since_first")) agg2[n] = 0.0;
        }
        object? Raw(string n) => agg2.TryGetValue(n, out var v) ? v : row.GetValueOrDefault(n);
        var features = Standardize(man, plan.Encode(Raw, asOf ?? plan.ReferenceDate));
        if (man.Recipe == Recipe.Uplift)
        {
            var pt = UpliftRecipe.Probabilities(m.Ml, m.Model, [features], plan.Width)[0];
            var pc = UpliftRecipe.Probabilities(m.Ml, m.Control!, [features], plan.Width)[0];
            return new ScoreResult(key) { Uplift = pt - pc, Treated = pt, Control = pc };
        }
        if (man.Recipe == Recipe.Segmentation)
        {
            var engine = m.ClusterPool!.Get();
            try
            {
                var label = (int)engine.Predict(new FeatureRow { Features = features }).PredictedLabel;
                return new ScoreResult(key, Segment: label, SegmentDescription: man.Segmentation!.Descriptions[label - 1]);
            }
            finally { m.ClusterPool.Return(engine); }
        }
        if (m.ReasonPool is { } reasonPool)
        {
            var re = reasonPool.Get();
            try
            {
                var output = re.Predict(new FeatureRow { Features = features });
                var dense = new float[plan.Width];
                Array.Copy(output.FeatureContributions, dense, Math.Min(dense.Length, output.FeatureContributions.Length));
                return new ScoreResult(key, Score: Platt.Apply(output.Score, man.PlattA, man.PlattB))
                    { Reasons = Reasons.Explain(plan, man.Reasons!, dense, i => Raw(plan.Specs[i].Name), asOf ?? plan.ReferenceDate) };
            }
            finally { reasonPool.Return(re); }
        }
        var e = m.ScorePool!.Get();
        try
        {
            var raw = e.Predict(new FeatureRow { Features = features }).Score;
            return new ScoreResult(key, Score: Platt.Apply(raw, man.PlattA, man.PlattB));
        }
        finally { m.ScorePool.Return(e); }
    }

    /// <summary>Segmentation models are trained on standardized features (z = (x - mean) / std of the training rows): apply the same to scoring rows.</summary>
    private static float[] Standardize(ModelManifest man, float[] features)
    {
        if (man.Segmentation is not { } seg || seg.Means.Count != features.Length) return features;
        for (var j = 0; j < features.Length; j++) features[j] = (float)((features[j] - seg.Means[j]) / seg.Stds[j]);
        return features;
    }

    /// <summary>Population stability index Σ (s − t) ln(s / t) over the bins (empty bins floored at 1e-4). Above 0.2 is usually read as a shift.</summary>
    public static double Psi(ScoreDistribution training, ScoreDistribution scoring)
    {
        if (training.Fractions.Count != scoring.Fractions.Count)
            throw new ArgumentException("Both distributions must use the same bins; build the scoring one with ScoreDistribution.From(values, training.Edges).");
        double psi = 0;
        for (var i = 0; i < training.Fractions.Count; i++)
        {
            var t = Math.Max(training.Fractions[i], 1e-4); var s = Math.Max(scoring.Fractions[i], 1e-4);
            psi += (s - t) * Math.Log(s / t);
        }
        return psi;
    }
}
