using System.Globalization;
using Enrichment.Portal.Core.Schemas;
using Microsoft.ML;
using Microsoft.ML.Trainers;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>
/// segmentation. ML.NET KMeans (k-means++ init, one thread, seeded) on the z-scored numeric, boolean and date (age)
/// features of the source (plus event aggregates as of the cutoff when an event dataset is given; missing values take
/// the mean). k is parameter <c>k</c>, or the k in 2..10 with the best mean silhouette on a seeded sample of at most
/// 2,000 rows. Each cluster is described by the features whose centroid is at least 0.5 standard deviations from the
/// overall mean ("high frequency, low monetary"), the three largest first.
/// </summary>
internal static class SegmentationRecipe
{
    public const int SilhouetteSample = 2000;

    public static TrainingOutcome Train(TrainingRun run)
    {
        var req = run.Request;
        run.Step(0.05, "reading the source");
        var data = ProfileData.Load(run, labelRequired: false);
        var numeric = data.FeatureColumns.Where(f => f.Type is FieldType.Integer or FieldType.Number or FieldType.Boolean or FieldType.Date or FieldType.DateTime).ToArray();
        foreach (var f in data.FeatureColumns.Except(numeric)) run.Log.Add($"feature {f.Name} skipped: segmentation uses numeric features");
        if (numeric.Length == 0) throw new ModelTrainingException("Segmentation needs at least one numeric feature.");
        var all = Enumerable.Range(0, data.Table.Rows).ToArray();
        var plan = new FeaturePlan(numeric.Select(f => FeaturePlanBuilder.Learn(f.Name, f.Type, data.Table.Column(f.Name), all, data.Reference) with { MissingSlot = false }).ToArray(), data.Reference);
        var raw = data.EncodeAll(plan);
        var n = raw.Length; var d = plan.Width;
        if (n < 4) throw new ModelTrainingException($"Segmentation needs at least 4 rows, got {n}.");
        var means = Enumerable.Range(0, d).Select(j => raw.Average(r => (double)r[j])).ToArray();
        var stds = Enumerable.Range(0, d).Select(j => Math.Sqrt(raw.Average(r => (r[j] - means[j]) * (r[j] - means[j])))).Select(s => s > 1e-12 ? s : 1).ToArray();
        var z = raw.Select(r => Enumerable.Range(0, d).Select(j => (float)((r[j] - means[j]) / stds[j])).ToArray()).ToArray();

        var rng = new Random(req.Seed);
        var sample = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(sample);
        sample = sample[..Math.Min(SilhouetteSample, n)];
        var ml = new MLContext(req.Seed);
        var view = MlRows.Load(ml, z.Select(v => new FeatureRow { Features = v }), d);

        var fixedK = run.P.Int("k");
        if (fixedK is { } fk && (fk < 2 || fk > n - 1)) throw new ModelTrainingException($"Parameter 'k' must be between 2 and {n - 1}, got {fk}.");
        var ks = fixedK is { } k0 ? [k0] : Enumerable.Range(2, Math.Min(9, n - 2)).ToArray();
        ITransformer? best = null; uint[]? bestAssign = null; double bestSil = double.NegativeInfinity; var bestK = 0;
        foreach (var k in ks)
        {
            run.Step(0.1 + 0.7 * Array.IndexOf(ks, k) / ks.Length, $"KMeans k={k}");
            var model = ml.Clustering.Trainers.KMeans(new KMeansTrainer.Options
                { FeatureColumnName = "Features", NumberOfClusters = k, NumberOfThreads = 1, InitializationAlgorithm = KMeansTrainer.InitializationAlgorithm.KMeansPlusPlus }).Fit(view);
            var assign = Assign(ml, model, z, d);
            var sil = Silhouette(sample.Select(i => z[i]).ToArray(), sample.Select(i => assign[i]).ToArray());
            run.Log.Add(string.Create(CultureInfo.InvariantCulture, $"k={k} silhouette {sil:F4}"));
            if (sil > bestSil) { bestSil = sil; best = model; bestAssign = assign; bestK = k; }
        }

        run.Step(0.85, "describing the clusters");
        var names = plan.Specs.Select(s => s.Name).ToArray();
        var clusters = new List<ClusterInfo>();
        var descriptions = new List<string>();
        for (var cl = 1; cl <= bestK; cl++)
        {
            var members = Enumerable.Range(0, n).Where(i => bestAssign![i] == cl).ToArray();
            var centroid = Enumerable.Range(0, d).Select(j => members.Length == 0 ? 0 : members.Average(i => (double)z[i][j])).ToArray();
            var desc = Describe(names, centroid);
            descriptions.Add(desc);
            clusters.Add(new ClusterInfo(cl, members.Length, desc, names.Select((nm, j) => (nm, v: centroid[j] * stds[j] + means[j])).ToDictionary(t => t.nm, t => t.v)));
        }
        var grade = Grades.Segmentation(bestSil, clusters);
        // Cluster-defining features: the share of each feature's variance explained by the segments (eta squared, 0..1).
        var importance = new List<FeatureImportance>();
        for (var j = 0; j < d; j++)
        {
            double total = 0, between = 0;
            var sums = new double[bestK + 1]; var counts = new int[bestK + 1];
            for (var i = 0; i < n; i++) { var v = z[i][j]; total += v * v; sums[bestAssign![i]] += v; counts[bestAssign[i]]++; }
            for (var cl = 1; cl <= bestK; cl++) if (counts[cl] > 0) between += sums[cl] * sums[cl] / counts[cl];
            importance.Add(new FeatureImportance(names[j], total <= 0 ? 0 : between / total));
        }
        var state = new SegmentationState(names, means, stds, descriptions);
        var manifest = new ModelManifest { Recipe = Recipe.Segmentation, Trainer = "KMeans", KeyField = data.KeyField, InputFields = data.InputFields, Plan = plan, Segmentation = state,
            Events = data.EventColumns, EventTypes = data.EventTypes, UsesEventFeatures = data.EventColumns is not null, TrainingCutoff = data.Cutoff };
        run.Step(1, "done");
        return new TrainingOutcome
        {
            Recipe = Recipe.Segmentation, Trainer = "KMeans",
            Metrics = new Dictionary<string, double> { ["silhouette"] = bestSil, ["k"] = bestK },
            Baseline = new Dictionary<string, double> { ["silhouette"] = 0 },
            Grade = grade.Grade, FeatureImportance = importance.OrderByDescending(f => f.Importance).ToArray(),
            Charts = new ModelCharts { Clusters = clusters, Data = data.Counts, GradeReasons = grade.Reasons },
            TrainingDistribution = new ScoreDistribution(Enumerable.Range(1, bestK - 1).Select(x => x + 0.5).ToArray(), clusters.Select(x => (double)x.Size / n).ToArray()),
            Log = run.Log, TrainRows = n, TestRows = sample.Length,
            Artifact = ModelArtifact.Write(manifest, ml, best, view.Schema),
        };
    }

