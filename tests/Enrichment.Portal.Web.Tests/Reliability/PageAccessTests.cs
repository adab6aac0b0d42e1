using System.Net;
using System.Reflection;
using Enrichment.Portal.Tests;
using Microsoft.AspNetCore.Components;

namespace Enrichment.Portal.Web.Tests.Reliability;

/// <summary>
/// Every routable page of the portal (found by reflection on its components) and the other browser-facing paths,
/// without a session: a page behind sign-in redirects to the sign-in page, never renders, never fails. The expected
/// answer of each route comes from <see cref="Pages"/>: a new page without an entry fails the test.
/// </summary>
public sealed class PageAccessTests(PortalHost host)
{
    /// <summary>THE table of pages: true when the page is open without a session.</summary>
    private static readonly Dictionary<string, bool> Pages = new()
    {
        ["/"] = false, ["/datasets"] = false, ["/datasets/{Id}"] = false, ["/jobs"] = false, ["/not-found"] = false,
        ["/identity-namespaces"] = false, ["/models/new"] = false, ["/models/{Id}"] = false, ["/models"] = false,
        ["/models/import-scores"] = false, ["/ingestion"] = false, ["/login"] = true, ["/admin/api-keys"] = false,
        ["/admin/users"] = false, ["/admin/sandboxes"] = false, ["/Error"] = true, ["/wizard"] = false, ["/audiences"] = false,
        ["/audiences/{Id}"] = false, ["/query"] = false, ["/guardrails"] = false, ["/access-denied"] = false, ["/explore"] = false,
        ["/schemas/new"] = false, ["/schemas/{Id}"] = false, ["/schemas"] = false, ["/profiles"] = false,
        ["/destinations"] = false, ["/destinations/new"] = false, ["/destinations/{Id}"] = false, ["/destinations/{Id}/edit"] = false,
    };

    /// <summary>Browser paths that are not components: the job dashboard and the API reference.</summary>
    private static readonly string[] OtherSignedInPaths = ["/hangfire", "/hangfire/jobs/enqueued", "/api/reference", "/account/sandbox/prod"];

    [Fact]
    public async Task Every_page_behind_sign_in_redirects_to_the_sign_in_page_without_a_session()
    {
        var routes = typeof(Enrichment.Portal.Web.Components.App).Assembly.GetTypes()
            .SelectMany(t => t.GetCustomAttributes<RouteAttribute>()).Select(r => r.Template).Distinct().ToList();
        Assert.True(routes.Count >= 20, $"only {routes.Count} routes found");
        var missing = routes.Except(Pages.Keys).ToList();
        Assert.True(missing.Count == 0, "Pages without an entry in the page table: " + string.Join(", ", missing));
        Assert.Empty(Pages.Keys.Except(routes));

        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = host.BaseUri };
        var wrong = new List<string>();
        foreach (var (template, open) in Pages.Select(p => (p.Key, p.Value)).Concat(OtherSignedInPaths.Select(p => (p, false))))
        {
            var path = template.Replace("{Id}", "01nonexistent");
            using var response = await client.GetAsync(path);
            var status = (int)response.StatusCode;
            var location = response.Headers.Location?.ToString() ?? "";
            if (open && status != 200) wrong.Add($"{path}: {status}, expected the page");
            if (!open && !(status == 302 && location.Contains("/login", StringComparison.OrdinalIgnoreCase)))
                wrong.Add($"{path}: {status} {location}, expected a redirect to /login");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
    }
}
