using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Trainers.LightGbm;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>What scoring an uplift model needs: the treatment arms it was trained on (for the text) and nothing else (both models are in the artifact).</summary>
public sealed record UpliftState(string TreatmentField, string TreatedValue, string? ControlValue);

/// <summary>One decile of held-out rows ranked by predicted uplift (1 = highest): observed conversion of the treated and control rows in it.</summary>
public sealed record UpliftDecile(int Decile, int Treated, int Control, double TreatedRate, double ControlRate, double ObservedUplift, double PredictedUplift);

/// <summary>
/// uplift (campaign response): the effect of a treatment (a campaign, an e-mail) on a binary outcome, per profile. Two-model
/// approach: one LightGbm classifier on the treated rows, one on the control rows (rows whose <c>parameters.treatmentField</c>
/// equals <c>treatedValue</c>, resp. <c>controlValue</c> or, without it, any other value); the uplift is P(outcome | treated)
/// − P(outcome | control). Rows are split 80/20 (stratified by arm, grouped by profile); on the held-out 20 % the report is the
/// Qini curve and coefficient against random targeting (the straight line: the average effect, the same in every decile) and the
/// observed uplift by decile of predicted uplift. Permutation importance is the drop of the Qini coefficient.
/// </summary>
internal static class UpliftRecipe
{
    public const int MinPerArm = 20;

