using System.Globalization;
using DuckDB.NET.Data;
using Microsoft.ML;
using Microsoft.ML.Trainers.LightGbm;

namespace Enrichment.Portal.Core.Recipes;

/// <summary>One customer's calibration and holdout figures for CLV. <see cref="Spend"/> is the Gamma-Gamma summary
/// (repeat transactions with a positive spend and their mean), which can count fewer transactions than <see cref="Rfm"/>.</summary>
internal sealed record ClvCustomer(string Key, RfmSummary Rfm, double CalibrationSpend, SpendSummary Spend, double HoldoutSpend, double HoldoutPurchases, double RecentSpend, double PreviousSpend = 0);

/// <summary>
/// clv. Every event with a non-negative (or no) amount is a purchase, a zero amount included (negative amounts are
/// returns and are left out); purchases on the same calendar day are one transaction (their amounts summed).
/// Calibration = the days up to and including <c>calibrationEnd</c>; holdout = the <c>horizon</c> units after it
/// (days calibrationEnd + 1 .. calibrationEnd + horizon). x = transactions after the first, t_x = days from the first
/// transaction to the last, T = days from the first transaction to calibrationEnd, both divided by the unit.
/// <c>bgnbd</c>: BG/NBD on (x, t_x, T) of every transaction, and Gamma-Gamma on the repeat transactions with a positive
/// spend (count and mean), both by maximum likelihood; predicted value = expected purchases over the horizon x
/// expected spend per purchase. <c>regression</c>: LightGbm regression of holdout spend on event aggregates as of the
/// end of calibrationEnd (80/20 customer split). Baselines: past spend rate carried forward (calibration spend /
/// max(T, 1 unit) x horizon) and last-horizon spend repeated; the grade is against the better of the two.
/// <c>discountRate</c> is annual and only applies to scored values.
/// </summary>
internal static class ClvRecipe
{
    public static double UnitDays(string unit) => unit.ToLowerInvariant() switch
    {
        "weeks" or "week" => 7,
        "days" or "day" => 1,
        _ => throw new ModelTrainingException($"Parameter 'timeUnit' must be 'weeks' or 'days', got '{unit}'."),
    };

    /// <summary>The last calibration day for a scoring run "as of" <paramref name="asOf"/> (events strictly before it): the day before.</summary>
    public static DateTime LastDayBefore(DateTime asOf) => asOf.AddTicks(-1).Date;

    /// <summary>Per-customer summaries with <paramref name="lastDay"/> the last calibration day (inclusive).</summary>
    public static IReadOnlyList<ClvCustomer> Customers(DuckDBConnection c, EventColumns cols, IReadOnlyList<string> globs, DateTime lastDay, double unitDays, double horizonUnits, CancellationToken ct)
    {
        lastDay = lastDay.Date;
        string D(DateTime d) => "DATE '" + d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "'";
        var e = D(lastDay);
        // Holdout days: (lastDay, lastDay + horizon]; recent days (the last horizon of calibration): (lastDay - horizon, lastDay].
        var horizonDays = (int)Math.Round(horizonUnits * unitDays);
        var sql = $"""
            WITH d AS (SELECT k, CAST(ts AS DATE) AS day, coalesce(sum(amt), 0) AS spend
                       FROM {cols.Relation(globs)} WHERE ts IS NOT NULL AND (amt IS NULL OR amt >= 0) GROUP BY k, day),
            cd AS (SELECT *, min(day) OVER (PARTITION BY k) AS first FROM d WHERE day <= {e}),
            cal AS (SELECT k, min(day) AS first, max(day) AS last, count(*) - 1 AS x, sum(spend) AS total,
                           count(*) FILTER (WHERE day > first AND spend > 0) AS gx,
                           sum(spend) FILTER (WHERE day > first AND spend > 0) AS gsum,
                           coalesce(sum(spend) FILTER (WHERE day > {e} - {horizonDays}), 0) AS recent,
                           coalesce(sum(spend) FILTER (WHERE day > {e} - {2 * horizonDays} AND day <= {e} - {horizonDays}), 0) AS previous
                    FROM cd GROUP BY k),
            hold AS (SELECT k, sum(spend) AS hs, count(*) AS hn FROM d WHERE day > {e} AND day <= {e} + {horizonDays} GROUP BY k)
            SELECT cal.k, x::DOUBLE AS x, date_diff('day', first, last)::DOUBLE AS tx, date_diff('day', first, {e})::DOUBLE AS t,
                   total::DOUBLE AS total, gx::DOUBLE AS gx, coalesce(gsum / nullif(gx, 0), 0)::DOUBLE AS gmean,
                   coalesce(hs, 0)::DOUBLE AS hs, coalesce(hn, 0)::DOUBLE AS hn, recent::DOUBLE AS recent, previous::DOUBLE AS previous
            FROM cal LEFT JOIN hold ON cal.k = hold.k ORDER BY cal.k
            """;
        var t = ModelLake.Query(c, sql, ct);
        var list = new List<ClvCustomer>(t.Rows);
        for (var i = 0; i < t.Rows; i++)
        {
            double V(string n) => (double)t.Column(n)[i]!;
            list.Add(new ClvCustomer((string)t.Column("k")[i]!, new RfmSummary(V("x"), V("tx") / unitDays, V("t") / unitDays), V("total"),
                new SpendSummary(V("gx"), V("gmean")), V("hs"), V("hn"), V("recent"), V("previous")));
        }
        return list;
    }

