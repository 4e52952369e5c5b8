using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TrustedLaunch.HostAgent.Tests.Platform;
using TrustedLaunch.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace TrustedLaunch.Portal.Tests;

/// <summary>
/// A principal whose only role is Reader at one resource group, in a real browser against <c>tl server --auth</c>:
/// the posture pages read its group's lists (not the subscription's, which the API refuses it), the scale set and
/// deployment pages show its group's resources through the API, and the VM list updates in place through the
/// portal's cookie-authenticated event stream.
/// </summary>
[Collection(PlatformBoots.Name)]
[IntegrationTest]
public sealed class PortalFleetBrowserTests(ITestOutputHelper output)
{
    private const string Template = """
        {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
         "resources": [{"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2021-05-01", "name": "vnet", "location": "[resourceGroup().location]",
            "properties": {"addressSpace": {"addressPrefixes": ["10.7.0.0/16"]}, "subnets": [{"name": "s0", "properties": {"addressPrefix": "10.7.0.0/24"}}]}}]}
        """;

    [Fact]
    public async Task ResourceGroupReader_SeesItsGroupsPostureScaleSetsAndDeployments_VmListUpdatesInPlace()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-portal-fleet");
        try
        {
            Build(home, "image", "build", "debian-12");
            home.StartServer("--auth", "--no-local-host");
            (_, string owner) = Principal(home, "Owner", "/");
            Assert.Equal(0, home.Tl("group", "create", "-n", "alpha", "--token", owner).ExitCode);
            Assert.Equal(0, home.Tl("group", "create", "-n", "beta", "--token", owner).ExitCode);
            string subscription = home.TlJson("group", "show", "-n", "alpha", "--token", owner).GetProperty("id").GetString()!.Split('/')[2];
            (string readerApp, string reader) = Principal(home, "Reader", $"/subscriptions/{subscription}/resourceGroups/alpha");

            // In alpha: a Trusted Launch VM without Secure Boot, a scale set of two, a deployment; in beta: a VM the Reader must not see.
            CreateVm(home, owner, "alpha", "a1", secureBoot: false);
            CreateVm(home, owner, "beta", "b1", secureBoot: false);
            ToolResult scaleSet = home.Tl("vmss", "create", "-g", "alpha", "-n", "web", "--image", "debian-12", "--vm-sku", "Standard_B1s", "--instance-count", "2",
                "--orchestration-mode", "Flexible", "--security-type", "TrustedLaunch", "--enable-secure-boot", "true", "--enable-vtpm", "true", "--no-wait", "--token", owner);
            Assert.True(scaleSet.ExitCode == 0, scaleSet.ToString());
            string template = Path.Combine(home.Path, "vnet.json");
            await File.WriteAllTextAsync(template, Template);
            ToolResult deployed = home.Tl("deployment", "group", "create", "-g", "alpha", "-n", "net", "--template-file", template, "--token", owner);
            Assert.True(deployed.ExitCode == 0, deployed.ToString());

            await using PortalBrowser browser = await PortalBrowser.LaunchAsync();
            IPage page = browser.Page;
            await page.GotoAsync(home.Url + "/portal/signin?returnUrl=%2Fportal%2Frecommendations");
            await page.GetByLabel("API key or bearer token").FillAsync(reader);
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await Expect(page.Locator("#signed-in-as")).ToHaveTextAsync(readerApp + " (Reader: read-only)");

            // 1. Recommendations and secure score: alpha's assessments (read per group), none of beta's, nothing refused.
            ILocator a1 = page.Locator("section[data-recommendation] td.mono", new() { HasTextRegex = new Regex("^a1$") });
            await ReloadUntilAsync(page, home.Url + "/portal/recommendations", () => a1.CountAsync(), "a1's assessments");
            await Expect(page.Locator("section[data-recommendation] td.mono", new() { HasTextRegex = new Regex("^b1$") })).ToHaveCountAsync(0);
            await Expect(page.Locator("p[role=alert]")).ToHaveCountAsync(0);
            await Expect(page.Locator("p[data-score=alpha] .score")).ToContainTextAsync("%");
            await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Fix a1" })).ToHaveCountAsync(0);
            await browser.ScreenshotAsync("recommendations-group-reader");
            await page.GotoAsync(home.Url + "/portal/alerts");
            await Expect(page.Locator("p[role=alert]")).ToHaveCountAsync(0);
            await Expect(page.Locator("main")).ToContainTextAsync("No alerts.");
            await Expect(page.Locator("#live-updates")).ToHaveCountAsync(0); // the API's alert stream is subscription-wide: not opened for it

            // 2. Scale sets: capacity, orchestration mode, security type, instances linked to their VM pages.
            await page.GetByRole(AriaRole.Link, new() { Name = "Scale sets" }).ClickAsync();
            ILocator web = page.Locator("tr[data-scale-set=web]");
            await Expect(web.Locator("td.capacity")).ToHaveTextAsync("2");
            await Expect(web).ToContainTextAsync("Flexible");
            await Expect(web).ToContainTextAsync("TrustedLaunch");
            await Expect(web.Locator("li a")).ToHaveCountAsync(2);
            await browser.ScreenshotAsync("scale-sets");
            string instance = (await web.Locator("li a").First.TextContentAsync())!;
            await web.Locator("li a").First.ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex($"/portal/vms/alpha/{Regex.Escape(instance)}$"));