    private static ITransformer Fit(MLContext ml, int seed, IEnumerable<int> rows, float[][] x, bool[] y, int width) =>
        ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
            { NumberOfLeaves = 15, NumberOfIterations = 100, LearningRate = 0.05, MinimumExampleCountPerLeaf = 50, NumberOfThreads = 1, Seed = seed, Deterministic = true, Silent = true, Verbose = false })
            .Fit(MlRows.Load(ml, rows.Select(r => new BinaryRow { Label = y[r], Weight = 1, Features = x[r] }), width));

    /// <summary>The "Probability" column of a binary model on the given encoded rows.</summary>
    internal static double[] Probabilities(MLContext ml, ITransformer model, IEnumerable<float[]> rows, int width)
    {
        var scored = model.Transform(MlRows.Load(ml, rows.Select(v => new FeatureRow { Features = v }), width));
        var col = scored.Schema["Probability"];
        var list = new List<double>();
        using var cursor = scored.GetRowCursor([col]);
        var getter = cursor.GetGetter<float>(col);
        float p = 0;
        while (cursor.MoveNext()) { getter(ref p); list.Add(p); }
        return list.ToArray();
    }

    public static TrainingOutcome Train(TrainingRun run)
    {
        var req = run.Request; var p = run.P;
        var field = p.String("treatmentField") ?? throw new ModelTrainingException("Parameter 'treatmentField' (the column that says who was treated) is required for the uplift recipe.");
        var treatedValue = p.String("treatedValue") ?? throw new ModelTrainingException("Parameter 'treatedValue' (the value of the treatment column for treated rows, e.g. 'Mens E-Mail') is required.");
        var controlValue = string.IsNullOrWhiteSpace(p.String("controlValue")) ? null : p.String("controlValue");
        if (req.Label is null) throw new ModelTrainingException("The uplift recipe needs the outcome: label {field, positive} (e.g. conversion, 1).");
        if (req.Label.Field == field) throw new ModelTrainingException("The treatment column cannot be the outcome.");
        run.Step(0.02, "reading the source");
        var data = ProfileData.Load(run, labelRequired: true, extraColumn: field);
        var arm = data.Table.Column(ProfileData.ExtraColumn).Select(v => ModelLake.ToText(v)?.Trim()).Select(t =>
            t is null ? (bool?)null
            : string.Equals(t, treatedValue.Trim(), StringComparison.OrdinalIgnoreCase) ? true
            : controlValue is null || string.Equals(t, controlValue.Trim(), StringComparison.OrdinalIgnoreCase) ? false : null).ToArray();
        var yAll = data.Labels!;
        var kept = Enumerable.Range(0, arm.Length).Where(i => arm[i] is not null).ToArray();
        var nT = kept.Count(i => arm[i] == true); var nC = kept.Length - nT;
        var values = data.Table.Column(ProfileData.ExtraColumn).Select(ModelLake.ToText).Where(t => t is not null).Distinct(StringComparer.OrdinalIgnoreCase).Take(10).ToArray();
        if (nT < MinPerArm || nC < MinPerArm)
            throw new ModelTrainingException($"The treatment column '{field}' gives {nT} treated rows ('{treatedValue}') and {nC} control rows ({(controlValue is null ? "any other value" : $"'{controlValue}'")}); at least {MinPerArm} of each are needed. Values seen: {string.Join(", ", values.Select(v => $"'{v}'"))}.");
        if (kept.Where(i => arm[i] == true).All(i => yAll[i]) || kept.Where(i => arm[i] == true).All(i => !yAll[i]) || kept.Where(i => arm[i] == false).All(i => yAll[i]) || kept.Where(i => arm[i] == false).All(i => !yAll[i]))
            throw new ModelTrainingException("The outcome has only one class in the treated or the control rows: an uplift model needs both outcomes in both arms.");
        run.Log.Add($"{kept.Length} {data.Counts.Unit} kept ({nT} treated '{treatedValue}', {nC} control{(controlValue is null ? "" : $" '{controlValue}'")}); {arm.Length - kept.Length} with another or no treatment value left out");

        // Split over the kept rows (stratified by arm, grouped by profile); the indexes below are into the full table.
        var keys = data.Keys;
        var (trainK, testK) = Split.StratifiedGrouped(kept.Select(i => arm[i]!.Value).ToArray(), kept.Select(i => keys[i]).ToArray(), 0.2, new Random(req.Seed));
        var train = trainK.Select(i => kept[i]).ToArray(); var test = testK.Select(i => kept[i]).ToArray();
        run.Step(0.1, $"learning the feature encoding on {train.Length} training {data.Counts.Unit}");
        var plan = data.LearnPlan(train);
        var x = data.EncodeAll(plan);
        run.Log.Add($"features: {plan.Specs.Count} columns -> {plan.Width} slots");
        var ml = new MLContext(req.Seed);
        run.Step(0.3, "fitting the treated model");
        var treatedModel = Fit(ml, req.Seed, train.Where(r => arm[r] == true), x, yAll, plan.Width);
        run.Step(0.5, "fitting the control model");
        var controlModel = Fit(ml, req.Seed, train.Where(r => arm[r] == false), x, yAll, plan.Width);

        run.Step(0.7, $"evaluating on {test.Length} held-out {data.Counts.Unit}");
        var testT = test.Select(r => arm[r]!.Value).ToArray(); var testY = test.Select(r => yAll[r]).ToArray();
        double[] Uplift(float[][] rows) =>
            Probabilities(ml, treatedModel, rows, plan.Width).Zip(Probabilities(ml, controlModel, rows, plan.Width), (a, b) => a - b).ToArray();
        var testX = test.Select(r => x[r]).ToArray();
        var uplift = Uplift(testX);
        var qini = UpliftMetrics.Qini(uplift, testT, testY);
        var deciles = UpliftMetrics.Deciles(uplift, testT, testY);
        var ate = UpliftMetrics.Ate(testT, testY);
        var top30 = UpliftMetrics.TopShareUplift(uplift, testT, testY, 0.3);
        var metrics = new Dictionary<string, double>
        {
            ["qini"] = qini.Coefficient, ["ate"] = ate, ["upliftTop10"] = UpliftMetrics.TopShareUplift(uplift, testT, testY, 0.1), ["upliftTop30"] = top30,
            ["meanPredictedUplift"] = uplift.Average(),
        };
        var baseline = new Dictionary<string, double> { ["qini"] = 0, ["ate"] = ate, ["upliftTop10"] = ate, ["upliftTop30"] = ate };
        var grade = Grade(qini.Coefficient, ate, top30, qini.Total);
        run.Log.Add(string.Create(CultureInfo.InvariantCulture, $"held-out qini {qini.Coefficient:F5}, average effect {ate:F4}, observed uplift in the top 30 % {top30:F4}"));

        run.Step(0.85, "permutation importance (drop of the Qini coefficient)");
        var offsets = plan.Offsets(); var rng = new Random(req.Seed + 2);
        var importance = new List<FeatureImportance>();
        for (var s = 0; s < plan.Specs.Count; s++)
        {
            var perm = Enumerable.Range(0, test.Length).ToArray();
            rng.Shuffle(perm);
            var shuffled = testX.Select((v, i) => { var c = (float[])v.Clone(); Array.Copy(testX[perm[i]], offsets[s], c, offsets[s], plan.Specs[s].Width); return c; }).ToArray();
            importance.Add(new FeatureImportance(plan.Specs[s].Name, qini.Coefficient - UpliftMetrics.Qini(Uplift(shuffled), testT, testY).Coefficient));
        }
        var trainUplift = Uplift(train.Take(BinaryRecipe.MaxDistributionRows).Select(r => x[r]).ToArray());
        var manifest = new ModelManifest
        {
            Recipe = Recipe.Uplift, Trainer = "two-model LightGbm", KeyField = data.KeyField, InputFields = data.InputFields, Plan = plan,
            Uplift = new UpliftState(field, treatedValue, controlValue),
        };
        var schema = MlRows.Load(ml, Array.Empty<FeatureRow>(), plan.Width).Schema;
        run.Step(1, "done");
        return new TrainingOutcome
        {
            Recipe = Recipe.Uplift, Metrics = metrics, Baseline = baseline, Trainer = "two-model LightGbm", Grade = grade.Grade,
            FeatureImportance = importance.OrderByDescending(f => f.Importance).ToArray(),
            Charts = new ModelCharts { Uplift = deciles, Qini = qini.Curve, GradeReasons = grade.Reasons, BaselineRule = "random targeting (the average effect everywhere)", Data = data.Counts },
            TrainingDistribution = ScoreDistribution.Deciles(trainUplift),
            Log = run.Log, TrainRows = train.Length, TestRows = test.Length,
            Artifact = ModelArtifact.Write(manifest, ml, treatedModel, schema, controlModel),
        };
    }

    /// <summary>A needs a positive Qini coefficient and a top 30 % whose observed uplift is at least 1.5 × the average effect (and 1 point above it); B a positive Qini.</summary>
    public static GradeReport Grade(double qini, double ate, double top30, double totalGain)
    {
        var reasons = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"Qini coefficient {qini:0.00000} ({(qini > 0 ? "above" : "not above")} 0, random targeting); the average effect of the treatment in the held-out rows is {ate * 100:0.00} points."),
            string.Create(CultureInfo.InvariantCulture, $"Observed uplift in the top 30 % by predicted uplift: {top30 * 100:0.00} points (A needs ≥ 1.5 × the average effect and 1 point above it)."),
        };
        if (totalGain <= 0) reasons.Add("The treatment shows no positive effect overall in the held-out rows: ranking by uplift can only find where it hurts least.");
        var strong = qini > 0 && top30 >= 1.5 * Math.Max(ate, 0) && top30 >= ate + 0.01;
        return new GradeReport(strong ? "A" : qini > 0 ? "B" : "C", reasons);
    }
}

