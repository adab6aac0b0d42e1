// Training benchmark (issue 7): churn on generated profiles with 50 features, and BG/NBD + Gamma-Gamma on generated
// customers, both through the product's trainer (ModelTrainer, the path of the training job).
// Usage: dotnet run -c Release -- churn [rows=100000] [workDir]   |   dotnet run -c Release -- bgnbd [customers=100000] [workDir]
// Run each case in its own process: the peak RSS (VmHWM) is the process's.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using Enrichment.Portal.Core.Recipes;
using Enrichment.Portal.Core.Schemas;
using MathNet.Numerics.Distributions;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var mode = args.Length > 0 ? args[0] : "churn";
var rows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
var work = args.Length > 2 ? args[2] : Path.Combine(Path.GetTempPath(), $"training-bench-{mode}-{rows}");
Directory.CreateDirectory(work);
Console.WriteLine($"{DateTime.UtcNow:u} {mode} {rows:N0}; {Environment.ProcessorCount} cores; load average {LoadAverage()}");

switch (mode)
{
    case "churn": await ChurnAsync(rows, work); break;
    case "bgnbd": await BgnbdAsync(rows, work); break;
    default: throw new ArgumentException("mode: churn | bgnbd");
}

// ------------------------------------------------------------------------------------------------------------ churn

static async Task ChurnAsync(int n, string work)
{
    var file = Path.Combine(work, $"churn-{n}.parquet");
    var sw = Stopwatch.StartNew();
    if (!File.Exists(file)) GenerateChurn(n, file);
    Console.WriteLine($"generated {n:N0} profiles x 50 features -> {new FileInfo(file).Length / 1048576.0:F1} MB Parquet in {sw.Elapsed.TotalSeconds:F1} s");
    using (var c = new DuckDBConnection("DataSource=:memory:"))
    {
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT avg(churned::INT) FROM read_parquet('{file}')";
        Console.WriteLine($"churn rate {Convert.ToDouble(cmd.ExecuteScalar(), CultureInfo.InvariantCulture):P1}");
    }

    var fields = new List<SchemaField>
    {
        new() { Path = "customerId", Type = FieldType.String, Identity = new IdentityMapping("CRMID", true) },
        new() { Path = "churned", Type = FieldType.Boolean },
    };
    for (var j = 0; j < NumericCount; j++) fields.Add(new SchemaField { Path = $"num_{j:D2}", Type = j < 25 ? FieldType.Number : FieldType.Integer });
    for (var j = 0; j < CategoricalCount; j++) fields.Add(new SchemaField { Path = $"cat_{j:D2}", Type = FieldType.String });

    var progress = new Progress<TrainingProgress>(_ => { });
    ResetPeak();
    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    var gcPause0 = GC.GetTotalPauseDuration(); var gen2_0 = GC.CollectionCount(2);
    sw.Restart();
    var outcome = await new ModelTrainer().TrainAsync(new TrainingRequest
    {
        Recipe = Recipe.Churn, SourceGlobs = [file], SourceFields = fields, KeyField = "customerId",
        Label = new LabelSpec("churned", null), Seed = 42,
    }, progress);
    var wall = sw.Elapsed;
    var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
    Console.WriteLine($"churn training: {wall.TotalSeconds:F1} s wall, {cpu.TotalSeconds:F1} s CPU, peak RSS {PeakMb():F0} MB; trainer {outcome.Trainer}; " +
                      $"train {outcome.TrainRows:N0} / test {outcome.TestRows:N0} rows");
    Console.WriteLine($"GC: {GC.CollectionCount(2) - gen2_0} gen2 collections, {(GC.GetTotalPauseDuration() - gcPause0).TotalSeconds:F1} s paused");
    Console.WriteLine($"held-out auc {outcome.Metrics["auc"]:F4} (cv auc {outcome.FittedParameters["cvAuc"]:F4}), prAuc {outcome.Metrics["prAuc"]:F4}, logLoss {outcome.Metrics["logLoss"]:F4} " +
                      $"vs baseline {outcome.Baseline["logLoss"]:F4}, lift10 {outcome.Metrics["lift10"]:F2}, grade {outcome.Grade}");
    Console.WriteLine("top features: " + string.Join(", ", outcome.FeatureImportance.Take(8).Select(f => $"{f.Feature} {f.Importance:F3}")));
    foreach (var line in outcome.Log) Console.WriteLine("  " + line);
    Console.WriteLine($"load average {LoadAverage()}");
}

