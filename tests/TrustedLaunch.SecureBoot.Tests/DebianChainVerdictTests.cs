using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Qemu;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.SecureBoot.Tests;

/// <summary>
/// Verdicts on Debian 12's signed shim, MokManager, fallback, grub and kernel against the variable stores of Debian's
/// ovmf package, compared with sbverify given each db certificate of the store.
/// </summary>
[IntegrationTest]
public sealed class DebianChainVerdictTests : IDisposable
{
    private readonly string _dir = RepositoryPaths.NewTempDirectory("tl-sb-debian");

    public static TheoryData<string, string, bool> Cases => new()
    {
        // binary, store, expected firmware verdict (shim alone carries a Microsoft signature; the rest are signed by Debian's CA)
        { "shim", "ms", true }, { "mm", "ms", false }, { "fb", "ms", false }, { "grub", "ms", false }, { "kernel", "ms", false },
        { "shim", "snakeoil", false }, { "mm", "snakeoil", false }, { "fb", "snakeoil", false }, { "grub", "snakeoil", false }, { "kernel", "snakeoil", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Verify_DebianBinaryAgainstOvmfStore_MatchesExpectedAndSbverify(string binary, string store, bool expected)
    {
        var varstore = OvmfVariableStore.LoadFile($"/usr/share/OVMF/OVMF_VARS_4M.{store}.fd");
        var verdict = FirmwareImageVerifier.Verify(File.ReadAllBytes(PathOf(binary)), ImageSecurityDatabases.FromVariableStore(varstore));

        Assert.True(expected == verdict.Allowed, verdict.Message);
        bool sbverify = varstore.SecureBoot.Db!.Certificates.Select((c, i) => Sbverify(c, i, PathOf(binary))).ToList().Any(ok => ok);
        if (binary == "shim" && store == "snakeoil")
        {
            // sbverify accepts a chain whose embedded intermediate's issuer is missing with any --cert; the firmware does not
            // (the QEMU test shows OVMF refusing this shim under a custom db). Pin both behaviours.
            Assert.True(sbverify);
            Assert.Equal(VerdictReason.SignerNotInDb, verdict.Reason);
        }
        else
        {
            Assert.Equal(sbverify, verdict.Allowed);
        }

        if (verdict.Allowed)
        {
            Assert.Equal(VerdictReason.SignedByDbCertificate, verdict.Reason);
            Assert.Contains("Microsoft Corporation UEFI CA 2011", verdict.MatchedEntry!.Subject, StringComparison.Ordinal);
            Assert.Equal("db", verdict.MatchedEntry.Database);
        }
        else
        {
            Assert.Equal(VerdictReason.SignerNotInDb, verdict.Reason);
        }
    }

    [Theory]
    [InlineData("shim")]
    [InlineData("kernel")]
    public void Verify_EmptyStore_AllowedBecauseNotEnforcedAndDeniedIfEnforced(string binary)
    {
        var varstore = OvmfVariableStore.LoadFile("/usr/share/OVMF/OVMF_VARS_4M.fd");
        var verdict = FirmwareImageVerifier.Verify(File.ReadAllBytes(PathOf(binary)), ImageSecurityDatabases.FromVariableStore(varstore));

        Assert.True(verdict.Allowed);
        Assert.Equal(VerdictReason.SecureBootNotEnforced, verdict.Reason);
        Assert.False(verdict.IfEnforced!.Allowed);
    }

    [Fact]
    public void Verify_ShimSbat_ReportsShimGeneration()
    {
        var verdict = FirmwareImageVerifier.Verify(File.ReadAllBytes(DebianBootChain.Shim),
            ImageSecurityDatabases.FromVariableStore(OvmfVariableStore.LoadFile("/usr/share/OVMF/OVMF_VARS_4M.ms.fd")));

        Assert.NotNull(verdict.Sbat);
        Assert.Equal("sbat", verdict.Sbat.Entries[0].Component);
        Assert.Contains(verdict.Sbat.Entries, e => e.Component == "shim" && e.Generation == 4);
        Assert.Equal(2, verdict.Signatures.Count);
    }

    private bool Sbverify(ReadOnlyMemory<byte> certificate, int index, string binary)
    {
        string pem = Path.Combine(_dir, $"db-{index}.pem");
        File.WriteAllText(pem, System.Security.Cryptography.PemEncoding.WriteString("CERTIFICATE", certificate.Span));
        return ExternalTool.Run("sbverify", ["--cert", pem, binary]).ExitCode == 0;
    }

    private static string PathOf(string name) => name switch
    {
        "shim" => DebianBootChain.Shim,
        "mm" => DebianBootChain.MokManager,
        "fb" => DebianBootChain.Fallback,
        "grub" => DebianBootChain.Grub,
        _ => DebianBootChain.Kernel,
    };

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Scratch files left behind do not fail a test.
        }
    }
}
