using System.Globalization;
using Enrichment.Portal.Core.Schemas;
using Microsoft.ML;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>
/// propensity / churn. Rows are split (stratified, seeded) into 80% training and 20% test; the test part is used only
/// for the final metrics. On the training part, candidates (LightGbm x2, FastTree x2, L-BFGS logistic regression x2)
/// are compared by 3-fold cross-validated AUC (on a stratified sample of at most 12,000 training rows; permutation importance likewise on at most 20,000 held-out rows); positives are weighted by negatives/positives; the winner's
/// out-of-fold scores fit a Platt calibration; the winner is refitted on the whole training part. Single-threaded
/// trainers and <c>MLContext(seed)</c> make runs deterministic.
/// </summary>
internal static class BinaryRecipe
{
    public const int MaxSelectionRows = 12_000;
    /// <summary>Permutation importance scores the held-out rows once per feature: on large data it uses a seeded,
    /// stratified sample of at most this many of them (the metrics still use every held-out row).</summary>
    public const int MaxImportanceRows = 20_000;

    /// <summary>The training score distribution (drift reference) is taken from at most this many training rows.</summary>
    public const int MaxDistributionRows = 100_000;
    /// <summary>A candidate whose first-fold AUC is more than this below the best first-fold AUC is not cross-validated further.</summary>
    public const double EarlyStopMargin = 0.005;

    internal sealed record Candidate(string Name, Func<MLContext, IEstimator<ITransformer>> Build);

