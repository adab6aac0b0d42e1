using System.Globalization;
using Enrichment.Portal.Core.Recipes;

namespace Enrichment.Portal.Core.Tests.Recipes;

/// <summary>A profile dataset ingested twice trains on one row per profile (the newest record), split by profile.</summary>
public sealed class ProfileLevelTrainingTests
{
    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    /// <summary>One batch folder of the lake layout (dataset/batchId/part-00000.parquet) with rows (id, x1, x2, label).</summary>
    private static string Batch(string datasetFolder, string batchId, IEnumerable<(string Id, double X1, double X2, string? Label)> rows)
    {
        var folder = Path.Combine(datasetFolder, batchId);
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, "part-00000.parquet");
        var values = string.Join(", ", rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"('{r.Id}', {r.X1}, {r.X2}, {(r.Label is null ? "NULL" : "'" + r.Label + "'")})")));
        ModelingFixtures.Sql($"COPY (SELECT * FROM (VALUES {values}) t(id, x1, x2, label)) TO '{file}' (FORMAT parquet)");
        return file;
    }

    [Fact]
    public async Task A_profile_dataset_ingested_twice_trains_on_the_newest_record_of_each_profile()
    {
        using var dir = TestData.NewTempDir();
        var rng = new Random(7);
        var first = new List<(string Id, double X1, double X2, string? Label)>();
        for (var i = 0; i < 900; i++)
        {
            var x1 = rng.NextDouble() * 4 - 2;
            first.Add(($"p{i:D4}", x1, rng.NextDouble(), rng.NextDouble() < 1 / (1 + Math.Exp(-2 * x1)) ? "Yes" : "No"));
        }
        // The second upload: the first 800 profiles again, 100 of them with a corrected label and 40 with the label
        // emptied; profiles 800..899 were not re-uploaded (their only record is in the first batch).
        var second = first.Take(800).Select((r, i) => i < 100 ? r with { Label = r.Label == "Yes" ? "No" : "Yes" } : i < 140 ? r with { Label = null } : r).ToList();
        var files = new[] { Batch(dir.Path, "b20260101", first), Batch(dir.Path, "b20260102", second) };
        var newest = second.Concat(first.Skip(800)).ToList();
        var labelled = newest.Where(r => r.Label is not null).ToList();
        var positives = labelled.Count(r => r.Label == "Yes");

        var outcome = await new ModelTrainer().TrainAsync(new TrainingRequest
        {
            Recipe = Recipe.Propensity, SourceGlobs = files, KeyField = "id", OnePerProfile = true, Label = new LabelSpec("label", "Yes"), Seed = 3,
        }, null, Ct);
        foreach (var l in outcome.Log) Measured.Report("profile-level: " + l);

        var data = outcome.Charts.Data!;
        Assert.Equal(("profiles", 1700L, (long)labelled.Count, 40L, "id"), (data.Unit, data.SourceRecords, data.Units, data.DroppedUnlabeled, data.KeyField));
        Assert.Equal(labelled.Count, outcome.TrainRows + outcome.TestRows);
        // The positives are those of the newest records (the corrected labels), not of the first upload.
        Assert.Contains($"profiles {labelled.Count}, positives {positives} ", string.Join("\n", outcome.Log));
        Assert.Contains("1700 records in the source, 900 profiles (the newest record per id)", outcome.Log);
        Assert.Contains(outcome.Log, l => l.StartsWith("40 profiles without a value in the label 'label' left out", StringComparison.Ordinal));
        Assert.InRange(outcome.TestRows, labelled.Count * 0.2 - 1, labelled.Count * 0.2 + 1);

        // Without the profile flag (an event-like source) every record is a row: 1,700 records minus the 40 unlabelled.
        var rows = await new ModelTrainer().TrainAsync(new TrainingRequest
        {
            Recipe = Recipe.Propensity, SourceGlobs = files, KeyField = "id", Label = new LabelSpec("label", "Yes"), Seed = 3,
        }, null, Ct);
        Assert.Equal(("rows", 1660L), (rows.Charts.Data!.Unit, rows.Charts.Data.Units));
    }

    [Fact]
    public void The_split_and_the_folds_keep_every_copy_of_a_profile_on_one_side()
    {
        var rng = new Random(1);
        // 300 profiles with 1-4 records each, records interleaved; the label of a profile's copies can differ (corrections).
        var keys = new List<string>(); var y = new List<bool>();
        for (var p = 0; p < 300; p++)
            for (var c = 0; c < 1 + p % 4; c++) { keys.Add("k" + p); y.Add(rng.NextDouble() < 0.3); }
        var order = Enumerable.Range(0, keys.Count).ToArray();
        rng.Shuffle(order);
        var k = order.Select(i => keys[i]).ToArray(); var labels = order.Select(i => y[i]).ToArray();

        var (train, test) = Split.StratifiedGrouped(labels, k, 0.2, new Random(5));
        Assert.Equal(k.Length, train.Length + test.Length);
        Assert.Empty(train.Select(r => k[r]).Intersect(test.Select(r => k[r])));
        // About a fifth of the profiles (not of the rows) are held out.
        Assert.InRange(test.Select(r => k[r]).Distinct().Count(), 55, 65);

        var folds = Split.FoldsGrouped(train, labels, k, 3, new Random(6));
        foreach (var fold in folds)
        {
            Assert.Equal(train.Length, fold.Count);
            var inVal = fold.Where(kv => kv.Value).Select(kv => k[kv.Key]).ToHashSet();
            var inFit = fold.Where(kv => !kv.Value).Select(kv => k[kv.Key]).ToHashSet();
            Assert.Empty(inVal.Intersect(inFit));
        }
        // Every training row is validated in exactly one fold.
        Assert.All(train, r => Assert.Equal(1, folds.Count(f => f[r])));

        // With unique keys the grouped split is the plain stratified split (same rows for the same seed).
        var unique = Enumerable.Range(0, labels.Length).Select(i => "u" + i).ToArray();
        var (plainTrain, plainTest) = Split.Stratified(labels, 0.2, new Random(5));
        var (groupedTrain, groupedTest) = Split.StratifiedGrouped(labels, unique, 0.2, new Random(5));
        Assert.Equal(plainTrain, groupedTrain);
        Assert.Equal(plainTest, groupedTest);
    }
}
