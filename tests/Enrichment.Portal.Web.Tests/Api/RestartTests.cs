using Enrichment.Portal.Core.Tests;
using Enrichment.Portal.Tests;

namespace Enrichment.Portal.Web.Tests.Api;

/// <summary>A job interrupted by stopping (or killing) the portal is re-run after the next start.</summary>
public sealed class RestartTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_job_interrupted_by_stopping_the_app_is_re_run_after_the_next_start(bool kill)
    {
        using var dir = TestData.NewTempDir();
        string jobId;
        using (var first = new PortalProcess(dir.Path))
        {
            await first.StartAsync();
            using var api = first.Api();
            var started = await PortalHost.JsonAsync(await api.PostAsync("/api/v1/diagnostics/jobs?seconds=8", null));
            jobId = started["id"]!.GetValue<string>();
            await PortalHost.PollAsync(api, $"/api/v1/jobs/{jobId}", j => j["status"]!.GetValue<string>() == "running" && j["progress"]!.GetValue<double>() > 0);
            await first.StopAsync(kill);
        }

        using var second = new PortalProcess(dir.Path);
        await second.StartAsync();
        using var api2 = second.Api();
        var done = await PortalHost.PollAsync(api2, $"/api/v1/jobs/{jobId}", j => j["status"]!.GetValue<string>() is "succeeded" or "failed", TimeSpan.FromMinutes(2));
        Assert.Equal("succeeded", done["status"]!.GetValue<string>());
        Assert.Equal(2, done["attempts"]!.GetValue<int>());
        await second.StopAsync(kill: false);
    }
}
