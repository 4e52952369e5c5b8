using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestChannel.Host;
using TrustedLaunch.Images;
using TrustedLaunch.Images.Agent;
using TrustedLaunch.Runtime;
using TrustedLaunch.Runtime.Console;
using TrustedLaunch.Runtime.Firmware;
using TrustedLaunch.Runtime.VTpm;
using TrustedLaunch.Storage;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.VTpm.State;

namespace TrustedLaunch.GuestAgent.Tests.Boot;

/// <summary>
/// The whole path once, for real: the NativeAOT agent published from this source into the Debian image
/// (`tl image build`'s code), a tl-vtpm manufactured for the VM (AK + certificate), Microsoft-keys Secure Boot under
/// QEMU (TCG here), and the host asking the guest for evidence over the virtio-serial channel.
/// </summary>
[IntegrationTest]
public sealed class GuestBootAttestationTests
{
    private static readonly TimeSpan BootTimeout = TimeSpan.FromMinutes(5);

    private static string CacheRoot => RepositoryPaths.TestImageCache;

    [Fact]
    public async Task Boot_DebianWithAgentSecureBootTlVtpm_HostGetsEvidenceThatVerifiesAndTheRefusedModule()
    {
        ExternalTool.Require("qemu-system-x86_64");
        ExternalTool.Require("mformat");
        string agent = GuestAgentPublisher.Publish(RepositoryPaths.RepositoryRoot, Path.Combine(CacheRoot, "guest-agent"));
        DebianImage image = DebianImageBuilder.Build(new DebianImageRequest
        {
            GuestAgent = agent,
            ImageCache = Path.Combine(CacheRoot, "images"),
            PackageCache = Path.Combine(CacheRoot, "debs"),
        });
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(agent))), image.Manifest.GuestAgentSha256);

        string work = RepositoryPaths.NewTempDirectory("tl-agent-boot");
        var vmId = Guid.NewGuid();
        string state = Path.Combine(work, "vtpm.state");
        string key = Path.Combine(work, "vtpm.key");
        VTpmManufacturer.Manufacture(VTpmStateFile.Open(state, SealingKey.Generate(key)), ProvisionedSwtpm.Ca, new VTpmManufactureOptions
        {
            VmId = vmId,
            PcrBanks = [TpmAlgId.Sha1, TpmAlgId.Sha256, TpmAlgId.Sha384],
        });
        string disk = Path.Combine(work, "disk.raw");
        File.Copy(image.RawPath, disk);
        string vars = Path.Combine(work, "vars.fd");
        File.Copy(OvmfFirmware.Locate(secureBoot: true).MicrosoftVarsTemplatePath, vars);
        var options = new VirtualMachineOptions
        {
            Disk = disk,
            VariableStore = new FileNonVolatileStore(vars),
            SecureBoot = true,
            VTpm = new VTpmOptions { Program = Path.Combine(AppContext.BaseDirectory, "tl-vtpm"), Flavor = VTpmFlavor.TlVtpm, StatePath = state, KeyPath = key },
            MemoryMiB = 512,
            Uuid = vmId,
            ConsoleLog = Path.Combine(work, "console.log"),
        };

        await using VirtualMachine vm = await VirtualMachine.StartAsync(options);
        BootVerdict verdict = await vm.WaitForVerdictAsync(BootTimeout);
        string Console() => File.ReadAllText(options.ConsoleLog!);
        Assert.True(verdict.Outcome == BootOutcome.Booted, $"{verdict.Outcome}: {verdict.Summary}\n{Console()}");
        Assert.Equal("enabled", verdict.GuestFacts["secure-boot"]);
        Assert.StartsWith("started", verdict.GuestFacts["agent"], StringComparison.Ordinal);

        await using GuestAgentConnection host = await GuestAgentConnection.ConnectAsync(vm.AgentSocket);
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        AttestationEvidence evidence;
        try
        {
            evidence = await host.RequestEvidenceAsync(nonce, TimeSpan.FromMinutes(2));
        }
        catch (GuestChannel.GuestChannelException e)
        {
            throw new Xunit.Sdk.XunitException($"{e.GetType().Name}: {e.Message}\n{Console()}");
        }

        // The quote: signed by the vTPM's AK over the nonce and PCRs 0-9, 14 in all three banks.
        TpmtPublic ak = TpmtPublic.Parse(evidence.Tpm.AkPublic.AsSpan(2));
        var values = evidence.Tpm.Pcrs.SelectMany(b =>
        {
            Assert.True(EvidenceJson.TryParseBank(b.Bank, out TpmAlgId alg));
            return b.Values.Select(v => (Key: (alg, v.Key), Value: Convert.FromHexString(v.Value)));
        }).ToDictionary(p => p.Key, p => p.Value);
        QuoteVerification verified = QuoteVerifier.Verify(ak, evidence.Tpm.Quote, evidence.Tpm.Signature, nonce, true, values);
        Assert.True(verified.IsValid, verified.Detail);
        Assert.Equal(["sha1", "sha256", "sha384"], evidence.Tpm.Pcrs.Select(b => b.Bank).Order());
        Assert.All(evidence.Tpm.Pcrs, b => Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14], b.Values.Keys.Order()));
        Assert.NotEqual(new string('0', 64), evidence.Tpm.Pcrs.Single(b => b.Bank == "sha256").Values[7]); // Secure Boot state was measured

        // The AK certificate names this VM and chains to the platform AK CA; the AK is the one it certifies.
        using var certificate = X509CertificateLoader.LoadCertificate(evidence.Tpm.AkCertificate);
        Assert.Contains(vmId.ToString(), certificate.Subject, StringComparison.Ordinal);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ProvisionedSwtpm.Ca.RootCertificate);
        chain.ChainPolicy.ExtraStore.Add(ProvisionedSwtpm.Ca.AttestationKeyCa.Certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(certificate), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
        using RSA certifiedKey = certificate.GetRSAPublicKey()!;
        Assert.Equal(ak.Unique, certifiedKey.ExportParameters(false).Modulus);

        // What the guest says about itself, and the unsigned module its init tried to load.
        Assert.Equal(vmId.ToString(), evidence.VmId);
        Assert.NotNull(evidence.TcgLog);
        Assert.Equal(("debian", "12"), (evidence.Os!.Id, evidence.Os.VersionId));
        Assert.Contains("console=ttyS0", evidence.Os.KernelCommandLine, StringComparison.Ordinal);
        GuestFinding refused = Assert.Single(evidence.Findings, f => f.Kind == GuestFinding.Kinds.ModuleRejected);
        Assert.Equal("ttyprintk", refused.Module);
        Assert.Contains(host.Findings, f => f is { Kind: GuestFinding.Kinds.ModuleRejected, Module: "ttyprintk" });
        Assert.NotEmpty(host.Heartbeats);

        // And the platform's verifier accepts the same bundle: AK chain and VM identity, quote, the TCG log replayed in
        // every quoted bank, the Secure Boot appraisal; the finding travels through to its result.
        TrustedLaunch.Attestation.AttestationResult appraisal = new AttestationVerifier(TimeProvider.System).Verify(evidence, new AttestationExpectations
        {
            VmId = vmId,
            Nonce = nonce,
            AkCaCertificates = [ProvisionedSwtpm.Ca.RootCertificate, ProvisionedSwtpm.Ca.AttestationKeyCa.Certificate],
        });
        Assert.True(appraisal.Passed, appraisal.Failure?.ToString());
        Assert.Contains(appraisal.Findings, f => f.Module == "ttyprintk");

        await vm.ShutdownAsync(TimeSpan.FromSeconds(60));
    }
}
