using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TrustedLaunch.HostAgent.Tests.Platform;
using TrustedLaunch.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace TrustedLaunch.Portal.Tests;

/// <summary>
/// The portal of a <c>tl server --auth</c> in a real browser: sign-in with a principal's API key (kept in an encrypted,
/// HttpOnly, SameSite=Strict cookie), each person acting as itself through the API (RBAC decides, the audit log names
/// them), a Reader read-only and its forged POST refused, sign-out; the key ring on disk encrypted.
/// </summary>
[Collection(PlatformBoots.Name)]
[IntegrationTest]
public sealed class PortalSignInBrowserTests(ITestOutputHelper output)
{
    private const string Group = "portal";

    [Fact]
    public async Task SignedIn_OwnerActsAsItself_ReaderReadOnlyAndItsForgedPostRefused403Audited_SignOut()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-portal-signin");
        try
        {
            Build(home, "image", "build", "debian-12");
            home.StartServer("--auth", "--no-local-host");
            (string ownerApp, string owner) = Principal(home, "Owner");
            (string readerApp, string reader) = Principal(home, "Reader");
            Assert.Equal(0, home.Tl("group", "create", "-n", Group, "--token", owner).ExitCode);

            await using PortalBrowser browser = await PortalBrowser.LaunchAsync();

            // 1. Not signed in: every page leads to the sign-in page; a wrong key is refused there.
            IPage ownerPage = browser.Page;
            await ownerPage.GotoAsync(home.Url + "/portal/vms?sort=name");
            await Expect(ownerPage).ToHaveURLAsync(new Regex("/portal/signin\\?returnUrl="));
            await ownerPage.GetByLabel("API key or bearer token").FillAsync("tl1." + Guid.NewGuid() + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
            await ownerPage.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await Expect(ownerPage.Locator("#signin-error")).ToContainTextAsync("Sign-in refused");
            await browser.ScreenshotAsync("signin");

            // 2. The Owner signs in, lands where it was going, and creates a VM through the form: the API's audit names it.
            await ownerPage.GetByLabel("API key or bearer token").FillAsync(owner);
            await ownerPage.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await Expect(ownerPage).ToHaveURLAsync(new Regex("/portal/vms\\?sort=name$"));
            await Expect(ownerPage.Locator("#signed-in-as")).ToHaveTextAsync(ownerApp);
            BrowserContextCookiesResult cookie = (await ownerPage.Context.CookiesAsync()).Single(c => c.Name == "tl-portal");
            Assert.True(cookie.HttpOnly);
            Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
            Assert.Equal("/portal", cookie.Path);
            Assert.DoesNotContain(owner.Split('.')[2], cookie.Value, StringComparison.Ordinal);

            await ownerPage.GotoAsync(home.Url + "/portal/create");
            ILocator image = ownerPage.GetByLabel("Image");
            await image.SelectOptionAsync((await image.Locator("option", new() { HasText = "Gen2" }).First.GetAttributeAsync("value"))!);
            await ownerPage.GetByLabel("Virtual machine name").FillAsync("vm1");
            await ownerPage.GetByLabel("Trusted launch virtual machines").CheckAsync();
            await ownerPage.GetByRole(AriaRole.Button, new() { Name = "Review + create" }).ClickAsync();
            await Expect(ownerPage).ToHaveURLAsync(new Regex("/portal/vms/portal/vm1$"));
            Assert.Contains(await AuditAsync(home, owner), e => e.Method == "PUT" && e.Path.EndsWith("/virtualMachines/vm1", StringComparison.Ordinal)
                && e.Caller.Contains(ownerApp, StringComparison.Ordinal) && e.Status < 300);

            // 3. A Reader in another browser sees the VM but no action; the create button is disabled.
            IPage readerPage = await browser.NewSessionAsync();
            await readerPage.GotoAsync(home.Url + "/portal/signin");
            await readerPage.GetByLabel("API key or bearer token").FillAsync(reader);
            await readerPage.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await Expect(readerPage).ToHaveURLAsync(new Regex("/portal/vms$"));
            await Expect(readerPage.Locator("#signed-in-as")).ToContainTextAsync("Reader: read-only");
            await Expect(readerPage.Locator("tr[data-vm=vm1]")).ToBeVisibleAsync();
            await Expect(readerPage.Locator("tr[data-vm=vm1] a", new() { HasTextRegex = new Regex("^(start|stop|restart|delete)") })).ToHaveCountAsync(0);
            await Expect(readerPage.GetByRole(AriaRole.Link, new() { Name = "delete vm1" })).ToHaveCountAsync(0);
            await browser.ScreenshotAsync("vms-reader");
            await readerPage.GotoAsync(home.Url + "/portal/create");
            await Expect(readerPage.GetByRole(AriaRole.Button, new() { Name = "Review + create" })).ToBeDisabledAsync();

            // 4. The Reader forges the delete POST (with a valid antiforgery token of its own session): 403, audited, VM kept.
            await readerPage.GotoAsync(home.Url + "/portal/alerts");
            string antiforgery = (await readerPage.Locator("input[name=__RequestVerificationToken]").First.GetAttributeAsync("value"))!;
            IFormData form = readerPage.Context.APIRequest.CreateFormData();
            form.Set("_handler", "confirm-action");
            form.Set("__RequestVerificationToken", antiforgery);
            IAPIResponse forged = await readerPage.Context.APIRequest.PostAsync(home.Url + "/portal/vms/portal/vm1/confirm/delete",
                new() { Form = form, MaxRedirects = 0 });
            Assert.Equal(403, forged.Status);
            Assert.Contains("AuthorizationFailed", await forged.TextAsync(), StringComparison.Ordinal);
            Assert.Contains(await AuditAsync(home, owner), e => e.Method == "POST" && e.Path == "/portal/vms/portal/vm1/confirm/delete" && e.Status == 403
                && e.Caller.Contains(readerApp, StringComparison.Ordinal) && e.Outcome.Contains("AuthorizationFailed", StringComparison.Ordinal));
            Assert.Equal(0, home.Tl("vm", "show", "-g", Group, "-n", "vm1", "--token", owner).ExitCode);

            // 5. The Owner deletes it through the confirmation step: the API's DELETE is audited as the Owner.
            await ownerPage.GotoAsync(home.Url + "/portal/vms");
            await ownerPage.GetByRole(AriaRole.Link, new() { Name = "delete vm1" }).ClickAsync();
            await browser.ScreenshotAsync("confirm-delete");
            await ownerPage.GetByRole(AriaRole.Button, new() { Name = "Yes, delete vm1" }).ClickAsync();
            await Expect(ownerPage.Locator("p.notice:not(#live-updates)")).ToContainTextAsync("delete of vm1 requested");
            Assert.Contains(await AuditAsync(home, owner), e => e.Method == "DELETE" && e.Path.EndsWith("/virtualMachines/vm1", StringComparison.Ordinal)
                && e.Caller.Contains(ownerApp, StringComparison.Ordinal));

            // 6. Sign-out forgets the cookie: the portal asks again.
            await ownerPage.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
            await Expect(ownerPage).ToHaveURLAsync(new Regex("/portal/signin$"));
            await ownerPage.GotoAsync(home.Url + "/portal/alerts");
            await Expect(ownerPage).ToHaveURLAsync(new Regex("/portal/signin\\?returnUrl="));

            // 7. At rest: every key of the portal's ring is encrypted; the protector is the owner's alone.
            string[] keys = Directory.GetFiles(Path.Combine(home.Path, "portal-keys"), "key-*.xml");
            Assert.NotEmpty(keys);
            Assert.All(keys, k => Assert.Contains("<encryptedSecret", File.ReadAllText(k), StringComparison.Ordinal));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(home.Path, "portal-keys-protector.pfx")));
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }

    /// <summary>
    /// A Contributor (of the subscription) presses the Secure Boot recommendation's Fix button for a real VM that booted
    /// without Secure Boot: the portal posts <c>…/remediate</c> with the Contributor's key (audited as it), the platform
    /// deallocates the VM, turns Secure Boot on and boots it again, and the recommendation turns Healthy on the page.
    /// </summary>
    [Fact]
    public async Task Contributor_FixButton_RemediatesARealVmWithoutSecureBoot_RecommendationTurnsHealthy()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-portal-fix");
        TimeSpan boot = TimeSpan.FromMinutes(10);
        try
        {
            Build(home, "image", "build", "debian-12");
            home.StartServer("--auth");
            (_, string owner) = Principal(home, "Owner");
            Assert.Equal(0, home.Tl("group", "create", "-n", Group, "--token", owner).ExitCode);
            string subscription = home.TlJson("group", "show", "-n", Group, "--token", owner).GetProperty("id").GetString()!.Split('/')[2];
            (string contributorApp, string contributor) = Principal(home, "Contributor", $"/subscriptions/{subscription}");
            ToolResult created = home.Tl("vm", "create", "-g", Group, "-n", "sboff", "--image", "debian-12", "--size", "Standard_B1s", "--security-type", "TrustedLaunch",
                "--enable-secure-boot", "false", "--enable-vtpm", "true", "--os-disk-delete-option", "Delete", "--no-wait", "--token", contributor);
            Assert.True(created.ExitCode == 0, created.ToString());

            await using PortalBrowser browser = await PortalBrowser.LaunchAsync();
            IPage page = browser.Page;
            WaitBooted(home, "sboff", contributor, boot);
            await page.GotoAsync(home.Url + "/portal/signin?returnUrl=%2Fportal%2Frecommendations");
            await page.GetByLabel("API key or bearer token").FillAsync(contributor);
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/portal/recommendations$"));

            // The VM boots without Secure Boot; its Secure Boot recommendation turns Unhealthy and offers Fix.
            ILocator fix = page.GetByRole(AriaRole.Button, new() { Name = "Fix sboff" });
            await ReloadUntilAsync(page, home.Url + "/portal/recommendations", () => fix.CountAsync(), boot, "the Fix button for sboff");
            await browser.ScreenshotAsync("recommendations-fix");
            await fix.ClickAsync();
            await Expect(page.Locator("p.notice", new() { HasText = "Remediation" })).ToContainTextAsync("Remediation started");
            Assert.Contains(await AuditAsync(home, owner), e => e.Method == "POST" && e.Path.EndsWith("/remediate", StringComparison.Ordinal)
                && e.Caller.Contains(contributorApp, StringComparison.Ordinal) && e.Status == 202);

            // The platform deallocates, turns Secure Boot on and boots it again: the recommendation turns Healthy.
            ILocator healthy = page.Locator($"section[data-recommendation='{TrustedLaunch.Posture.Assessments.Recommendations.SecureBoot.Key}'] tr", new() { HasText = "sboff" })
                .Locator("td.Healthy");
            await ReloadUntilAsync(page, home.Url + "/portal/recommendations", () => healthy.CountAsync(), boot, "sboff Healthy after the fix");
            WaitBooted(home, "sboff", contributor, boot);
            Assert.Contains("TL-GUEST: secure-boot=enabled", home.Tl("vm", "boot-log", "-g", Group, "-n", "sboff", "--token", contributor).StandardOutput, StringComparison.Ordinal);
            Assert.True(home.TlJson("vm", "show", "-g", Group, "-n", "sboff", "--token", contributor).GetProperty("properties").GetProperty("securityProfile")
                .GetProperty("uefiSettings").GetProperty("secureBootEnabled").GetBoolean());
            Assert.Equal(0, home.Tl("vm", "delete", "-g", Group, "-n", "sboff", "--yes", "--token", contributor).ExitCode);
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }

    private static void WaitBooted(PlatformHome home, string vm, string key, TimeSpan timeout)
    {
        string[] Codes() => home.TlJson("vm", "get-instance-view", "-g", Group, "-n", vm, "--token", key).GetProperty("properties").GetProperty("instanceView")
            .GetProperty("statuses").EnumerateArray().Select(s => s.GetProperty("code").GetString()!).ToArray();
        PlatformHome.WaitUntil(() => Codes() is var codes && codes.Contains("PowerState/running") && codes.Contains("BootVerdict/booted"), timeout,
            $"{vm} did not boot: {string.Join(", ", Codes())}");
    }

    // Loads the page again (a GET, never a re-sent form) until the locator counts something.
    private static async Task ReloadUntilAsync(IPage page, string url, Func<Task<int>> count, TimeSpan timeout, string what)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (await count() == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} did not appear in {timeout}.");
            await Task.Delay(5000);
            await page.GotoAsync(url);
        }
    }

    private sealed record AuditEntry(string Caller, string Method, string Path, int Status, string Outcome);

    private static (string AppId, string Key) Principal(PlatformHome home, string role, string scope = "/")
    {
        ToolResult created = home.TlProcess(TimeSpan.FromMinutes(2), "server", "principal", "create", "--data", home.Path, "--name", "portal " + role,
            "--role", role, "--scope", scope, "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        JsonElement json = JsonDocument.Parse(created.StandardOutput).RootElement;
        return (json.GetProperty("appId").GetString()!, json.GetProperty("secret").GetString()!);
    }

    private static async Task<IReadOnlyList<AuditEntry>> AuditAsync(PlatformHome home, string ownerKey)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(home.Url + "/v1/audit?limit=1000"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ownerKey);
        using HttpResponseMessage response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("value").EnumerateArray().Select(e => new AuditEntry(e.GetProperty("caller").GetString()!, e.GetProperty("method").GetString()!,
            e.GetProperty("path").GetString()!, e.GetProperty("status").GetInt32(), e.GetProperty("outcome").GetString()!)).ToList();
    }

    private static void Build(PlatformHome home, params string[] args)
    {
        ToolResult result = home.TlProcess(TimeSpan.FromMinutes(15), args);
        Assert.True(result.ExitCode == 0, result.ToString());
    }
}
