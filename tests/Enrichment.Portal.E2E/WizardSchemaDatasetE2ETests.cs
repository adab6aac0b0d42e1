using System.Net.Http.Json;
using Enrichment.Portal.Tests;
using Microsoft.Playwright;

namespace Enrichment.Portal.E2E;

/// <summary>Wizard steps 1 and 2 from an empty sandbox, as a new user would take them.</summary>
public sealed class WizardSchemaDatasetE2ETests(BrowserFixture browser)
{
    [Fact]
    public async Task A_new_user_creates_a_profile_schema_and_its_dataset_in_an_empty_sandbox()
    {
        var sandbox = "wizard" + Guid.NewGuid().ToString("N")[..6];
        using (var api = browser.Host.Api())
            (await api.PostAsJsonAsync("/api/v1/sandboxes", new { name = sandbox })).EnsureSuccessStatusCode();
        var page = await browser.SignedInPageAsync();
        await page.GotoAsync($"/account/sandbox/{sandbox}?returnUrl=/");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("current-sandbox")).ToContainTextAsync(sandbox);

        // Step 1: the template schema with a CRMID primary identity and an Email identity.
        await page.GotoAsync("/wizard?step=1");
        await BrowserFixture.WaitForBlazorAsync(page);
        await Assertions.Expect(page.GetByTestId("wizard-why-identities")).ToBeVisibleAsync();
        await page.GetByTestId("wizard-choice-template").ClickAsync();
        var name = page.Locator("input[data-testid=wizard-schema-name], [data-testid=wizard-schema-name] input").First;
        await name.FillAsync("Customers");
        await BrowserFixture.ScreenshotAsync(page, "wizard-step1");
        await page.GetByTestId("wizard-schema-next").ClickAsync();

        // Step 2: a new dataset, enabled for profile together with its schema.
        await Assertions.Expect(page.GetByTestId("wizard-dataset-step")).ToBeVisibleAsync();
        await page.GetByTestId("wizard-dataset-choice-new").ClickAsync();
        await page.Locator("input[data-testid=wizard-dataset-name], [data-testid=wizard-dataset-name] input").First.FillAsync("Customer profiles");
        await Assertions.Expect(page.GetByTestId("wizard-one-way")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "wizard-step2");
        await page.GetByTestId("wizard-dataset-next").ClickAsync();
        await Assertions.Expect(page.GetByTestId("wizard-ready")).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "wizard-step2-ready");

        // What the UI did is what the API sees, in that sandbox only.
        var key = await browser.Host.KeyAsync("viewer", sandbox);
        using var viewer = browser.Host.Api(key);
        var schemas = await PortalHost.JsonAsync(await viewer.GetAsync("/api/v1/schemas"));
        var schema = Assert.Single(schemas["items"]!.AsArray())!;
        Assert.Equal("Customers", schema["name"]!.GetValue<string>());
        Assert.True(schema["profileEnabled"]!.GetValue<bool>());
        var identities = schema["fields"]!.AsArray().Where(f => f!["identity"] is not null).Select(f => f!["identity"]!).ToList();
        Assert.Contains(identities, i => i["namespace"]!.GetValue<string>() == "CRMID" && i["primary"]?.GetValue<bool>() == true);
        Assert.Contains(identities, i => i["namespace"]!.GetValue<string>() == "Email");
        var datasets = await PortalHost.JsonAsync(await viewer.GetAsync("/api/v1/datasets"));
        var dataset = Assert.Single(datasets["items"]!.AsArray())!;
        Assert.Equal("Customer profiles", dataset["name"]!.GetValue<string>());
        Assert.True(dataset["profileEnabled"]!.GetValue<bool>());
    }
}
