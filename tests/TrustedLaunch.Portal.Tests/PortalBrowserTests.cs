using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using TrustedLaunch.HostAgent.Tests.Platform;
using TrustedLaunch.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace TrustedLaunch.Portal.Tests;

/// <summary>
/// The portal in a real browser (Debian's chromium driven by Playwright) against a real <c>tl server</c> with its local
/// host: the create form's rules, and a Trusted Launch VM created through the form, booted for real (TCG), attested,
/// then booted with Secure Boot turned off in its own guest state so that its alert appears and the PCR diff shows PCR 7.
/// </summary>
[Collection(PlatformBoots.Name)]
[IntegrationTest]
public sealed partial class PortalBrowserTests(ITestOutputHelper output)
{
    private const string Group = "portal";
    private const string LinuxEfiImage = "PortalTests:debian-12-linuxefi:12-gen2:1.0.0";
    private static readonly TimeSpan BootTimeout = TimeSpan.FromMinutes(8);

    /// <summary>
    /// A Gen1 image disables the Trusted launch option with the rule's reason beside it (judged by the server's rule
    /// engine on the change, no submit by hand); a Gen2 image enables it again, shows its pre-flight Secure Boot verdict,
    /// and "View template" shows the ARM JSON of the VM.
    /// </summary>
    [Fact]
    public async Task CreateForm_Gen1ImageDisablesTrustedLaunchWithItsReason_Gen2ShowsVerdictAndTemplate()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-portal-form");
        try
        {
            Build(home, "image", "build", "debian-12", "--generation", "1");
            Build(home, "image", "build", "debian-12");
            home.StartServer("--no-local-host");
            Assert.Equal(0, home.Tl("group", "create", "-n", Group).ExitCode);

            await using PortalBrowser browser = await PortalBrowser.LaunchAsync();
            IPage page = browser.Page;
            await page.GotoAsync(home.Url + "/portal/create");
            ILocator image = page.GetByLabel("Image");
            string gen1 = (await image.Locator("option", new() { HasText = "Gen1" }).First.GetAttributeAsync("value"))!;
            string gen2 = (await image.Locator("option", new() { HasText = "Gen2" }).First.GetAttributeAsync("value"))!;

            await image.SelectOptionAsync(gen1); // its onchange submits the form to be judged again
            await Expect(page.Locator("#sec-tl")).ToBeDisabledAsync();
            await Expect(page.Locator("#sec-standard")).ToBeCheckedAsync();
            await Expect(page.Locator("#tl-reasons")).ToContainTextAsync("Please select Trusted Launch Supported Gen2 OS Image");
            await browser.ScreenshotAsync("create-gen1");

            await page.GetByLabel("Image").SelectOptionAsync(gen2);
            await Expect(page.Locator("#sec-tl")).ToBeEnabledAsync();
            await Expect(page.Locator("#tl-reasons")).ToBeEmptyAsync();
            await page.GetByLabel("Trusted launch virtual machines").CheckAsync();
            await page.GetByLabel("Virtual machine name").FillAsync("preview1");
            await page.GetByRole(AriaRole.Button, new() { Name = "Check" }).ClickAsync();
            await Expect(page.Locator("#image-verdict")).ToContainTextAsync("passes");
            await page.Locator("#template summary").ClickAsync();
            await Expect(page.Locator("#template pre")).ToContainTextAsync("\"securityType\": \"TrustedLaunch\"");
            await Expect(page.Locator("#template pre")).ToContainTextAsync("\"type\": \"Microsoft.Compute/virtualMachines\"");
            await browser.ScreenshotAsync("create");
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }

