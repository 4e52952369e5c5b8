using System.Text.Json;
using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Qemu;

namespace TrustedLaunch.Cli.Tests.SecureBoot;

/// <summary><c>tl secureboot verify</c> and <c>tl module verify</c>: output shapes and exit codes.</summary>
[IntegrationTest]
public sealed class SecureBootCliTests : IDisposable
{
    private const string MicrosoftStore = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd";
    private readonly string _dir = RepositoryPaths.NewTempDirectory("tl-sb-cli");

    [Fact]
    public void Verify_ShimJson_AllowedNamesMicrosoftUefiCa()
    {
        var result = Tl("secureboot", "verify", DebianBootChain.Shim, "--vars", MicrosoftStore, "--json");
        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.StandardOutput);
        Assert.Equal("ALLOWED", json.RootElement.GetProperty("verdict").GetString());
        var detail = json.RootElement.GetProperty("detail");
        Assert.Equal("signedByDbCertificate", detail.GetProperty("reason").GetString());
        Assert.Contains("Microsoft Corporation UEFI CA 2011", detail.GetProperty("matchedEntry").GetProperty("subject").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_GrubAgainstMicrosoftStore_Exit1Denied()
    {
        var result = Tl("secureboot", "verify", DebianBootChain.Grub, "--vars", MicrosoftStore);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("DENIED", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ShimAgainstCombinedStore_SaysWhichCaAdmitsEachSignature()
    {
        string vars = Path.Combine(_dir, "microsoft.fd");
        Assert.Equal(0, Tl("uefi", "vars", "create", "--template", "microsoft", "--out", vars).ExitCode);

        var result = Tl("secureboot", "verify", DebianBootChain.Shim, "--vars", vars);

        Assert.Equal(0, result.ExitCode);
        string[] admitted = result.StandardOutput.Split('\n').Where(l => l.TrimStart().StartsWith("admitted by:", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, admitted.Length);
        Assert.Contains("db: CN=Microsoft Corporation UEFI CA 2011", admitted[0], StringComparison.Ordinal);
        Assert.Contains("db: CN=Microsoft UEFI CA 2023", admitted[1], StringComparison.Ordinal);

        string only2011 = Path.Combine(_dir, "microsoft-2011.fd");
        Assert.Equal(0, Tl("uefi", "vars", "create", "--template", "microsoft-2011", "--out", only2011).ExitCode);
        string[] lines = Tl("secureboot", "verify", DebianBootChain.Shim, "--vars", only2011).StandardOutput.Split('\n');
        Assert.Equal(["db: CN=Microsoft Corporation UEFI CA 2011", "none"],
            lines.Where(l => l.TrimStart().StartsWith("admitted by:", StringComparison.Ordinal)).Select(l => l.Split("admitted by: ")[1].Split(',')[0].Trim()));
    }

    [Fact]
    public void Verify_MalformedImageOrStore_Exit2()
    {
        string junk = Path.Combine(_dir, "junk.efi");
        File.WriteAllBytes(junk, [0x4D, 0x5A, 1, 2, 3]);
        Assert.Equal(2, Tl("secureboot", "verify", junk, "--vars", MicrosoftStore).ExitCode);
        Assert.Equal(2, Tl("secureboot", "verify", DebianBootChain.Shim, "--vars", junk).ExitCode);
        Assert.Equal(2, Tl("secureboot", "verify", Path.Combine(_dir, "missing.efi"), "--vars", MicrosoftStore).ExitCode);
    }

    // The image is mapped, not read: what has no bytes to map (a FIFO, which reading would block on until a writer
    // came) is a malformed image at once, and a mapped image gives the verdict the bytes give.
    [Fact]
    public void Verify_FifoOrEmptyFile_Exit2WithoutReading_MappedImageSameVerdictAsCopy()
    {
        string fifo = Path.Combine(_dir, "image.fifo");
        Assert.Equal(0, ExternalTool.Run("mkfifo", [fifo]).ExitCode);
        var fromFifo = Tl("secureboot", "verify", fifo, "--vars", MicrosoftStore);
        Assert.True(fromFifo.ExitCode == 2, fromFifo.ToString());
        string empty = Path.Combine(_dir, "empty.efi");
        File.WriteAllBytes(empty, []);
        Assert.Equal(fromFifo.StandardOutput.Replace(fifo, empty, StringComparison.Ordinal), Tl("secureboot", "verify", empty, "--vars", MicrosoftStore).StandardOutput);

        var databases = TrustedLaunch.SecureBoot.ImageSecurityDatabases.FromVariableStore(TrustedLaunch.Uefi.VariableStore.OvmfVariableStore.LoadFile(MicrosoftStore));
        using var mapped = Commands.SecureBoot.MappedImageFile.Open(DebianBootChain.Shim, long.MaxValue);
        var fromMap = TrustedLaunch.SecureBoot.FirmwareImageVerifier.Verify(mapped.Memory, databases);
        var fromCopy = TrustedLaunch.SecureBoot.FirmwareImageVerifier.Verify(File.ReadAllBytes(DebianBootChain.Shim), databases);
        Assert.True(fromMap.Allowed);
        Assert.Equal(JsonSerializer.Serialize(fromCopy, CliJson.Options), JsonSerializer.Serialize(fromMap, CliJson.Options));
    }

    [Fact]
    public void ModuleVerify_DebianModuleWithKernelCertPlainAndXz_Exit0AndStrippedExit1()
    {
        string certs = Path.Combine(_dir, "certs");
        Assert.Equal(0, Tl("module", "kernel-certs", DebianBootChain.Kernel, "--out", certs).ExitCode);
        string cert = Path.Combine(certs, "kernel-cert-0.der");
        string module = Path.Combine(DebianBootChain.Modules, "kernel", "drivers", "char", "ttyprintk.ko");
        Assert.Equal(0, Tl("module", "verify", module, "--cert", cert).ExitCode);

        string xz = Path.Combine(_dir, "ttyprintk.ko.xz");
        var compress = ExternalTool.Run("bash", ["-c", $"xz -c '{module}' > '{xz}'"]);
        Assert.Equal(0, compress.ExitCode);
        Assert.Equal(0, Tl("module", "verify", xz, "--cert", cert).ExitCode);

        byte[] bytes = File.ReadAllBytes(module);
        int sigLen = (bytes[^32] << 24) | (bytes[^31] << 16) | (bytes[^30] << 8) | bytes[^29];
        string stripped = Path.Combine(_dir, "stripped.ko");
        File.WriteAllBytes(stripped, bytes[..^(28 + 12 + sigLen)]);
        var result = Tl("module", "verify", stripped, "--cert", cert);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("NOTSIGNED", result.StandardOutput, StringComparison.Ordinal);
    }

    private static ToolResult Tl(params string[] args) => TlRun.InProcess(args);

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