    /// <summary>The candidates, each with <paramref name="threads"/> trainer threads (1 for the cross-validation fits, which run in
    /// parallel with each other; the machine's cores for the final refit).</summary>
    internal static IReadOnlyList<Candidate> Candidates(int seed, int threads = 1) =>
    [
        new("LightGbm(leaves=15,iter=150,lr=0.05)", ml => ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
            { NumberOfLeaves = 15, NumberOfIterations = 150, LearningRate = 0.05, MinimumExampleCountPerLeaf = 50, ExampleWeightColumnName = "Weight", NumberOfThreads = threads, Seed = seed, Deterministic = true, Silent = true, Verbose = false })),
        new("LightGbm(leaves=31,iter=100,lr=0.1)", ml => ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
            { NumberOfLeaves = 31, NumberOfIterations = 100, LearningRate = 0.1, MinimumExampleCountPerLeaf = 20, ExampleWeightColumnName = "Weight", NumberOfThreads = threads, Seed = seed, Deterministic = true, Silent = true, Verbose = false })),
        new("FastTree(leaves=20,trees=100,lr=0.1)", ml => ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            { NumberOfLeaves = 20, NumberOfTrees = 100, LearningRate = 0.1, MinimumExampleCountPerLeaf = 20, ExampleWeightColumnName = "Weight", NumberOfThreads = threads })),
        new("FastTree(leaves=10,trees=150,lr=0.05)", ml => ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            { NumberOfLeaves = 10, NumberOfTrees = 150, LearningRate = 0.05, MinimumExampleCountPerLeaf = 50, ExampleWeightColumnName = "Weight", NumberOfThreads = threads })),
        new("LogisticRegression(l2=1)", ml => ml.Transforms.NormalizeMeanVariance("Features").Append(ml.BinaryClassification.Trainers.LbfgsLogisticRegression(
            new LbfgsLogisticRegressionBinaryTrainer.Options { L2Regularization = 1f, MaximumNumberOfIterations = 50, OptimizationTolerance = 1e-5f, ExampleWeightColumnName = "Weight", NumberOfThreads = threads }))),
        new("LogisticRegression(l2=0.01,l1=0.1)", ml => ml.Transforms.NormalizeMeanVariance("Features").Append(ml.BinaryClassification.Trainers.LbfgsLogisticRegression(
            new LbfgsLogisticRegressionBinaryTrainer.Options { L2Regularization = 0.01f, L1Regularization = 0.1f, MaximumNumberOfIterations = 50, OptimizationTolerance = 1e-5f, ExampleWeightColumnName = "Weight", NumberOfThreads = threads }))),
    ];

    public static TrainingOutcome Train(TrainingRun run)
    {
        var req = run.Request;
        run.Step(0.02, "reading the source");
        var data = ProfileData.Load(run, labelRequired: true);
        var y = data.Labels!;
        int pos = y.Count(b => b), neg = y.Length - pos;
        if (pos == 0 || neg == 0)
            throw new ModelTrainingException($"The label has only one class ({(pos == 0 ? "no" : "all")} of the {y.Length} rows are positive): a classifier needs both positive and negative examples. Check label.field/label.positive or the event window.");
        if (Math.Min(pos, neg) < 10)
            throw new ModelTrainingException($"The label has too few examples of one class ({Math.Min(pos, neg)}); at least 10 of each are needed.");
        run.Log.Add($"{data.Counts.Unit} {y.Length}, positives {pos} ({(double)pos / y.Length:P1})");

        var rng = new Random(req.Seed);
        var keys = data.Keys;
        var (train, test) = Split.StratifiedGrouped(y, keys, 0.2, rng);
        run.Step(0.1, $"learning the feature encoding on {train.Length} training rows");
        var plan = data.LearnPlan(train);
        var x = data.EncodeAll(plan);
        data.ReleaseTable(); // everything below works on x: the boxed table would only slow every full GC of the fits down
        run.Log.Add($"features: {plan.Specs.Count} columns -> {plan.Width} slots");
        var weightPos = (float)((double)neg / pos);

        // Selection runs on at most MaxSelectionRows training rows (a seeded stratified sample) to stay fast on large data.
        var cvRows = train;
        if (train.Length > MaxSelectionRows)
        {
            var keep = Split.Stratified(train.Select(r => y[r]).ToArray(), 1 - (double)MaxSelectionRows / train.Length, new Random(req.Seed + 3)).Train;
            cvRows = keep.Select(i => train[i]).ToArray();
            run.Log.Add($"model selection on a stratified sample of {cvRows.Length} training rows");
        }
        var folds = Split.FoldsGrouped(cvRows, y, keys, 3, new Random(req.Seed + 1));
        var candidates = Candidates(req.Seed);
        var fitRows = folds.Select(fold => cvRows.Where(r => !fold[r]).ToArray()).ToArray();
        var valRows = folds.Select(fold => cvRows.Where(r => fold[r]).ToArray()).ToArray();
        // Every (candidate, fold) fit is independent and single-threaded, so they run in parallel on the machine's cores with the
        // same results as one after the other; the slowest (FastTree) go first so the cores stay busy to the end.
        var order = Enumerable.Range(0, candidates.Count).OrderBy(c => candidates[c].Name.StartsWith("FastTree", StringComparison.Ordinal) ? 0 : candidates[c].Name.StartsWith("LightGbm", StringComparison.Ordinal) ? 1 : 2).ThenBy(c => c).ToArray();
        var foldScores = new double[candidates.Count, folds.Length][];
        var gate = new object(); var done = 0;
        void RunFits((int C, int F)[] jobs, double from, double to)
        {
            Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(jobs, System.Collections.Concurrent.EnumerablePartitionerOptions.NoBuffering),
                new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = run.Ct }, job =>
                {
                    var model = Fit(candidates[job.C], req.Seed, fitRows[job.F], x, y, weightPos, plan.Width);
                    foldScores[job.C, job.F] = Score(model, req.Seed, valRows[job.F], x, plan.Width);
                    lock (gate) { done++; run.Step(from + (to - from) * done / jobs.Length, $"cross-validated {candidates[job.C].Name} fold {job.F + 1}"); }
                });
            done = 0;
        }
        double FoldAuc(int c, int f) => Metrics.Auc(foldScores[c, f], valRows[f].Select(r => y[r]).ToArray());
        // First fold for every candidate; a candidate more than EarlyStopMargin below the best first-fold AUC stops there (it
        // would not win on average), the others run the remaining folds.
        run.Step(0.15, $"cross-validating {candidates.Count} candidates (fold 1 of {folds.Length}) on {Environment.ProcessorCount} cores");
        RunFits(order.Select(c => (c, 0)).ToArray(), 0.15, 0.35);
        var firstBest = Enumerable.Range(0, candidates.Count).Max(c => FoldAuc(c, 0));
        var alive = order.Where(c => FoldAuc(c, 0) >= firstBest - EarlyStopMargin).ToArray();
        foreach (var c in Enumerable.Range(0, candidates.Count).Except(alive))
            run.Log.Add(string.Create(CultureInfo.InvariantCulture, $"cv stopped {candidates[c].Name} after fold 1: auc {FoldAuc(c, 0):F4} vs best {firstBest:F4}"));
        run.Step(0.35, $"cross-validating {alive.Length} candidates on folds 2-{folds.Length}");
        RunFits(alive.SelectMany(c => Enumerable.Range(1, folds.Length - 1).Select(f => (c, f))).ToArray(), 0.35, 0.7);
        Candidate? best = null; double bestAuc = double.NegativeInfinity; double[]? bestOof = null;
        foreach (var c in Enumerable.Range(0, candidates.Count).Where(alive.Contains))
        {
            var oof = new double[y.Length];
            var aucs = new List<double>();
            for (var f = 0; f < folds.Length; f++)
            {
                var s = foldScores[c, f];
                for (var i = 0; i < valRows[f].Length; i++) oof[valRows[f][i]] = s[i];
                aucs.Add(Metrics.Auc(s, valRows[f].Select(r => y[r]).ToArray()));
            }
            var mean = aucs.Average();
            run.Log.Add(string.Create(CultureInfo.InvariantCulture, $"cv auc {candidates[c].Name}: {mean:F4} ({string.Join(", ", aucs.Select(a => a.ToString("F4", CultureInfo.InvariantCulture)))})"));
            if (mean > bestAuc) { bestAuc = mean; best = candidates[c]; bestOof = oof; }
        }
        run.Log.Add($"chosen {best!.Name}");

        var (a, b) = Platt.Fit(cvRows.Select(r => bestOof![r]).ToArray(), cvRows.Select(r => y[r]).ToArray());
        run.Step(0.75, "fitting the chosen trainer on the whole training part");
        var ml = new MLContext(req.Seed);
        // The refit uses every core: FastTree and LightGbm (Deterministic) give the same model for the same seed and thread count.
        var threads = Math.Max(1, Environment.ProcessorCount);
        var final = Fit(Candidates(req.Seed, threads).Single(c => c.Name == best.Name), req.Seed, train, x, y, weightPos, plan.Width, ml);

        run.Step(0.85, $"evaluating on {test.Length} held-out rows");
        var testY = test.Select(r => y[r]).ToArray();
        var raw = Score(final, req.Seed, test, x, plan.Width);
        var p = raw.Select(s => Platt.Apply(s, a, b)).ToArray();
        // The operating threshold: parameters.threshold, or the F1-optimal one on the out-of-fold (calibrated) training scores,
        // so the held-out rows stay untouched by the choice.
        var threshold = run.P.Number("threshold") is { } fixedThreshold
            ? fixedThreshold > 0 && fixedThreshold < 1 ? Math.Round(fixedThreshold, 2) : throw new ModelTrainingException($"Parameter 'threshold' must be between 0 and 1, got {fixedThreshold}.")
            : Thresholds.F1Optimal(cvRows.Select(r => Platt.Apply(bestOof![r], a, b)).ToArray(), cvRows.Select(r => y[r]).ToArray());
        var metrics = Metrics.Classification(p, testY);
        var confusion = Metrics.Confusion(p, testY, threshold);
        Thresholds.AddAt(metrics, confusion);
        run.Log.Add(string.Create(CultureInfo.InvariantCulture, $"operating threshold {threshold:0.00} ({(run.P.Number("threshold") is null ? "F1-optimal on the cross-validated training scores" : "parameters.threshold")}): {confusion.TruePositives + confusion.FalsePositives} of {test.Length} held-out {data.Counts.Unit} predicted positive"));
        // The baseline: the best single-column rule (positive rate per value or decile of one column), at its own F1-optimal threshold.
        var prior = train.Count(r => y[r]) / (double)train.Length;
        var (ruleFeature, ruleScores, ruleThreshold) = Thresholds.BestSingleColumn(plan, x, y, train, test);
        var ruleName = ruleFeature is null ? "class prior" : $"best single column '{ruleFeature}'";
        // With event features the RFM rule is a baseline too: the stronger of the two (held-out AUC) is the one to beat.
        if (Thresholds.RfmRule(plan, x, y, train, test) is { } rfm)
        {
            var rfmAuc = Metrics.Auc(rfm.Scores, testY); var columnAuc = Metrics.Auc(ruleScores, testY);
            run.Log.Add(string.Create(CultureInfo.InvariantCulture, $"baseline candidates: RFM rule auc {rfmAuc:F4}, {ruleName} auc {columnAuc:F4}"));
            if (rfmAuc > columnAuc) { ruleScores = rfm.Scores; ruleThreshold = rfm.TrainThreshold; ruleFeature = "RFM rule"; ruleName = "RFM rule (recency, frequency, monetary quintiles)"; }
        }
        var baseline = Metrics.Classification(ruleScores, testY);
        Thresholds.AddAt(baseline, Metrics.Confusion(ruleScores, testY, ruleThreshold));
        baseline["priorLogLoss"] = Metrics.LogLoss(testY.Select(_ => prior).ToArray(), testY);
        run.Log.Add(string.Create(CultureInfo.InvariantCulture, $"baseline: {ruleName} auc {baseline["auc"]:F4}, f1 {baseline["f1"]:F4} at {ruleThreshold:0.00}; class prior log loss {baseline["priorLogLoss"]:F4}"));
        var grade = Grades.Classification(metrics, baseline, confusion, ruleFeature, ruleName);

        run.Step(0.9, "permutation importance");
        var importance = test.Length <= MaxImportanceRows
            ? PermutationImportance(final, req.Seed, plan, test, x, testY, metrics["auc"], new Random(req.Seed + 2))
            : ImportanceOnSample();
        IReadOnlyList<FeatureImportance> ImportanceOnSample()
        {
            var at = Split.Stratified(testY, 1 - (double)MaxImportanceRows / test.Length, new Random(req.Seed + 4)).Train;
            run.Log.Add($"permutation importance on a stratified sample of {at.Length} held-out rows");
            var sampleY = at.Select(i => testY[i]).ToArray();
            return PermutationImportance(final, req.Seed, plan, at.Select(i => test[i]).ToArray(), x, sampleY,
                Metrics.Auc(at.Select(i => p[i]).ToArray(), sampleY), new Random(req.Seed + 2));
        }
        // The training distribution (decile edges for drift) from at most MaxDistributionRows training rows (a seeded sample on large data).
        var distributionRows = train.Length <= MaxDistributionRows ? train
            : Split.Random(train.Length, 1 - (double)MaxDistributionRows / train.Length, new Random(req.Seed + 5)).Train.Select(i => train[i]).ToArray();
        var trainScores = Score(final, req.Seed, distributionRows, x, plan.Width).Select(s => Platt.Apply(s, a, b)).ToArray();

        // Per-profile reasons: the contribution calculator rides along in the saved model; its training means make contributions relative to the average profile.
        var reasonRows = train.Length <= Reasons.MaxMeanRows ? train : Split.Random(train.Length, 1 - (double)Reasons.MaxMeanRows / train.Length, new Random(req.Seed + 6)).Train.Select(i => train[i]).ToArray();
        var withReasons = Reasons.Attach(ml, final, MlRows.Load(ml, reasonRows.Take(100).Select(r => new FeatureRow { Features = x[r] }), plan.Width), plan.Width);
        var reasonState = withReasons is null ? null : Reasons.Learn(ml, withReasons, x, reasonRows, plan.Width);
        run.Log.Add(withReasons is null ? $"no per-profile reasons for {best.Name}" : $"per-profile reasons: feature contributions of {best.Name}, centred on {reasonRows.Length} training {data.Counts.Unit}");
        var manifest = new ModelManifest
        {
            Recipe = req.Recipe, Trainer = best.Name, KeyField = data.KeyField, InputFields = data.InputFields, Plan = plan,
            PlattA = a, PlattB = b, Events = data.EventColumns, EventTypes = data.EventTypes, UsesEventFeatures = data.EventColumns is not null,
            TrainingCutoff = data.Cutoff, Reasons = reasonState,
        };
        var schemaView = MlRows.Load(ml, Array.Empty<FeatureRow>(), plan.Width);
        run.Step(1, "done");
        return new TrainingOutcome
        {
            Recipe = req.Recipe, Metrics = metrics, Baseline = baseline, Trainer = best.Name,
            Grade = grade.Grade,
            FeatureImportance = importance,
            FittedParameters = new Dictionary<string, double> { ["cvAuc"] = bestAuc, ["plattA"] = a, ["plattB"] = b },
            Charts = new ModelCharts
            {
                Roc = Metrics.Roc(p, testY), PrecisionRecall = Metrics.PrecisionRecall(p, testY),
                Deciles = Metrics.Deciles(p, testY.Select(v => v ? 1.0 : 0.0).ToArray()),
                Calibration = Metrics.Calibration(p, testY), Confusion = confusion,
                Thresholds = Thresholds.Table(p, testY), GradeReasons = grade.Reasons, BaselineRule = ruleName,
                Data = data.Counts,
            },
            TrainingDistribution = ScoreDistribution.Deciles(trainScores),
            Log = run.Log, TrainRows = train.Length, TestRows = test.Length,
            Artifact = ModelArtifact.Write(manifest, ml, withReasons ?? final, schemaView.Schema),
        };
    }

    private static ITransformer Fit(Candidate c, int seed, int[] rows, float[][] x, bool[] y, float weightPos, int width, MLContext? ml = null)
    {
        ml ??= new MLContext(seed);
        var view = MlRows.Load(ml, rows.Select(r => new BinaryRow { Label = y[r], Weight = y[r] ? weightPos : 1f, Features = x[r] }), width);
        return c.Build(ml).Fit(view);
    }

    internal static double[] Score(ITransformer model, int seed, int[] rows, float[][] x, int width)
    {
        var ml = new MLContext(seed);
        var view = MlRows.Load(ml, rows.Select(r => new FeatureRow { Features = x[r] }), width);
        return MlRows.Scores(model.Transform(view));
    }

    private static IReadOnlyList<FeatureImportance> PermutationImportance(ITransformer model, int seed, FeaturePlan plan, int[] rows, float[][] x, bool[] y, double baseAuc, Random rng)
    {
        var offsets = plan.Offsets();
        var result = new List<FeatureImportance>();
        for (var s = 0; s < plan.Specs.Count; s++)
        {
            var perm = rows.ToArray();
            rng.Shuffle(perm);
            var shuffled = new float[rows.Length][];
            for (var i = 0; i < rows.Length; i++)
            {
                var v = (float[])x[rows[i]].Clone();
                Array.Copy(x[perm[i]], offsets[s], v, offsets[s], plan.Specs[s].Width);
                shuffled[i] = v;
            }
            var scores = Score(model, seed, Enumerable.Range(0, rows.Length).ToArray(), shuffled, plan.Width);
            result.Add(new FeatureImportance(plan.Specs[s].Name, baseAuc - Metrics.Auc(scores, y)));
        }
        return result.OrderByDescending(f => f.Importance).ToArray();
    }
}