    public static double NaiveRate(ClvCustomer c, double horizon) => c.CalibrationSpend / Math.Max(c.Rfm.T, 1) * horizon;

    /// <summary>Predicted value over <paramref name="horizon"/> units, discounted per unit when an annual rate is given.</summary>
    public static double PredictValue(ClvState s, RfmSummary rfm, SpendSummary repeatSpend, double horizon, bool discount)
    {
        var spend = s.GammaGamma is { } gg && (repeatSpend.X > 0 || gg.Q > 1)
            ? GammaGamma.ConditionalExpectedValue(gg, repeatSpend)
            : s.FallbackSpend;
        if (!discount || s.DiscountRate is not { } d || d == 0)
            return Bgnbd.ConditionalExpectedPurchases(s.Bgnbd!, rfm, horizon) * spend;
        var perUnit = Math.Pow(1 + d, UnitDays(s.TimeUnit) / 365.0) - 1;
        double value = 0, previous = 0;
        for (var k = 1; k <= (int)Math.Ceiling(horizon); k++)
        {
            var e = Bgnbd.ConditionalExpectedPurchases(s.Bgnbd!, rfm, Math.Min(k, horizon));
            value += (e - previous) * spend / Math.Pow(1 + perUnit, k);
            previous = e;
        }
        return value;
    }

    public static TrainingOutcome Train(TrainingRun run)
    {
        var p = run.P;
        var events = run.RequireEvents();
        var method = (p.String("method") ?? "bgnbd").ToLowerInvariant();
        if (method is not ("bgnbd" or "regression")) throw new ModelTrainingException($"Parameter 'method' must be 'bgnbd' or 'regression', got '{method}'.");
        var unit = p.String("timeUnit") ?? "weeks";
        var unitDays = UnitDays(unit);
        var horizon = p.Number("horizon") ?? (unit.StartsWith("week", StringComparison.OrdinalIgnoreCase) ? 39 : 273);
        if (horizon <= 0) throw new ModelTrainingException("Parameter 'horizon' must be positive.");
        var calEnd = p.RequiredDate("calibrationEnd");
        var discount = p.Number("discountRate");
        using var c = ModelLake.Open();
        var cols = EventColumns.Resolve(c, events, p, amountRequired: true);
        run.Step(0.05, "summarizing purchases per customer");
        var customers = Customers(c, cols, events.ParquetGlobs, calEnd, unitDays, horizon, run.Ct);
        if (customers.Count < 10) throw new ModelTrainingException($"Only {customers.Count} customers purchased on or before calibrationEnd {calEnd:yyyy-MM-dd}; at least 10 are needed.");
        run.Log.Add(string.Create(CultureInfo.InvariantCulture, $"{customers.Count} customers in calibration, {customers.Count(x => x.HoldoutPurchases > 0)} purchased in the {horizon} {unit} holdout"));
        return method == "bgnbd" ? TrainBgnbd(run, customers, cols, unit, horizon, discount) : TrainRegression(run, c, cols, events, calEnd, unit, horizon, discount, customers);
    }

