using Enrichment.Portal.Core;
using Enrichment.Portal.Core.Auth;
using Enrichment.Portal.Core.Catalog;
using Enrichment.Portal.Core.Datasets;
using Enrichment.Portal.Core.Exploration;
using Enrichment.Portal.Core.Identity;
using Enrichment.Portal.Core.Insights;
using Enrichment.Portal.Core.Jobs;
using Enrichment.Portal.Core.Models;
using Enrichment.Portal.Core.Profiles;
using Enrichment.Portal.Core.Query;
using Enrichment.Portal.Core.Sandboxes;
using Enrichment.Portal.Core.Schemas;
using Enrichment.Portal.Core.Scoring;
using Enrichment.Portal.Web;
using Enrichment.Portal.Web.Auth;
using Enrichment.Portal.Web.Components;
using Enrichment.Portal.Web.Components.SchemaFields;
using Enrichment.Portal.Web.Components.Exploration;
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
using System.Text.Json.Nodes;
using static Microsoft.AspNetCore.Components.Web.RenderMode;

namespace Enrichment.Portal.Web.Components.Pages.Profiles;

/// <summary>The logic of <c>Profiles.razor</c> (markup there).</summary>
public partial class Profiles
{
    [SupplyParameterFromQuery(Name = "namespace")] public string? QueryNamespace { get; set; }
    [SupplyParameterFromQuery(Name = "id")] public string? QueryId { get; set; }
    [SupplyParameterFromQuery(Name = "profileId")] public string? QueryProfileId { get; set; }

    private sealed record Sample(string ProfileId, string Label);

    private IReadOnlyList<NamespaceInfo> namespaces = [];
    private ProfileStats? stats;
    private List<Sample> samples = [];
    private ProfileView? profile;
    private IReadOnlyList<Enrichment.Portal.Core.Audiences.ProfileSegment> segments = [];
    private ProfileGraph? graph;
    private IReadOnlyDictionary<string, InsightModelLink> insightLinks = new Dictionary<string, InsightModelLink>();
    private IReadOnlyDictionary<string, string> datasetNames = new Dictionary<string, string>();
    private List<ProfileEventView> allEvents = [];
    private List<ProfileEventView> events = [];
    private List<string> eventTypes = [];
    private string? eventType;
    private int eventCount;
    private List<ChartSeries<double>> monthSeries = [];
    private string[] monthLabels = [];
    private string? searchNamespace = "CRMID";
    private string? searchId;
    private string? notFound;

    protected override async Task OnInitializedAsync()
    {
        await using var scope = Scopes.CreateSandboxScope(SandboxScope.SandboxId);
        var sp = scope.ServiceProvider;
        namespaces = await sp.GetRequiredService<IdentityNamespaceService>().ListAsync();
        var service = sp.GetRequiredService<ProfileService>();
        stats = await service.StatsAsync();
        foreach (var id in await service.SampleAsync(10))
        {
            var v = await service.GetByIdAsync(id);
            if (v is null) continue;
            var name = Enrichment.Portal.Web.Components.Pages.Profiles.ProfileTitle.Name(v.Attributes);
            var first = v.Identities.FirstOrDefault();
            samples.Add(new Sample(id, name ?? (first is null ? id : $"{first.Namespace}: {first.Id}")));
        }
        datasetNames = await sp.GetRequiredService<Enrichment.Portal.Core.Datasets.DatasetService>().Query().ToDictionaryAsync(d => d.Id, d => d.Name);
        if (!string.IsNullOrEmpty(QueryProfileId)) await LoadByIdAsync(QueryProfileId);
        else if (!string.IsNullOrEmpty(QueryNamespace) && !string.IsNullOrEmpty(QueryId))
        {
            searchNamespace = QueryNamespace;
            searchId = QueryId;
            await SearchAsync();
        }
    }

    private IEnumerable<(string Label, string Value, string Id)> StatCards() =>
    [
        ("Profiles", Format.Count(stats?.Profiles ?? 0), "profiles"),
        ("Identities", Format.Count(stats?.Identities ?? 0), "identities"),
        ("Events", Format.Count(stats?.Events ?? 0), "events"),
        ("Graphs over the identity limit", Format.Count(stats?.GraphsOverLimit ?? 0), "graphs-over-limit"),
    ];