/// <summary>Platt scaling: p = 1 / (1 + exp(A s + B)), fitted by Newton's method with Platt's smoothed targets.</summary>
public static class Platt
{
    public static double Apply(double s, double a, double b) => 1 / (1 + Math.Exp(a * s + b));

    public static (double A, double B) Fit(IReadOnlyList<double> s, IReadOnlyList<bool> y)
    {
        double np = y.Count(v => v), nn = y.Count - np;
        double hi = (np + 1) / (np + 2), lo = 1 / (nn + 2);
        double a = 0, b = Math.Log((nn + 1) / (np + 1));
        double Loss(double aa, double bb)
        {
            double l = 0;
            for (var i = 0; i < s.Count; i++)
            {
                var t = y[i] ? hi : lo; var f = aa * s[i] + bb;
                l += f >= 0 ? t * f + Math.Log(1 + Math.Exp(-f)) : (t - 1) * f + Math.Log(1 + Math.Exp(f));
            }
            return l;
        }
        var current = Loss(a, b);
        for (var it = 0; it < 100; it++)
        {
            double g1 = 0, g2 = 0, h11 = 1e-12, h22 = 1e-12, h21 = 0;
            for (var i = 0; i < s.Count; i++)
            {
                var t = y[i] ? hi : lo; var p = Apply(s[i], a, b); var d1 = t - p; var d2 = p * (1 - p);
                g1 += s[i] * d1; g2 += d1; h11 += s[i] * s[i] * d2; h22 += d2; h21 += s[i] * d2;
            }
            if (Math.Abs(g1) < 1e-9 && Math.Abs(g2) < 1e-9) break;
            var det = h11 * h22 - h21 * h21;
            double da = -(h22 * g1 - h21 * g2) / det, db = -(-h21 * g1 + h11 * g2) / det;
            var step = 1.0;
            while (step > 1e-10)
            {
                var next = Loss(a + step * da, b + step * db);
                if (next < current + 1e-4 * step * (g1 * da + g2 * db)) { a += step * da; b += step * db; current = next; break; }
                step /= 2;
            }
            if (step <= 1e-10) break;
        }
        return (a, b);
    }
}