    private static TrainingOutcome TrainBgnbd(TrainingRun run, IReadOnlyList<ClvCustomer> customers, EventColumns cols, string unit, double horizon, double? discount)
    {
        run.Step(0.2, "fitting BG/NBD by maximum likelihood");
        var rfm = customers.Select(x => x.Rfm).ToArray();
        var bg = Bgnbd.Fit(rfm);
        var ll = Bgnbd.LogLikelihood(bg, rfm);
        run.Log.Add(string.Create(CultureInfo.InvariantCulture, $"BG/NBD r={bg.R:F4} alpha={bg.Alpha:F4} a={bg.A:F4} b={bg.B:F4} logLik={ll:F2}"));
        run.Step(0.5, "fitting Gamma-Gamma on repeat spend");
        var gg = GammaGamma.Fit(customers.Select(x => x.Spend).ToArray());
        run.Log.Add(string.Create(CultureInfo.InvariantCulture, $"Gamma-Gamma p={gg.P:F4} q={gg.Q:F4} v={gg.V:F4}"));
        var fallback = customers.Sum(x => x.CalibrationSpend) / Math.Max(1, customers.Sum(x => x.Rfm.X + 1));
        var state = new ClvState("bgnbd", horizon, unit, discount, bg, gg, fallback);

        run.Step(0.7, "predicting the holdout");
        var predicted = customers.Select(x => PredictValue(state, x.Rfm, x.Spend, horizon, discount: false)).ToArray();
        var actual = customers.Select(x => x.HoldoutSpend).ToArray();
        var metrics = Metrics.Regression(predicted, actual);
        metrics["logLikelihood"] = ll;
        var predPurchases = customers.Select(x => Bgnbd.ConditionalExpectedPurchases(bg, x.Rfm, horizon)).ToArray();
        metrics["purchasesMae"] = predPurchases.Zip(customers, (pp, x) => Math.Abs(pp - x.HoldoutPurchases)).Average();
        metrics["predictedTotal"] = predicted.Sum();
        metrics["actualTotal"] = actual.Sum();
        var (baseline, name) = BestBaseline(customers, horizon, actual);
        var grade = Grades.Regression(metrics["mae"], baseline["mae"], name, metrics.GetValueOrDefault("gini", double.NaN) is var modelGini && double.IsFinite(modelGini) ? modelGini : null, baseline.GetValueOrDefault("gini", double.NaN) is var baseGini && double.IsFinite(baseGini) ? baseGini : null);
        run.Log.Add(string.Create(CultureInfo.InvariantCulture, $"holdout MAE {metrics["mae"]:F2} vs baseline ({name}) {baseline["mae"]:F2}; RMSE {metrics["rmse"]:F2} vs {baseline["rmse"]:F2}"));
        var manifest = new ModelManifest { Recipe = Recipe.Clv, Trainer = "BG/NBD + Gamma-Gamma", Events = cols, Clv = state, TrainingCutoff = null };
        run.Step(1, "done");
        return new TrainingOutcome
        {
            Recipe = Recipe.Clv, Metrics = metrics, Baseline = baseline, Trainer = "BG/NBD + Gamma-Gamma",
            Grade = grade.Grade,
            FittedParameters = new Dictionary<string, double> { ["r"] = bg.R, ["alpha"] = bg.Alpha, ["a"] = bg.A, ["b"] = bg.B, ["p"] = gg.P, ["q"] = gg.Q, ["v"] = gg.V },
            Charts = new ModelCharts { Deciles = Metrics.Deciles(predicted, actual), Data = new DataCounts("customers", customers.Count, customers.Count, 0, cols.Customer), GradeReasons = grade.Reasons, BaselineRule = name },
            TrainingDistribution = ScoreDistribution.Deciles(predicted),
            Log = run.Log, TrainRows = customers.Count, TestRows = customers.Count,
            Artifact = ModelArtifact.Write(manifest),
        };
    }

    private static (Dictionary<string, double> Metrics, string Name) BestBaseline(IReadOnlyList<ClvCustomer> customers, double horizon, double[] actual)
    {
        var rate = Metrics.Regression(customers.Select(x => NaiveRate(x, horizon)).ToArray(), actual);
        var recent = Metrics.Regression(customers.Select(x => x.RecentSpend).ToArray(), actual);
        var best = rate["mae"] <= recent["mae"] ? (rate, "past spend rate carried forward") : (recent, "last-horizon spend repeated");
        best.Item1["rateMae"] = rate["mae"]; best.Item1["rateRmse"] = rate["rmse"];
        best.Item1["recentMae"] = recent["mae"]; best.Item1["recentRmse"] = recent["rmse"];
        return best;
    }

    /// <summary>The purchase-history features of the regression, as of the cutoff: repeat purchases, recency and age (t_x, T in
    /// units), spend in the last horizon and in the horizon before it (trend), the past spend rate carried forward over the
    /// horizon, and the mean repeat spend. With them the trees start from the naive baselines and can only improve on them.</summary>
    public static readonly string[] HistoryFeatures = ["clv_repeat_purchases", "clv_recency_units", "clv_age_units", "clv_last_horizon_spend", "clv_previous_horizon_spend", "clv_spend_rate_forward", "clv_mean_repeat_spend"];