    private async Task SearchAsync()
    {
        if (string.IsNullOrWhiteSpace(searchNamespace) || string.IsNullOrWhiteSpace(searchId)) { notFound = "Pick a namespace and type an identity."; return; }
        await using var scope = Scopes.CreateSandboxScope(SandboxScope.SandboxId);
        var service = scope.ServiceProvider.GetRequiredService<ProfileService>();
        var pid = await service.FindProfileIdAsync(searchNamespace, searchId);
        if (pid is null) { profile = null; notFound = $"No profile has the identity {searchNamespace}: {searchId}."; return; }
        await LoadAsync(service, pid);
    }

    private async Task LoadByIdAsync(string profileId)
    {
        await using var scope = Scopes.CreateSandboxScope(SandboxScope.SandboxId);
        await LoadAsync(scope.ServiceProvider.GetRequiredService<ProfileService>(), profileId);
    }

    private async Task LoadAsync(ProfileService service, string profileId)
    {
        profile = await service.GetByIdAsync(profileId);
        if (profile is null) { notFound = $"No profile {profileId}."; return; }
        notFound = null;
        await using (var scope = Scopes.CreateSandboxScope(SandboxScope.SandboxId))
        {
            insightLinks = await scope.ServiceProvider.GetRequiredService<InsightQueries>()
                .ModelLinksAsync(InsightEntry.From(profile.Insights).Select(e => e.ModelVersion));
            segments = await scope.ServiceProvider.GetRequiredService<Enrichment.Portal.Core.Audiences.AudienceService>().SegmentsOfAsync(profile.ProfileId);
        }
        graph = await service.GetGraphAsync(profile.ProfileId);
        allEvents = (await service.GetEventsAsync(profile.ProfileId, null, 1000)).ToList();
        eventCount = await service.CountEventsAsync(profile.ProfileId);
        eventTypes = allEvents.Select(e => e.EventType).Distinct().OrderBy(t => t).ToList();
        eventType = null;
        ApplyEventFilter();
    }

    private Task OnEventTypeAsync(string? type)
    {
        eventType = type;
        ApplyEventFilter();
        return Task.CompletedTask;
    }

    private void ApplyEventFilter()
    {
        events = allEvents.Where(e => eventType is null || e.EventType == eventType).ToList();
        var months = events.GroupBy(e => new DateTime(e.Timestamp.Year, e.Timestamp.Month, 1)).ToDictionary(g => g.Key, g => g.Count());
        if (months.Count == 0) { monthSeries = []; monthLabels = []; return; }
        var start = months.Keys.Min();
        var end = months.Keys.Max();
        var axis = new List<DateTime>();
        for (var m = start; m <= end && axis.Count < 120; m = m.AddMonths(1)) axis.Add(m);
        monthLabels = axis.Select((m, i) => axis.Count <= 12 || i % 3 == 0 ? m.ToString("MMM yy") : "").ToArray();
        monthSeries = [new ChartSeries<double> { Name = "Events", Data = axis.Select(m => (double)months.GetValueOrDefault(m)).ToArray() }];
    }

    private async Task SnapshotAsync()
    {
        await using var scope = Scopes.CreateSandboxScope(SandboxScope.SandboxId);
        var run = await scope.ServiceProvider.GetRequiredService<ProfileSnapshots>().RequestAsync(null, "ui");
        Snackbar.Add(run is null ? "Could not start the snapshot." : "Snapshot started; see Jobs for its progress.", run is null ? Severity.Error : Severity.Info);
    }

    private static string Short(JsonObject fields)
    {
        var parts = new List<string>();
        void Walk(JsonNode? node, string prefix)
        {
            if (node is JsonObject o) { foreach (var (k, v) in o) Walk(v, prefix.Length == 0 ? k : prefix + "." + k); }
            else parts.Add($"{prefix} {node?.ToString() ?? "—"}");
        }
        Walk(fields, "");
        var s = string.Join(" · ", parts);
        return s.Length > 160 ? s[..160] + "…" : s;
    }

    private string Source(string path) =>
        profile is not null && profile.Provenance.TryGetValue(path, out var ds) ? datasetNames.GetValueOrDefault(ds, ds) : "";
}