/// <summary>Seeded, stratified splits.</summary>
internal static class Split
{
    /// <summary>
    /// As <see cref="Stratified"/>, but rows with the same key (copies of one profile) always land on the same side: the
    /// split is drawn over keys (stratified by whether a key has any positive row). With unique keys it is <see cref="Stratified"/>.
    /// </summary>
    public static (int[] Train, int[] Test) StratifiedGrouped(bool[] y, string[] keys, double testShare, Random rng)
    {
        var groups = Groups(keys);
        if (groups.Length == keys.Length) return Stratified(y, testShare, rng);
        var gy = groups.Select(g => g.Any(r => y[r])).ToArray();
        var (gTrain, gTest) = Stratified(gy, testShare, rng);
        int[] Rows(int[] gs) { var r = gs.SelectMany(g => groups[g]).ToArray(); Array.Sort(r); return r; }
        return (Rows(gTrain), Rows(gTest));
    }

    /// <summary>As <see cref="Folds"/>, with every key's rows in one fold.</summary>
    public static Dictionary<int, bool>[] FoldsGrouped(int[] rows, bool[] y, string[] keys, int k, Random rng)
    {
        var byKey = rows.GroupBy(r => keys[r], StringComparer.Ordinal).Select(g => g.ToArray()).ToArray();
        if (byKey.Length == rows.Length) return Folds(rows, y, k, rng);
        var gy = byKey.Select(g => g.Any(r => y[r])).ToArray();
        var gFolds = Folds(Enumerable.Range(0, byKey.Length).ToArray(), gy, k, rng);
        return gFolds.Select(f => f.SelectMany(kv => byKey[kv.Key].Select(r => (r, kv.Value))).ToDictionary(x => x.r, x => x.Value)).ToArray();
    }