    /// <summary>
    /// Issue 18's walk through the portal on two real boots of one VM: created through the form (Trusted launch, Secure
    /// Boot, vTPM), its overview follows it to running and attested; the list shows it; the Security page shows the boot
    /// chain and a PCR table without differences. Then Secure Boot is turned off in the VM's own VMGS (the key-less UEFI
    /// store, with the host's key) and it boots again: the alerts page open meanwhile announces it live (the event stream), it is listed, the PCR table highlights PCR 7,
    /// and the alert is dismissed from the page. Last, the VM is deleted through the list's confirmation step.
    /// </summary>
    [Fact]
    public async Task TrustedLaunchVm_CreatedThroughTheForm_RunsAttests_TamperedBootAlertDismissed_Pcr7Highlighted()
    {
        using PlatformHome home = PlatformHome.Fresh("tl-test-portal-vm");
        var clock = Stopwatch.StartNew();
        void Step(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
        try
        {
            // linuxefi: Debian's `linux` command skips the EFI stub without Secure Boot, and with it the event log.
            string disk = Path.Combine(home.Path, "debian-12-linuxefi.qcow2");
            Build(home, "image", "build", "debian-12", "--grub-loader", "linuxefi", "--out", disk);
            home.StartServer();
            ToolResult registered = home.Tl("image", "register", "--publisher", "PortalTests", "--offer", "debian-12-linuxefi", "--sku", "12-gen2",
                "--version", "1.0.0", "--file", disk);
            Assert.True(registered.ExitCode == 0, registered.ToString());
            Assert.Equal(0, home.Tl("group", "create", "-n", Group).ExitCode);
            Assert.Equal(0, home.Tl("security", "pricing", "create", "-n", "VirtualMachines", "--tier", "Standard").ExitCode);
            Step("image registered, plan Standard");

            await using PortalBrowser browser = await PortalBrowser.LaunchAsync();
            IPage page = browser.Page;

            // 1. Create through the form.
            await page.GotoAsync(home.Url + "/portal/create");
            await page.GetByLabel("Image").SelectOptionAsync(LinuxEfiImage);
            await page.GetByLabel("Virtual machine name").FillAsync("web1");
            await page.GetByLabel("Size").SelectOptionAsync("Standard_B1s");
            await page.GetByLabel("Trusted launch virtual machines").CheckAsync();
            await Expect(page.GetByLabel("Enable secure boot")).ToBeCheckedAsync();
            await Expect(page.GetByLabel("Enable vTPM")).ToBeCheckedAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Review + create" }).ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/portal/vms/portal/web1$"));
            Step("created through the form");

            // 2. The overview follows the VM (it reloads itself) until it runs and its first attestation passed.
            await Expect(page.Locator("#attestation")).ToHaveTextAsync("pass", new() { Timeout = (float)BootTimeout.TotalMilliseconds });
            await Expect(page.Locator("#power")).ToHaveTextAsync("Running");
            await Expect(page.Locator("#boot-verdict")).ToHaveTextAsync("booted");
            await browser.ScreenshotAsync("vm-overview");
            Step("running and attested (pass)");

            await page.GotoAsync(home.Url + "/portal/vms?sort=name");
            ILocator row = page.Locator("tr[data-vm=web1]");
            await Expect(row).ToContainTextAsync("Trusted launch");
            await Expect(row).ToContainTextAsync("Running");
            await Expect(row.Locator("span.pass")).ToHaveTextAsync("pass");
            await browser.ScreenshotAsync("vms");

            await page.GotoAsync(home.Url + "/portal/vms/portal/web1/security");
            await Expect(page.Locator("#boot-chain")).ToContainTextAsync("Secure Boot enabled");
            await Expect(page.Locator("#boot-chain li")).Not.ToHaveCountAsync(0);
            await Expect(page.Locator("table.pcrs tr.differs")).ToHaveCountAsync(0);
            await Expect(page.Locator("#claims")).ToContainTextAsync("x-ms-azurevm-vmid");
            Step("security page: boot chain, PCRs without difference, claims");

            // 3. Secure Boot turned off in the VM's own guest state between two boots.
            Assert.Equal(0, home.Tl("vm", "deallocate", "-g", Group, "-n", "web1").ExitCode);
            var vmId = Guid.Parse(home.TlJson("vm", "show", "-g", Group, "-n", "web1").GetProperty("properties").GetProperty("vmId").GetString()!);
            string keyless = Path.Combine(home.Path, "keyless-vars.fd");
            Build(home, "uefi", "vars", "create", "--template", "empty", "--out", keyless);
            Build(home, "vmgs", "import", Path.Combine(home.Path, "vms", vmId.ToString("D"), "vm.vmgs"), "--entry", "uefi-nvram", "--in", keyless,
                "--key-file", Path.Combine(home.Path, "host", "host.kek"));
            // 4. The alerts page, open while the VM boots again, gets the new alert in place (the event stream through the
            //    portal's relay; the page is not reloaded), and shows it.
            await page.GotoAsync(home.Url + "/portal/alerts");
            await Expect(page.Locator("#live-updates")).ToBeHiddenAsync();
            await page.EvaluateAsync("() => { window.notReloaded = true; }");
            Assert.Equal(0, home.Tl("vm", "start", "-g", Group, "-n", "web1").ExitCode);
            Step("second boot without Secure Boot started");
            ILocator alert = page.Locator("tr[data-type=TL_VM_AttestationFailed]").First;
            await Expect(alert).ToBeVisibleAsync(new() { Timeout = (float)BootTimeout.TotalMilliseconds });
            await Expect(page.Locator("#live-updates")).ToContainTextAsync("row(s) updated");
            Assert.True(await page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the alerts page was reloaded instead of updated in place");
            Step("the open alerts page showed the new alert in place");
            await Expect(alert).ToContainTextAsync("BaselineDeviation (PCR 7)");
            await Expect(alert.Locator("td.status")).ToHaveTextAsync("Active");
            await browser.ScreenshotAsync("alerts");
            Step("alert shown");

            // 5. The PCR diff highlights PCR 7 (in the compared bank).
            await page.GotoAsync(home.Url + "/portal/vms/portal/web1/security");
            await Expect(page.Locator("table.pcrs[data-bank=sha256] tr.differs[data-pcr='7']")).ToContainTextAsync("differs");
            await Expect(page.Locator("table.pcrs[data-bank=sha256] tr[data-pcr='0']")).Not.ToHaveClassAsync(new Regex("differs"));
            await Expect(page.Locator("#history tbody tr").First).ToContainTextAsync("BaselineDeviation");
            await browser.ScreenshotAsync("vm-security");
            Step("PCR 7 highlighted");

            // 6. Dismissed from the alerts page; its detail explains the deviation.
            await page.GotoAsync(home.Url + "/portal/alerts");
            string alertName = (await alert.GetAttributeAsync("data-alert"))!;
            await page.GetByRole(AriaRole.Button, new() { Name = $"Dismiss {alertName}" }).ClickAsync();
            await Expect(page.Locator($"tr[data-alert='{alertName}'] td.status")).ToHaveTextAsync("Dismissed");
            Assert.Contains("\"Dismissed\"", home.Tl("security", "alert", "show", "-n", alertName).StandardOutput, StringComparison.Ordinal);
            await page.Locator($"tr[data-alert='{alertName}'] a").ClickAsync();
            await Expect(page.Locator("#explanation")).ToContainTextAsync("PCR 7: Secure Boot disabled");
            await browser.ScreenshotAsync("alert-detail");
            Step("alert dismissed from the page");

            await page.GotoAsync(home.Url + "/portal/recommendations");
            await Expect(page.Locator("#secure-score")).ToContainTextAsync("%");
            await browser.ScreenshotAsync("recommendations");
            await page.GotoAsync(home.Url + "/portal/suppression-rules");
            await browser.ScreenshotAsync("suppression-rules");

            // 7. Delete through the list's confirmation step.
            await page.GotoAsync(home.Url + "/portal/vms");
            await page.GetByRole(AriaRole.Link, new() { Name = "delete web1" }).ClickAsync();
            await Expect(page.Locator("h1")).ToContainTextAsync("Delete virtual machine 'web1'?");
            await page.GetByRole(AriaRole.Button, new() { Name = "Yes, delete web1" }).ClickAsync();
            await Expect(page.Locator("p.notice:not(#live-updates)")).ToContainTextAsync("delete of web1 requested");
            PlatformHome.WaitUntil(() => home.Tl("vm", "show", "-g", Group, "-n", "web1").ExitCode == 2, TimeSpan.FromMinutes(2), "web1 was not deleted");
            Assert.Empty(PlatformHome.ProcessesOf(vmId));
            Step("deleted through the confirmation");
        }
        catch
        {
            output.WriteLine(home.Logs());
            throw;
        }
    }

    private static void Build(PlatformHome home, params string[] args)
    {
        ToolResult result = home.TlProcess(TimeSpan.FromMinutes(15), args);
        Assert.True(result.ExitCode == 0, result.ToString());
    }
}
