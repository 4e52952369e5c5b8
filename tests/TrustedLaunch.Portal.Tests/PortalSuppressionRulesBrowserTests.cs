using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TrustedLaunch.HostAgent.Tests.Platform;
using TrustedLaunch.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace TrustedLaunch.Portal.Tests;

/// <summary>Suppression rules created and deleted from the portal's page, through the service's own API.</summary>
[Collection(PlatformBoots.Name)]
[IntegrationTest]
public sealed class PortalSuppressionRulesBrowserTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SuppressionRule_CreatedWithDefendersFields_StoredByTheApi_InvalidFilterRefusedWithItsReason_Deleted()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-portal-rules");
        try
        {
            home.StartServer("--no-local-host");
            await using PortalBrowser browser = await PortalBrowser.LaunchAsync();
            IPage page = browser.Page;
            await page.GotoAsync(home.Url + "/portal/suppression-rules");
            await Expect(page.Locator("#rules tbody tr")).ToHaveCountAsync(0);

            // A field the service does not know: its 400 is shown, nothing is stored.
            await page.GetByLabel("Rule name").FillAsync("bad1");
            await page.GetByLabel("Filter 1 field").FillAsync("entities.nothing");
            await page.GetByLabel("value(s)").First.FillAsync("x");
            await page.GetByRole(AriaRole.Button, new() { Name = "Create rule" }).ClickAsync();
            await Expect(page.Locator("#rule-error")).ToContainTextAsync("entities.nothing");
            await Expect(page.Locator("#rules tbody tr")).ToHaveCountAsync(0);

            await page.GetByLabel("Rule name").FillAsync("web-pcr7");
            await page.GetByLabel("Alert type").SelectOptionAsync("TL_VM_AttestationFailed");
            await page.GetByLabel("Reason").SelectOptionAsync("AcceptedRisk");
            await page.GetByLabel("Expiration (UTC date, empty: never)").FillAsync("2030-01-31");
            await page.GetByLabel("Comment").FillAsync("lab VM, Secure Boot off on purpose");
            await page.GetByLabel("Filter 1 field").FillAsync("entities.azureResource.resourceGroup");
            await page.Locator("#filter-values-0").FillAsync("lab, test");
            await page.GetByLabel("Filter 2 field").FillAsync("extendedProperties.pcr");
            await page.Locator("#filter-op-1").SelectOptionAsync("contains");
            await page.Locator("#filter-values-1").FillAsync("7");
            await page.GetByRole(AriaRole.Button, new() { Name = "Create rule" }).ClickAsync();
            await Expect(page.Locator("#rule-notice")).ToContainTextAsync("web-pcr7 saved");
            ILocator row = page.Locator("tr[data-rule=web-pcr7]");
            await Expect(row).ToContainTextAsync("TL_VM_AttestationFailed");
            await Expect(row).ToContainTextAsync("contains \"7\"");
            await browser.ScreenshotAsync("suppression-rules");

            JsonElement stored = home.TlJson("security", "alerts-suppression-rule", "show", "-n", "web-pcr7").GetProperty("properties");
            Assert.Equal("AcceptedRisk", stored.GetProperty("reason").GetString());
            Assert.Equal("Enabled", stored.GetProperty("state").GetString());
            Assert.StartsWith("2030-01-31T00:00:00", stored.GetProperty("expirationDateUtc").GetString(), StringComparison.Ordinal);
            Assert.Equal("lab VM, Secure Boot off on purpose", stored.GetProperty("comment").GetString());
            JsonElement[] allOf = [.. stored.GetProperty("suppressionAlertsScope").GetProperty("allOf").EnumerateArray()];
            Assert.Equal(["lab", "test"], allOf[0].GetProperty("in").EnumerateArray().Select(v => v.GetString()!));
            Assert.Equal("7", allOf[1].GetProperty("contains").GetString());

            await page.GetByRole(AriaRole.Button, new() { Name = "Delete rule web-pcr7" }).ClickAsync();
            await Expect(page.Locator("#rule-notice")).ToContainTextAsync("web-pcr7 deleted");
            await Expect(page.Locator("#rules tbody tr")).ToHaveCountAsync(0);
            Assert.NotEqual(0, home.Tl("security", "alerts-suppression-rule", "show", "-n", "web-pcr7").ExitCode);
            await Expect(page).ToHaveURLAsync(new Regex("/portal/suppression-rules$"));
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }
}
