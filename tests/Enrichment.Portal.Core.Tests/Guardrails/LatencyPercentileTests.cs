using Enrichment.Portal.Core.Ingestion;
using Enrichment.Portal.Core.Guardrails;

namespace Enrichment.Portal.Core.Tests.Guardrails;

/// <summary>Latency percentiles (nearest rank) from known stage times, and the guardrail status rule.</summary>
public sealed class LatencyPercentileTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Nearest_rank_takes_the_value_at_rank_ceiling_of_p_times_n()
    {
        var oneToTen = Enumerable.Range(1, 10).Select(i => (double)i).Reverse().ToList();
        Assert.Equal(5, Percentiles.NearestRank(oneToTen, 50));
        Assert.Equal(10, Percentiles.NearestRank(oneToTen, 95));
        Assert.Equal(1, Percentiles.NearestRank(oneToTen, 10));
        var hundred = Enumerable.Range(1, 100).Select(i => (double)i).ToList();
        Assert.Equal(50, Percentiles.NearestRank(hundred, 50));
        Assert.Equal(95, Percentiles.NearestRank(hundred, 95));
        Assert.Equal(100, Percentiles.NearestRank(hundred, 100));
        Assert.Equal(7, Percentiles.NearestRank([7], 50));
        Assert.Equal(7, Percentiles.NearestRank([7], 95));
        Assert.Equal(20, Percentiles.NearestRank([30, 10, 20], 50)); // rank ceil(1.5) = 2 of 10, 20, 30
        Assert.Equal(30, Percentiles.NearestRank([30, 10, 20], 95));
        Assert.Null(Percentiles.NearestRank([], 50));
        Assert.Throws<ArgumentOutOfRangeException>(() => Percentiles.NearestRank([1], 0));
    }

    /// <summary>A finished batch whose stages run back to back with these durations (ms) after <paramref name="startMs"/>, with an optional queue gap before validate.</summary>
    private static LatencyService.FinishedBatch Batch(string id, double startMs, double upload, double gap, double validate, double lake, double identity, double profile)
    {
        var stages = new List<BatchStage>();
        var t = T0.AddMilliseconds(startMs);
        void Add(string name, double ms, double before = 0)
        {
            t = t.AddMilliseconds(before);
            stages.Add(new BatchStage { BatchId = id, Name = name, Status = "success", StartedAt = t, FinishedAt = t.AddMilliseconds(ms) });
            t = t.AddMilliseconds(ms);
        }
        Add(BatchStages.Upload, upload);
        Add(BatchStages.Validate, validate, gap);
        Add(BatchStages.Lake, lake);
        Add(BatchStages.Identity, identity);
        Add(BatchStages.Profile, profile);
        return new LatencyService.FinishedBatch(id, T0.AddMilliseconds(startMs), 100, stages);
    }

    [Fact]
    public void Summary_of_known_stage_times_gives_per_stage_and_end_to_end_percentiles()
    {
        // Ten batches: batch i (1..10) has upload 10*i ms, a queue gap of 5 ms, validate 100*i, lake 20, identity 30*i, profile 40.
        var batches = Enumerable.Range(1, 10).Select(i => Batch("b" + i, i * 60_000, 10 * i, 5, 100 * i, 20, 30 * i, 40)).ToList();
        var s = LatencyService.Summarize(24, T0, batches, [], inFlight: 2);

        Assert.Equal(10, s.Batches);
        Assert.Equal(2, s.InFlight);
        Assert.Equal("nearest-rank", s.Method);
        Assert.Equal(50, s.Stages["upload"].P50Ms);
        Assert.Equal(100, s.Stages["upload"].P95Ms);
        Assert.Equal(500, s.Stages["validate"].P50Ms);
        Assert.Equal(1000, s.Stages["validate"].P95Ms);
        Assert.Equal(20, s.Stages["lake"].P50Ms);
        Assert.Equal(150, s.Stages["identity"].P50Ms);
        Assert.Equal(300, s.Stages["identity"].P95Ms);
        Assert.Equal(40, s.Stages["profile"].P95Ms);
        Assert.Equal(10, s.Stages["profile"].Count);
        // End to end = first start to last end = 140*i + 65 (the queue gap included): p50 at i = 5, p95 at i = 10.
        Assert.Equal(140 * 5 + 65, s.P50Ms);
        Assert.Equal(140 * 10 + 65, s.P95Ms);
    }

    [Fact]
    public void Stages_a_batch_never_ran_are_left_out_and_an_empty_window_has_no_percentiles()
    {
        var withoutProfile = Batch("a", 0, 10, 0, 10, 10, 10, 10);
        var trimmed = withoutProfile with { Stages = withoutProfile.Stages.Where(x => x.Name is not ("identity" or "profile")).ToList() };
        var s = LatencyService.Summarize(1, T0, [trimmed], [], 0);
        Assert.Equal(0, s.Stages["identity"].Count);
        Assert.Null(s.Stages["identity"].P50Ms);
        Assert.Equal(30, s.P50Ms);

        var empty = LatencyService.Summarize(1, T0, [], [], 0);
        Assert.Equal(0, empty.Batches);
        Assert.Null(empty.P50Ms);
        Assert.Null(empty.P95Ms);
        Assert.Null(empty.Streaming.P50Ms);
    }

    [Fact]
    public void Streaming_latency_runs_from_the_oldest_record_received_to_the_profile_updated()
    {
        // Micro-batch i: oldest record received at start, validate from received, lake 50 ms, identity 10, profile 20*i.
        var micro = Enumerable.Range(1, 20).Select(i =>
        {
            var received = T0.AddSeconds(i);
            var flushed = received.AddMilliseconds(400);
            var stages = new List<BatchStage>
            {
                new() { Name = "validate", StartedAt = received, FinishedAt = flushed },
                new() { Name = "lake", StartedAt = flushed, FinishedAt = flushed.AddMilliseconds(50) },
                new() { Name = "identity", StartedAt = flushed.AddMilliseconds(50), FinishedAt = flushed.AddMilliseconds(60) },
                new() { Name = "profile", StartedAt = flushed.AddMilliseconds(60), FinishedAt = flushed.AddMilliseconds(60 + 20 * i) },
            };
            return new LatencyService.FinishedBatch("m" + i, received, 3, stages);
        }).ToList();
        var s = LatencyService.Summarize(1, T0, [], micro, 0);
        Assert.Equal(20, s.Streaming.MicroBatches);
        Assert.Equal(60, s.Streaming.Records);
        Assert.Equal(460 + 20 * 10, s.Streaming.P50Ms); // rank 10 of 20
        Assert.Equal(460 + 20 * 19, s.Streaming.P95Ms); // rank 19 of 20
        Assert.Equal(0, s.Batches);
    }

    [Theory]
    [InlineData(0, 20, "ok")]
    [InlineData(15, 20, "ok")]
    [InlineData(16, 20, "warning")]
    [InlineData(20, 20, "warning")]
    [InlineData(21, 20, "exceeded")]
    [InlineData(0, 0, "ok")]
    public void Guardrail_status_is_warning_from_80_percent_and_exceeded_above_the_limit(long current, long limit, string status) =>
        Assert.Equal(status, GuardrailStatus.Of(current, limit));

    [Fact]
    public void Array_items_are_counted_at_the_top_level_of_the_json_array()
    {
        Assert.Equal(3, Enrichment.Portal.Core.Ingestion.RecordValidator.CountItems("""[1, [2, 3], {"a": [4, 5]}]"""));
        Assert.Equal(0, Enrichment.Portal.Core.Ingestion.RecordValidator.CountItems("[]"));
        Assert.Equal(0, Enrichment.Portal.Core.Ingestion.RecordValidator.CountItems("""{"a": 1}"""));
    }
}