    public static uint[] Assign(MLContext ml, ITransformer model, float[][] z, int d)
    {
        var scored = model.Transform(MlRows.Load(ml, z.Select(v => new FeatureRow { Features = v }), d));
        return ml.Data.CreateEnumerable<ClusterRow>(scored, reuseRowObject: false).Select(r => r.PredictedLabel).ToArray();
    }

    public static string Describe(IReadOnlyList<string> names, IReadOnlyList<double> zCentroid)
    {
        var parts = Enumerable.Range(0, names.Count).Where(j => Math.Abs(zCentroid[j]) >= 0.5)
            .OrderByDescending(j => Math.Abs(zCentroid[j])).Take(3)
            .Select(j => (zCentroid[j] > 0 ? "high " : "low ") + Humanize(names[j])).ToArray();
        return parts.Length == 0 ? "close to average" : string.Join(", ", parts);
    }

    private static string Humanize(string name) => name switch
    {
        "ev_frequency" => "frequency",
        "ev_monetary" => "spend",
        "ev_recency_days" => "days since last event",
        "ev_days_since_first" => "tenure",
        _ => name.StartsWith("ev_", StringComparison.Ordinal) ? name[3..].Replace('_', ' ') : name,
    };

    /// <summary>Mean silhouette (Euclidean) of the points.</summary>
    public static double Silhouette(float[][] x, uint[] label)
    {
        var n = x.Length;
        var clusters = label.Distinct().ToArray();
        if (clusters.Length < 2) return 0;
        double total = 0;
        for (var i = 0; i < n; i++)
        {
            var sums = new Dictionary<uint, (double Sum, int Count)>();
            for (var j = 0; j < n; j++)
            {
                if (i == j) continue;
                double s = 0;
                for (var f = 0; f < x[i].Length; f++) { var df = x[i][f] - x[j][f]; s += df * df; }
                var cur = sums.GetValueOrDefault(label[j]);
                sums[label[j]] = (cur.Sum + Math.Sqrt(s), cur.Count + 1);
            }
            var own = sums.GetValueOrDefault(label[i]);
            if (own.Count == 0) continue;
            var a = own.Sum / own.Count;
            var b = sums.Where(kv => kv.Key != label[i]).Select(kv => kv.Value.Sum / kv.Value.Count).DefaultIfEmpty(0).Min();
            total += (b - a) / Math.Max(a, b);
        }
        return total / n;
    }
}