    /// <summary>Event aggregates (EventFeatures) plus <see cref="HistoryFeatures"/> per customer as of <paramref name="asOf"/> (exclusive).</summary>
    public static (string[] Keys, Dictionary<string, IReadOnlyList<object?>> Columns, Dictionary<string, ClvCustomer> ByKey) RegressionTable(
        DuckDBConnection c, EventColumns cols, IReadOnlyList<string> globs, DateTime asOf, IReadOnlyList<string> types, double unitDays, double horizon, CancellationToken ct)
    {
        var agg = ModelLake.Query(c, "SELECT * FROM " + EventFeatures.Sql(cols, globs, asOf, types) + " ORDER BY k", ct);
        var byKey = Customers(c, cols, globs, LastDayBefore(asOf), unitDays, horizon, ct).ToDictionary(x => x.Key);
        var keys = agg.Column("k").Select(v => (string)v!).ToArray();
        var columns = EventFeatures.Names(types).ToDictionary(n => n, n => (IReadOnlyList<object?>)agg.Column(n));
        object?[] History(Func<ClvCustomer, double> f) => keys.Select(k => byKey.TryGetValue(k, out var x) ? (object?)f(x) : 0.0).ToArray();
        columns["clv_repeat_purchases"] = History(x => x.Rfm.X);
        columns["clv_recency_units"] = History(x => x.Rfm.T - x.Rfm.Tx);
        columns["clv_age_units"] = History(x => x.Rfm.T);
        columns["clv_last_horizon_spend"] = History(x => x.RecentSpend);
        columns["clv_previous_horizon_spend"] = History(x => x.PreviousSpend);
        columns["clv_spend_rate_forward"] = History(x => NaiveRate(x, horizon));
        columns["clv_mean_repeat_spend"] = History(x => x.Spend.MeanValue);
        return (keys, columns, byKey);
    }