            // 3. Deployments: state, time, duration; the detail lists the per-resource operations.
            await page.GetByRole(AriaRole.Link, new() { Name = "Deployments" }).ClickAsync();
            ILocator net = page.Locator("tr[data-deployment=net]");
            await Expect(net).ToContainTextAsync("Succeeded");
            await Expect(net).ToContainTextAsync(" s");
            await browser.ScreenshotAsync("deployments");
            await net.GetByRole(AriaRole.Link, new() { Name = "net" }).ClickAsync();
            await Expect(page.Locator("#deployment-state")).ToHaveTextAsync("Succeeded");
            ILocator vnet = page.Locator("#operations tr[data-operation=vnet]");
            await Expect(vnet).ToContainTextAsync("Microsoft.Network/virtualNetworks");
            await Expect(vnet).ToContainTextAsync("Create");
            await browser.ScreenshotAsync("deployment-detail");

            // 4. The VM list updates in place: a VM created meanwhile appears without a reload, through /portal/live/vms.
            await page.GotoAsync(home.Url + "/portal/vms");
            await Expect(page.Locator("tr[data-vm=a1]")).ToBeVisibleAsync();
            await Expect(page.Locator("tr[data-vm=b1]")).ToHaveCountAsync(0);
            await page.EvaluateAsync("() => { window.notReloaded = true; }");
            CreateVm(home, owner, "alpha", "a2", secureBoot: true);
            CreateVm(home, owner, "beta", "b2", secureBoot: true);
            await Expect(page.Locator("tr[data-vm=a2]")).ToBeVisibleAsync();
            await Expect(page.Locator("#live-updates")).ToContainTextAsync("row(s) updated");
            Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"));
            await Expect(page.Locator("tr[data-vm=b2]")).ToHaveCountAsync(0);
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }

    /// <summary>
    /// The portal's alert relay is authenticated by the sign-in cookie alone and opens the API's stream as the
    /// signed-in principal: an Owner's browser gets the API's event stream; without the cookie it is sent to sign in.
    /// </summary>
    [Fact]
    public async Task AlertRelay_OpensTheApiStreamAsTheSignedInPrincipal_NoCookieNoStream()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-portal-relay");
        try
        {
            home.StartServer("--auth", "--no-local-host");
            (_, string owner) = Principal(home, "Owner", "/");
            await using PortalBrowser browser = await PortalBrowser.LaunchAsync();
            IPage page = browser.Page;

            IAPIResponse anonymous = await page.Context.APIRequest.GetAsync(home.Url + "/portal/live/alerts", new() { MaxRedirects = 0 });
            Assert.Equal(302, anonymous.Status);

            await page.GotoAsync(home.Url + "/portal/signin?returnUrl=%2Fportal%2Falerts");
            await page.GetByLabel("API key or bearer token").FillAsync(owner);
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/portal/alerts$"));
            // The page's own EventSource: the first message of the API's stream arrives through the relay.
            string first = await page.EvaluateAsync<string>("""
                () => new Promise((resolve, reject) => {
                  const xhr = new XMLHttpRequest();
                  xhr.open('GET', '/portal/live/alerts');
                  xhr.onprogress = () => { if (xhr.responseText.length > 0) { resolve(xhr.status + ' ' + xhr.getResponseHeader('Content-Type') + ' ' + xhr.responseText); xhr.abort(); } };
                  xhr.onerror = () => reject(new Error('relay failed'));
                  xhr.send();
                })
                """);
            Assert.StartsWith("200 text/event-stream : watching Microsoft.Security events", first, StringComparison.Ordinal);
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }

    private static void CreateVm(PlatformHome home, string owner, string group, string name, bool secureBoot)
    {
        ToolResult created = home.Tl("vm", "create", "-g", group, "-n", name, "--image", "debian-12", "--size", "Standard_B1s", "--security-type", "TrustedLaunch",
            "--enable-secure-boot", secureBoot ? "true" : "false", "--enable-vtpm", "true", "--no-wait", "--token", owner);
        Assert.True(created.ExitCode == 0, created.ToString());
    }

    // Loads the page again until the locator counts something (the posture engine assesses within seconds).
    private static async Task ReloadUntilAsync(IPage page, string url, Func<Task<int>> count, string what)
    {
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (await count() == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} did not appear.");
            await Task.Delay(2000);
            await page.GotoAsync(url);
        }
    }

    private static (string AppId, string Key) Principal(PlatformHome home, string role, string scope)
    {
        ToolResult created = home.TlProcess(TimeSpan.FromMinutes(2), "server", "principal", "create", "--data", home.Path, "--name", "portal " + role,
            "--role", role, "--scope", scope, "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        JsonElement json = JsonDocument.Parse(created.StandardOutput).RootElement;
        return (json.GetProperty("appId").GetString()!, json.GetProperty("secret").GetString()!);
    }

    private static void Build(PlatformHome home, params string[] args)
    {
        ToolResult result = home.TlProcess(TimeSpan.FromMinutes(15), args);
        Assert.True(result.ExitCode == 0, result.ToString());
    }
}
