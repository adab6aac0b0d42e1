using Enrichment.Portal.Core;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Exploration;
using Enrichment.Portal.Core.Guardrails;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Insights;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Query;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Core.Scoring;
using Enrichment.Portal.Web;
using Enrichment.Portal.Web.Auth;
using Enrichment.Portal.Web.Components;
using Enrichment.Portal.Web.Components.SchemaFields;
using Enrichment.Portal.Web.Components.Exploration;
using Enrichment.Portal.Web.Components.Guardrails;
using Enrichment.Portal.Web.Components.Insights;
using Enrichment.Portal.Web.Components.Layout;
using Enrichment.Portal.Web.Components.Models;
using Enrichment.Portal.Web.Components.Scoring;
using Enrichment.Portal.Web.Components.Shared;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.AspNetCore.Components.Routing;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.AspNetCore.Components.Web.Virtualization;
using Microsoft.EntityFrameworkCore;
using Microsoft.JSInterop;
using MudBlazor;
using System.Net.Http;
using System.Security.Claims;
using static Microsoft.AspNetCore.Components.Web.RenderMode;

namespace Enrichment.Portal.Web.Components.Pages.Guardrails;

/// <summary>The logic of <c>GuardrailsPage.razor</c> (markup there).</summary>
public partial class GuardrailsPage
{
    private IReadOnlyList<GuardrailItem>? guardrails;
    private LatencySummary? summary;
    private LatencyBatches? batches;
    private double hours = 24;
    private DateTimeOffset now;
    private PeriodicTimer? timer;
    private Task? loop;
    private readonly CancellationTokenSource cts = new();
    private int ticks;

    private string Summary
    {
        get
        {
            var exceeded = guardrails!.Count(g => g.Status == GuardrailStatus.Exceeded);
            var warning = guardrails!.Count(g => g.Status == GuardrailStatus.Warning);
            return exceeded + warning == 0 ? "All within their limits." : $"{exceeded} exceeded, {warning} near the limit.";
        }
    }

    protected override async Task OnInitializedAsync()
    {
        now = Clock.GetUtcNow();
        await LoadGuardrailsAsync(fresh: false);
        await LoadLatencyAsync(summaryToo: true);
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (!firstRender) return;
        // Batches in flight update live: every 1.5 s the timelines, every 6 s the percentiles, every 15 s the guardrails.
        timer = new PeriodicTimer(TimeSpan.FromMilliseconds(1500));
        loop = PollAsync();
    }

    private async Task PollAsync()
    {
        try
        {
            while (await timer!.WaitForNextTickAsync(cts.Token))
            {
                ticks++;
                await InvokeAsync(async () =>
                {
                    await LoadLatencyAsync(summaryToo: ticks % 4 == 0 || batches?.InFlight > 0);
                    if (ticks % 10 == 0) await LoadGuardrailsAsync(fresh: false);
                    StateHasChanged();
                });
            }
        }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { }
    }

    private async Task LoadGuardrailsAsync(bool fresh)
    {
        await using var scope = Scopes.CreateSandboxScope(SandboxScope.SandboxId);
        guardrails = await scope.ServiceProvider.GetRequiredService<GuardrailService>().ReadAsync(fresh, cts.Token);
    }

    private async Task LoadLatencyAsync(bool summaryToo)
    {
        await using var scope = Scopes.CreateSandboxScope(SandboxScope.SandboxId);
        var service = scope.ServiceProvider.GetRequiredService<LatencyService>();
        now = Clock.GetUtcNow();
        batches = await service.BatchesAsync(hours, LatencyPanel.MaxRows, ct: cts.Token);
        if (summaryToo || summary is null) summary = await service.SummaryAsync(hours, cts.Token);
    }

    private async Task OnHoursAsync(double value)
    {
        hours = value;
        await LoadLatencyAsync(summaryToo: true);
    }

    public async ValueTask DisposeAsync()
    {
        await cts.CancelAsync();
        timer?.Dispose();
        if (loop is not null) { try { await loop; } catch (OperationCanceledException) { } }
        cts.Dispose();
    }
}