    /// <summary>Row indexes grouped by key, in order of first appearance.</summary>
    public static int[][] Groups(string[] keys) =>
        Enumerable.Range(0, keys.Length).GroupBy(i => keys[i], StringComparer.Ordinal).Select(g => g.ToArray()).ToArray();

    public static (int[] Train, int[] Test) Stratified(bool[] y, double testShare, Random rng)
    {
        var train = new List<int>(); var test = new List<int>();
        foreach (var cls in new[] { true, false })
        {
            var idx = Enumerable.Range(0, y.Length).Where(i => y[i] == cls).ToArray();
            rng.Shuffle(idx);
            var nTest = (int)Math.Round(idx.Length * testShare);
            test.AddRange(idx[..nTest]); train.AddRange(idx[nTest..]);
        }
        train.Sort(); test.Sort();
        return (train.ToArray(), test.ToArray());
    }

    public static (int[] Train, int[] Test) Random(int n, double testShare, Random rng)
    {
        var idx = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(idx);
        var nTest = (int)Math.Round(n * testShare);
        var test = idx[..nTest]; var train = idx[nTest..];
        Array.Sort(test); Array.Sort(train);
        return (train, test);
    }

    /// <summary>k stratified folds of <paramref name="rows"/>: fold f maps row -> true when it is in fold f's validation part.</summary>
    public static Dictionary<int, bool>[] Folds(int[] rows, bool[] y, int k, Random rng)
    {
        var folds = Enumerable.Range(0, k).Select(_ => new Dictionary<int, bool>()).ToArray();
        foreach (var cls in new[] { true, false })
        {
            var idx = rows.Where(r => y[r] == cls).ToArray();
            rng.Shuffle(idx);
            for (var i = 0; i < idx.Length; i++)
                for (var f = 0; f < k; f++) folds[f][idx[i]] = i % k == f;
        }
        return folds;
    }
}
