using System.Globalization;
using System.Text;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Images.Agent;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.GuestAgent.Tests;

/// <summary>
/// The NativeAOT binary that goes into the guest: published from this source (cached by source hash, as
/// `tl image build` does), linked only against glibc's libc/libm/loader, and able to attest inside a chroot that holds
/// nothing else (no .NET runtime, no OpenSSL, no ICU, no /proc).
/// </summary>
public sealed class PublishedAgentTests
{
    private static readonly string[] LibcOnly = ["ld-linux-x86-64.so.2", "libc.so.6", "libm.so.6"];

    private static string CacheRoot => RepositoryPaths.TestImageCache;

    [IntegrationTest]
    [Fact]
    public void Publish_SameSource_IsCachedAndNeedsOnlyLibc()
    {
        string agent = GuestAgentPublisher.Publish(RepositoryPaths.RepositoryRoot, Path.Combine(CacheRoot, "guest-agent"));
        Assert.Equal(agent, GuestAgentPublisher.Publish(RepositoryPaths.RepositoryRoot, Path.Combine(CacheRoot, "guest-agent")));
        Assert.Contains(GuestAgentPublisher.SourceHash(RepositoryPaths.RepositoryRoot), agent, StringComparison.Ordinal);
        IReadOnlyList<SharedLibrary> libraries = SharedLibraries.Of(agent);
        Assert.Equal(LibcOnly, libraries.Select(l => Path.GetFileName(l.GuestPath)).Order(StringComparer.Ordinal));
        Assert.InRange(new FileInfo(agent).Length, 1_000_000, 12_000_000);
    }

    [Fact]
    public void SourceHash_CoversTheAgentsWholeProjectClosure()
    {
        IReadOnlyList<string> closure = GuestAgentPublisher.ProjectClosure(Path.Combine(RepositoryPaths.RepositoryRoot, GuestAgentPublisher.ProjectPath));
        string[] names = closure.Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToArray()!;
        Assert.Equal(["TrustedLaunch.Attestation.Evidence", "TrustedLaunch.GuestAgent", "TrustedLaunch.GuestChannel",
            "TrustedLaunch.Tpm.Protocol", "TrustedLaunch.Tpm.Transport"], names);
    }

    [IntegrationTest]
    [Fact]
    public void Collect_InAChrootWithOnlyLibc_EvidenceVerifies()
    {
        string agent = GuestAgentPublisher.Publish(RepositoryPaths.RepositoryRoot, Path.Combine(CacheRoot, "guest-agent"));
        using var tpm = ProvisionedSwtpm.Start(GuestRoot.VmId, TpmAlgId.Sha256, TpmAlgId.Sha1);
        string jail = RepositoryPaths.NewTempDirectory("tl-agent-chroot");
        File.Copy(agent, Path.Combine(jail, "tl-guest-agent"));
        foreach (SharedLibrary library in SharedLibraries.Of(agent))
        {
            string target = Path.Combine(jail, library.GuestPath.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(library.HostPath, target);
        }

        CopyDirectory(GuestRoot.Create(), Path.Combine(jail, "guest"));
        // A hard link to the swtpm socket: connect(2) resolves the path to the same socket inode inside the chroot.
        Assert.Equal(0, ExternalTool.Run("ln", [tpm.Swtpm.DataSocketPath!, Path.Combine(jail, "tpm.sock")]).ExitCode);
        byte[] nonce = System.Security.Cryptography.RandomNumberGenerator.GetBytes(20);
        ToolResult run = ExternalTool.Run(ExternalTool.Require("time"),
            ["-f", "tl-measure %M %e", ExternalTool.Require("chroot"), jail, "/tl-guest-agent", "--tpm", "swtpm:path=/tpm.sock", "--root", "/guest",
             "--kmsg", "none", "--collect", Convert.ToHexString(nonce)]);
        Assert.True(run.ExitCode == 0, run.ToString());
        AttestationEvidence evidence = EvidenceJson.Parse(Encoding.UTF8.GetBytes(run.StandardOutput));
        var values = evidence.Tpm.Pcrs.SelectMany(b =>
        {
            Assert.True(EvidenceJson.TryParseBank(b.Bank, out TpmAlgId alg));
            return b.Values.Select(v => (Key: (alg, v.Key), Value: Convert.FromHexString(v.Value)));
        }).ToDictionary(p => p.Key, p => p.Value);
        QuoteVerification verified = QuoteVerifier.Verify(TpmtPublic.Parse(evidence.Tpm.AkPublic.AsSpan(2)), evidence.Tpm.Quote, evidence.Tpm.Signature, nonce, true, values);
        Assert.True(verified.IsValid, verified.Detail);
        Assert.Equal(2, evidence.Tpm.Pcrs.Count);
        // GNU time's last line: peak RSS (KiB) and wall seconds of the whole collection (start, TPM, files, JSON).
        string[] measure = run.StandardError.Split('\n').Last(l => l.StartsWith("tl-measure ", StringComparison.Ordinal)).Split(' ');
        Assert.InRange(long.Parse(measure[1], CultureInfo.InvariantCulture), 1_000, 64_000);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (string dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }
}