/// <summary>
/// Churn-like profiles: 35 numeric features (normal, log-normal spend, counts, 5% missing in five of them) and 15
/// categorical ones (2 to 50 levels, skewed), a label from a logistic model of 12 of them (linear terms, an
/// interaction, a threshold, a missing-value effect, category effects) plus normal noise; the other 38 are pure noise.
/// Deterministic: every random number is a hash of (row, column).
/// </summary>
static void GenerateChurn(int n, string file)
{
    string U(int k) => $"((hash(i * 131 + {k}) % 1000000007)::DOUBLE + 0.5) / 1000000007";
    string Z(int k) => $"(sqrt(-2 * ln({U(k)})) * cos(2 * pi() * {U(k + 1000)}))";
    var cols = new StringBuilder();
    for (var j = 0; j < NumericCount; j++)
    {
        var expr = (j % 5) switch
        {
            0 or 1 => $"round({Z(j)}, 4)",                                    // standardized behaviour scores
            2 => $"round(exp(3 + 0.9 * {Z(j)}), 2)",                            // spend (log-normal)
            3 => $"floor(exp(1.2 + 0.8 * {Z(j)}))",                             // counts
            _ => $"round(20 + 10 * {Z(j)}, 2)",                                 // ages / tenures
        };
        if (j >= 25) expr = $"CAST(floor(exp(1.5 + 0.7 * {Z(j)})) AS BIGINT)";  // integer counts
        if (j is >= 5 and < 10) expr = $"CASE WHEN {U(j + 2000)} < 0.05 THEN NULL ELSE {expr} END";
        cols.Append($", {expr} AS num_{j:D2}");
    }
    int[] levels = [3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 3, 2];
    for (var j = 0; j < CategoricalCount; j++)
        cols.Append($", 'v' || CAST(floor(pow({U(j + 3000)}, 1.6) * {levels[j]}) AS INT) AS cat_{j:D2}");
    var logit = "-1.9 + 0.9 * num_00 - 0.7 * num_01 + 0.35 * ln(1 + num_02) - 0.25 * num_03 + 0.5 * num_05 * num_06" +
                " + CASE WHEN num_10 > 1 THEN 0.6 ELSE 0 END - 0.03 * (num_04 - 20) + CASE WHEN num_07 IS NULL THEN 0.7 ELSE 0 END" +
                " + CASE cat_00 WHEN 'v0' THEN 0.8 WHEN 'v1' THEN -0.3 ELSE 0 END + CASE WHEN cat_02 IN ('v3', 'v4') THEN -0.6 ELSE 0 END" +
                " + 0.04 * CAST(substr(cat_05, 2) AS INT) + CASE cat_14 WHEN 'v1' THEN 0.4 ELSE 0 END + 1.0 * noise";
    var sql = $"""
        SET threads = 2;
        COPY (
          WITH base AS (SELECT 'cust-' || i AS customerId {cols}, {Z(9000)} AS noise, {U(9100)} AS draw FROM range({n}) t(i))
          SELECT * EXCLUDE (noise, draw, lg), draw < 1 / (1 + exp(-lg)) AS churned
          FROM (SELECT *, {logit.Replace("num_05 * num_06", "coalesce(num_05, 0) * coalesce(num_06, 0)")} AS lg FROM base)
        ) TO '{file}' (FORMAT parquet);
        """;
    using var c = new DuckDBConnection("DataSource=:memory:");
    c.Open();
    using var cmd = c.CreateCommand();
    cmd.CommandText = sql;
    cmd.ExecuteNonQuery();
}

// ------------------------------------------------------------------------------------------------------------ BG/NBD