    /// <summary>Permutation importance of the regression: the increase of held-out MAE when one feature's values are shuffled among the test customers.</summary>
    private static IReadOnlyList<FeatureImportance> PermutationImportance(ITransformer model, int seed, FeaturePlan plan, int[] rows, float[][] x, double[] actual, double baseMae, Func<double, double> back, Random rng)
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
            var predicted = BinaryRecipe.Score(model, seed, Enumerable.Range(0, rows.Length).ToArray(), shuffled, plan.Width).Select(back).ToArray();
            result.Add(new FeatureImportance(plan.Specs[s].Name, Metrics.Regression(predicted, actual)["mae"] - baseMae));
        }
        return result.OrderByDescending(f => f.Importance).ToArray();
    }

    /// <summary>The regression's prediction back from log(1 + spend).</summary>
    public static double FromLog(double v) => Math.Max(0, Math.Exp(Math.Min(v, 30)) - 1);

    private static TrainingOutcome TrainRegression(TrainingRun run, DuckDBConnection c, EventColumns cols, EventSource events, DateTime calEnd, string unit, double horizon, double? discount, IReadOnlyList<ClvCustomer> customers)
    {
        var req = run.Request;
        run.Step(0.2, "event aggregates as of the end of calibrationEnd");
        // calibrationEnd is inclusive: the features see every event before the next day, the label is the spend after it.
        var asOf = calEnd.Date.AddDays(1);
        var types = EventFeatures.TopEventTypes(c, cols, events.ParquetGlobs, asOf);
        var names = EventFeatures.Names(types).Concat(HistoryFeatures).ToArray();
        var (keys, columns, byKey) = RegressionTable(c, cols, events.ParquetGlobs, asOf, types, UnitDays(unit), horizon, run.Ct);
        var label = keys.Select(k => byKey.TryGetValue(k, out var x) ? x.HoldoutSpend : 0).ToArray();
        var (train, test) = Split.Random(keys.Length, 0.2, new Random(req.Seed));
        var plan = new FeaturePlan(names.Select(n => FeaturePlanBuilder.Learn(n, Schemas.FieldType.Number, columns[n], train, asOf)).ToArray(), asOf);
        var x = Enumerable.Range(0, keys.Length).Select(r => plan.Encode(n => columns[n][r])).ToArray();
        run.Step(0.4, $"training LightGbm regression on {train.Length} customers");
        var ml = new MLContext(req.Seed);
        // Spend is heavy-tailed (a few wholesale buyers): the trees fit either spend or log(1 + spend) (predictions transformed
        // back, which keeps the whales from pulling every leaf). Which one is chosen on a seeded 20 % validation part of the
        // training customers by MAE, the graded metric; the chosen target is then fitted on every training customer.
        ITransformer Fit(IEnumerable<int> rows, bool log) => ml.Regression.Trainers.LightGbm(new LightGbmRegressionTrainer.Options
            { NumberOfLeaves = 15, NumberOfIterations = 200, LearningRate = 0.05, MinimumExampleCountPerLeaf = 20, NumberOfThreads = 1, Seed = req.Seed, Deterministic = true, Silent = true, Verbose = false })
            .Fit(MlRows.Load(ml, rows.Select(r => new RegressionRow { Label = (float)(log ? Math.Log(1 + Math.Max(0, label[r])) : label[r]), Weight = 1, Features = x[r] }), plan.Width));
        var (fitPart, valPart) = Split.Random(train.Length, 0.2, new Random(req.Seed + 7));
        var fitRows = fitPart.Select(i => train[i]).ToArray(); var valRows = valPart.Select(i => train[i]).ToArray();
        var valActual = valRows.Select(r => label[r]).ToArray();
        double ValMae(bool log) => Metrics.Regression(BinaryRecipe.Score(Fit(fitRows, log), req.Seed, valRows, x, plan.Width).Select(v => log ? FromLog(v) : Math.Max(0, v)).ToArray(), valActual)["mae"];
        var (rawMae, logMae) = (ValMae(false), ValMae(true));
        var logTarget = logMae <= rawMae;
        run.Log.Add(string.Create(CultureInfo.InvariantCulture, $"target chosen on {valRows.Length} validation customers: {(logTarget ? "log(1 + spend)" : "spend")} (MAE {logMae:F2} on log(1 + spend), {rawMae:F2} on spend)"));
        var model = Fit(train, logTarget);
        double Back(double v) => logTarget ? FromLog(v) : Math.Max(0, v);
        var predicted = BinaryRecipe.Score(model, req.Seed, test, x, plan.Width).Select(Back).ToArray();
        var actual = test.Select(r => label[r]).ToArray();
        var metrics = Metrics.Regression(predicted, actual);
        run.Step(0.8, "permutation importance");
        var importance = PermutationImportance(model, req.Seed, plan, test, x, actual, metrics["mae"], Back, new Random(req.Seed + 2));
        var testCustomers = test.Select(r => byKey.TryGetValue(keys[r], out var cu) ? cu : new ClvCustomer(keys[r], new RfmSummary(0, 0, 0), 0, new SpendSummary(0, 0), 0, 0, 0)).ToArray();
        var (baseline, name) = BestBaseline(testCustomers, horizon, actual);
        var grade = Grades.Regression(metrics["mae"], baseline["mae"], name, metrics.GetValueOrDefault("gini", double.NaN) is var modelGini && double.IsFinite(modelGini) ? modelGini : null, baseline.GetValueOrDefault("gini", double.NaN) is var baseGini && double.IsFinite(baseGini) ? baseGini : null);
        run.Log.Add(string.Create(CultureInfo.InvariantCulture, $"holdout MAE {metrics["mae"]:F2} vs baseline ({name}) {baseline["mae"]:F2}"));
        var state = new ClvState("regression", horizon, unit, discount, null, null, 0, logTarget);
        var manifest = new ModelManifest { Recipe = Recipe.Clv, Trainer = "LightGbm regression", Events = cols, EventTypes = types, UsesEventFeatures = true, Plan = plan, Clv = state, TrainingCutoff = asOf };
        var schemaView = MlRows.Load(ml, Array.Empty<FeatureRow>(), plan.Width);
        run.Step(1, "done");
        return new TrainingOutcome
        {
            Recipe = Recipe.Clv, Metrics = metrics, Baseline = baseline, Trainer = "LightGbm regression",
            Grade = grade.Grade, FeatureImportance = importance,
            Charts = new ModelCharts { Deciles = Metrics.Deciles(predicted, actual), Data = new DataCounts("customers", keys.Length, keys.Length, 0, cols.Customer), GradeReasons = grade.Reasons, BaselineRule = name },
            TrainingDistribution = ScoreDistribution.Deciles(predicted),
            Log = run.Log, TrainRows = train.Length, TestRows = test.Length,
            Artifact = ModelArtifact.Write(manifest, ml, model, schemaView.Schema),
        };
    }
}
