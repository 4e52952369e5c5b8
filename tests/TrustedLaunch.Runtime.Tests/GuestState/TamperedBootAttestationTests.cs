using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestChannel.Host;
using TrustedLaunch.Images;
using TrustedLaunch.Images.Grub;
using TrustedLaunch.Runtime.Console;
using TrustedLaunch.Runtime.GuestState;
using TrustedLaunch.Runtime.Tests.Boot;
using TrustedLaunch.Testing;
using TrustedLaunch.VTpm.Identity;
using Xunit.Abstractions;
using BootStage = TrustedLaunch.Attestation.BootStage;

namespace TrustedLaunch.Runtime.Tests.GuestState;

/// <summary>
/// Tampering caught and named, on real firmware state: one VM boots with Secure Boot and attests through its guest
/// agent (the baseline is learned from that); then its VMGS gets the key-less UEFI store (<c>tl uefi vars create
/// --template empty</c>, <c>tl vmgs import</c>) and its disk a grub.cfg that loads the kernel another way with one more
/// argument. The same vTPM's evidence from that boot is genuine (AK, quote, replay) and deviates from the baseline.
/// </summary>
[Collection(BootGroup.Name)]
[IntegrationTest]
public sealed class TamperedBootAttestationTests(BootFixture images, ITestOutputHelper output)
{
    private const string AddedKernelArgument = "mitigations=off";
    private const string GrubConfig = "/EFI/debian/grub.cfg"; // the one Debian's signed GRUB reads (its prefix)
    private static readonly TimeSpan BootTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Attest_SecureBootOffAndChangedGrubConfig_GenuineEvidenceFailsBaselineNamingPcr7AndTheCommandLine()
    {
        DebianImage trustedImage = images.WithAgent;
        DebianImage tamperedImage = BootFixture.Build(new DebianImageRequest
        {
            GuestAgent = images.GuestAgent,
            KernelCommandLine = $"{DebianImageRequest.DefaultKernelCommandLine} {AddedKernelArgument}",
            // Debian's `linux` skips the kernel's EFI stub when Secure Boot is off, and with it the event log; evidence
            // without a log fails replay, before the baseline is ever compared.
            KernelLoader = GrubKernelLoader.LinuxEfi,
        });
        VmgsVm vm = VmgsVm.Create("microsoft");
        FilePlatformCa ca = FilePlatformCa.Open(VmgsVm.Ca);
        var anchors = new X509Certificate2Collection { ca.RootCertificate, ca.AttestationKeyCa.Certificate };

        Attested trusted = await BootAndAttestAsync(vm, trustedImage, "trusted");
        Assert.Equal("enabled", trusted.Verdict.GuestFacts["secure-boot"]);
        AttestationResult first = new AttestationVerifier(TimeProvider.System).Verify(trusted.Evidence, new AttestationExpectations
        {
            VmId = vm.VmId,
            Nonce = trusted.Nonce,
            AkCaCertificates = anchors,
        });
        Assert.True(first.Passed, first.Failure?.ToString());
        AttestationBaseline baseline = AttestationBaseline.Learn(first);

        // Secure Boot off in the VM's own guest state, with the real CLI: the VMGS's UEFI store becomes the key-less one.
        string keyless = Path.Combine(vm.Directory, "keyless-vars.fd");
        ToolResult created = VmgsVm.Tl("uefi", "vars", "create", "--template", "empty", "--out", keyless);
        Assert.True(created.ExitCode == 0, $"tl uefi vars create: {created}");
        ToolResult imported = VmgsVm.Tl("vmgs", "import", vm.VmgsPath, "--entry", "uefi-nvram", "--in", keyless, "--key-file", vm.KekPath);
        Assert.True(imported.ExitCode == 0, $"tl vmgs import: {imported}");

        Attested tampered = await BootAndAttestAsync(vm, tamperedImage, "tampered");
        Assert.Equal("disabled", tampered.Verdict.GuestFacts["secure-boot"]);
        Assert.Equal(trusted.Evidence.Tpm.AkCertificate, tampered.Evidence.Tpm.AkCertificate); // the same vTPM attests
        AttestationResult second = new AttestationVerifier(TimeProvider.System).Verify(tampered.Evidence, new AttestationExpectations
        {
            VmId = vm.VmId,
            Nonce = tampered.Nonce,
            AkCaCertificates = anchors,
            Baseline = baseline,
        });
        foreach (BaselineDeviation deviation in second.Deviations)
            output.WriteLine($"{deviation.Stage} {deviation.Description}");

        // The verifier stops at the first failing step, so a baseline failure means the AK chain and VM id, the quote
        // over the nonce and the event-log replay in every bank all passed: this is the VM's real measured boot.
        Assert.True(second.Failure?.Reason == AttestationFailureReason.BaselineDeviation, second.Failure?.ToString());
        Assert.Equal(vm.VmId, second.VmId);
        Assert.False(second.BootState!.SecureBootEnabled);
        Assert.Equal((BaselineVerdict.Fail, BaselineVerdict.Fail), (second.EarlyBoot, second.LateBoot));

        // Early boot first, PCR 7 leading: Secure Boot was turned off and the Microsoft keys went with the store.
        BaselineDeviation secureBoot = second.Deviations[0];
        Assert.Equal((BootStage.Early, 7), (secureBoot.Stage, secureBoot.Pcr));
        Assert.StartsWith("PCR 7: Secure Boot disabled", secureBoot.Description, StringComparison.Ordinal);
        Assert.Contains("KEK entry removed 'Microsoft Corporation KEK CA 2011'", secureBoot.Description, StringComparison.Ordinal);
        Assert.Equal("PCR 7", second.Failure!.Component);

        // PCR 8: the measured kernel command line and the GRUB command that carried it, old and new.
        string oldCommandLine = $"/vmlinuz {trustedImage.Manifest.KernelCommandLine}";
        string newCommandLine = $"/vmlinuz {tamperedImage.Manifest.KernelCommandLine}";
        BaselineDeviation commandLine = Assert.Single(second.Deviations, d => d.Pcr == 8);
        Assert.Equal(BootStage.Late, commandLine.Stage);
        Assert.Contains($"kernel command line changed from '{oldCommandLine}' to '{newCommandLine}'", commandLine.Description, StringComparison.Ordinal);
        Assert.Contains($"grub command added 'linuxefi {newCommandLine}'", commandLine.Description, StringComparison.Ordinal);
        Assert.Contains($"grub command removed 'linux {oldCommandLine}'", commandLine.Description, StringComparison.Ordinal);

        // PCR 9: GRUB read another grub.cfg, with exactly the digests the two images were built with.
        BaselineDeviation files = Assert.Single(second.Deviations, d => d.Pcr == 9);
        Assert.Contains($"{GrubConfig} digest changed from {trustedImage.Manifest.Files[GrubConfig]} to {tamperedImage.Manifest.Files[GrubConfig]}",
            files.Description, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Boots the VM from its VMGS (tl-vtpm on the vtpm entry), asks its guest agent for evidence, powers it off.</summary>
    private async Task<Attested> BootAndAttestAsync(VmgsVm vm, DebianImage image, string label)
    {
        VmgsGuestState state = VmgsGuestState.Open(vm.VmgsPath, vm.KekPath);
        string console = Path.Combine(vm.Directory, $"console-{label}.log");
        var options = new VirtualMachineOptions
        {
            Disk = image.RawPath,
            VariableStore = state.VariableStore,
            VTpm = state.VTpm(VmgsVm.TlVtpm),
            MemoryMiB = 512,
            Uuid = state.VmUuid,
            ConsoleLog = console,
        };
        string Tail()
        {
            string text = File.Exists(console) ? File.ReadAllText(console) : "";
            return text.Length > 4000 ? text[^4000..] : text;
        }

        await using VirtualMachine machine = await VirtualMachine.StartAsync(options);
        BootVerdict verdict = await machine.WaitForVerdictAsync(BootTimeout);
        Assert.True(verdict.Outcome == BootOutcome.Booted, $"{label}: {verdict.Outcome}: {verdict.Summary}\n{Tail()}");
        Assert.Equal("present", verdict.GuestFacts["event-log"]);
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        AttestationEvidence evidence;
        try
        {
            await using GuestAgentConnection agent = await GuestAgentConnection.ConnectAsync(machine.AgentSocket);
            evidence = await agent.RequestEvidenceAsync(nonce, TimeSpan.FromMinutes(2));
        }
        catch (GuestChannel.GuestChannelException e)
        {
            throw new Xunit.Sdk.XunitException($"{label}: {e.GetType().Name}: {e.Message}\n{Tail()}");
        }

        VmStopReport stopped = await machine.ShutdownAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"{label} boot ({Path.GetFileName(image.RawPath)}): {verdict.Outcome}, stopped: {stopped.How}");
        return new Attested(evidence, nonce, verdict);
    }

    private sealed record Attested(AttestationEvidence Evidence, byte[] Nonce, BootVerdict Verdict);
}