/// <summary>
/// Customers simulated from known BG/NBD parameters (Fader, Hardie &amp; Lee 2005; units: weeks) and Gamma-Gamma
/// spend: (1) the maximum-likelihood fit of <see cref="Bgnbd.Fit"/> on their exact (x, t_x, T); (2) the whole clv
/// recipe through <see cref="ModelTrainer"/> on their purchases written as events (dated to the minute, so same-day
/// purchases collapse as the recipe prescribes), with a 13-week holdout.
/// </summary>
static async Task BgnbdAsync(int n, string work)
{
    var truth = new BgnbdParameters(0.75, 6.0, 0.8, 2.8);
    var spendTruth = new GammaGammaParameters(6, 4, 15);
    var rng = new Random(2024);
    var start = new DateTime(2023, 1, 2, 0, 0, 0, DateTimeKind.Utc);
    const double calibrationWeeks = 52, holdoutWeeks = 13;
    var exact = new List<RfmSummary>(n);
    var file = Path.Combine(work, $"purchases-{n}.parquet");
    var csv = Path.Combine(work, $"purchases-{n}.csv");
    var sw = Stopwatch.StartNew();
    long events = 0;
    using (var w = new StreamWriter(csv))
    {
        w.WriteLine("customer,timestamp,amount");
        for (var i = 0; i < n; i++)
        {
            var lambda = Gamma.Sample(rng, truth.R, truth.Alpha);
            var p = Beta.Sample(rng, truth.A, truth.B);
            var spendRate = Gamma.Sample(rng, spendTruth.Q, spendTruth.V);
            var firstWeek = rng.NextDouble() * 26;                       // cohorts join over the first half year
            var age = calibrationWeeks - firstWeek;
            double time = 0, tx = 0; var x = 0; var alive = true;
            void Purchase(double week)
            {
                var at = start.AddDays((firstWeek + week) * 7);
                var amount = Math.Round(Gamma.Sample(rng, spendTruth.P, spendRate), 2) + 0.01;
                w.Write("c"); w.Write(i); w.Write(','); w.Write(at.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)); w.Write(','); w.WriteLine(amount.ToString(CultureInfo.InvariantCulture));
                events++;
            }
            Purchase(0);
            while (alive)
            {
                time += Exponential.Sample(rng, lambda);
                if (time > age + holdoutWeeks) break;
                Purchase(time);
                if (time <= age) { x++; tx = time; }
                if (rng.NextDouble() < p) alive = false;
            }
            exact.Add(new RfmSummary(x, tx, age));
        }
    }
    using (var c = new DuckDBConnection("DataSource=:memory:"))
    {
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"COPY (SELECT customer, CAST(\"timestamp\" AS TIMESTAMP) AS \"timestamp\", amount FROM read_csv('{csv}', header = true)) TO '{file}' (FORMAT parquet)";
        cmd.ExecuteNonQuery();
    }
    File.Delete(csv);
    Console.WriteLine($"simulated {n:N0} customers, {events:N0} purchases (calibration 52 weeks, holdout 13) in {sw.Elapsed.TotalSeconds:F1} s; truth {truth}, spend {spendTruth}");

    ResetPeak();
    sw.Restart();
    var fit = Bgnbd.Fit(exact);
    var fitTime = sw.Elapsed;
    Console.WriteLine($"Bgnbd.Fit on exact (x, t_x, T): {fitTime.TotalSeconds:F2} s; fitted {fit}; log-likelihood fit {Bgnbd.LogLikelihood(fit, exact):F1} vs truth {Bgnbd.LogLikelihood(truth, exact):F1}");
    Console.WriteLine($"  recovery: r {Rel(fit.R, truth.R)}, alpha {Rel(fit.Alpha, truth.Alpha)}, a {Rel(fit.A, truth.A)}, b {Rel(fit.B, truth.B)}");

    ResetPeak();
    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    sw.Restart();
    var outcome = await new ModelTrainer().TrainAsync(new TrainingRequest
    {
        Recipe = Recipe.Clv, Events = new EventSource([file]), Seed = 42,
        Parameters = new JsonObject
        {
            ["method"] = "bgnbd", ["customerField"] = "customer", ["timestampField"] = "timestamp", ["amountField"] = "amount",
            ["calibrationEnd"] = start.AddDays(calibrationWeeks * 7).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), ["horizon"] = holdoutWeeks, ["timeUnit"] = "weeks",
        },
    });
    var wall = sw.Elapsed;
    var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
    var f = outcome.FittedParameters;
    Console.WriteLine($"clv (bgnbd) training through ModelTrainer: {wall.TotalSeconds:F1} s wall, {cpu.TotalSeconds:F1} s CPU, peak RSS {PeakMb():F0} MB");
    Console.WriteLine($"  fitted r {f["r"]:F3} ({Rel(f["r"], truth.R)}), alpha {f["alpha"]:F3} ({Rel(f["alpha"], truth.Alpha)}), a {f["a"]:F3} ({Rel(f["a"], truth.A)}), b {f["b"]:F3} ({Rel(f["b"], truth.B)}); " +
                      $"p {f["p"]:F3} ({Rel(f["p"], spendTruth.P)}), q {f["q"]:F3} ({Rel(f["q"], spendTruth.Q)}), v {f["v"]:F3} ({Rel(f["v"], spendTruth.V)})");
    Console.WriteLine($"  holdout MAE {outcome.Metrics["mae"]:F2} vs baseline {outcome.Baseline["mae"]:F2}; predicted total {outcome.Metrics["predictedTotal"]:F0} vs actual {outcome.Metrics["actualTotal"]:F0}; grade {outcome.Grade}");
    foreach (var line in outcome.Log) Console.WriteLine("  " + line);
    Console.WriteLine($"load average {LoadAverage()}");
}

static string Rel(double fit, double truth) => $"{(fit - truth) / truth:+0.0%;-0.0%}";

static string LoadAverage() => File.ReadAllText("/proc/loadavg").Trim();

/// <summary>Resets the process's peak RSS (VmHWM) so the next measurement is the peak of what follows.</summary>
static void ResetPeak()
{
    try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
}

static double PeakMb()
{
    var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
    return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
}

partial class Program
{
    const int NumericCount = 35;
    const int CategoricalCount = 15;
}