/// <summary>Held-out uplift metrics: the Qini curve, uplift by decile, the average effect.</summary>
public static class UpliftMetrics
{
    /// <summary>Conversion rate of the treated minus that of the control rows.</summary>
    public static double Ate(IReadOnlyList<bool> treated, IReadOnlyList<bool> y)
    {
        double t = 0, tc = 0, c = 0, cc = 0;
        for (var i = 0; i < y.Count; i++) { if (treated[i]) { t++; if (y[i]) tc++; } else { c++; if (y[i]) cc++; } }
        return (t == 0 ? 0 : tc / t) - (c == 0 ? 0 : cc / c);
    }

    /// <summary>
    /// Qini curve over the rows ranked by <paramref name="uplift"/> (highest first): at the top k, Q(k) = Y_T(k) − Y_C(k) · N_T(k) / N_C(k)
    /// (incremental conversions), as a share of the rows. <c>Curve</c>: 21 points (x = share targeted, y = Q / N). <c>Coefficient</c>: the
    /// area between the curve and the random line from (0, 0) to (1, Q(N)/N), over every k. <c>Total</c>: Q(N)/N.
    /// </summary>
    public static (double Coefficient, double Total, IReadOnlyList<CurvePoint> Curve) Qini(IReadOnlyList<double> uplift, IReadOnlyList<bool> treated, IReadOnlyList<bool> y)
    {
        var n = uplift.Count;
        var order = Enumerable.Range(0, n).OrderByDescending(i => uplift[i]).ThenBy(i => i).ToArray();
        var q = new double[n + 1];
        double nt = 0, nc = 0, yt = 0, yc = 0;
        for (var k = 0; k < n; k++)
        {
            var i = order[k];
            if (treated[i]) { nt++; if (y[i]) yt++; } else { nc++; if (y[i]) yc++; }
            q[k + 1] = (yt - (nc == 0 ? 0 : yc * nt / nc)) / n;
        }
        var total = q[n];
        double area = 0;
        for (var k = 1; k <= n; k++) area += ((q[k] + q[k - 1]) / 2 - total * (k - 0.5) / n) / n;
        var curve = Enumerable.Range(0, 21).Select(s => new CurvePoint(s / 20.0, q[(int)Math.Round(s / 20.0 * n)])).ToArray();
        return (area, total, curve);
    }

    /// <summary>Observed uplift (treated rate − control rate) among the top <paramref name="share"/> of rows by predicted uplift.</summary>
    public static double TopShareUplift(IReadOnlyList<double> uplift, IReadOnlyList<bool> treated, IReadOnlyList<bool> y, double share)
    {
        var top = Enumerable.Range(0, uplift.Count).OrderByDescending(i => uplift[i]).ThenBy(i => i).Take(Math.Max(1, (int)Math.Round(share * uplift.Count))).ToArray();
        return Ate(top.Select(i => treated[i]).ToArray(), top.Select(i => y[i]).ToArray());
    }

    public static IReadOnlyList<UpliftDecile> Deciles(IReadOnlyList<double> uplift, IReadOnlyList<bool> treated, IReadOnlyList<bool> y)
    {
        var n = uplift.Count;
        var order = Enumerable.Range(0, n).OrderByDescending(i => uplift[i]).ThenBy(i => i).ToArray();
        var list = new List<UpliftDecile>();
        for (var d = 0; d < 10; d++)
        {
            var rows = order[(d * n / 10)..((d + 1) * n / 10)];
            if (rows.Length == 0) continue;
            int t = rows.Count(i => treated[i]), c = rows.Length - t;
            double tr = t == 0 ? 0 : (double)rows.Count(i => treated[i] && y[i]) / t, cr = c == 0 ? 0 : (double)rows.Count(i => !treated[i] && y[i]) / c;
            list.Add(new UpliftDecile(d + 1, t, c, tr, cr, tr - cr, rows.Average(i => uplift[i])));
        }
        return list;
    }
}
