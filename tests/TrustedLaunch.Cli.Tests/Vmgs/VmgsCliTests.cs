using System.Text.Json;
using TrustedLaunch.Testing;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.Cli.Tests.Vmgs;

/// <summary>A platform CA and one Microsoft-template VMGS, made once through the real CLI (libtpms manufactures the vTPM).</summary>
public sealed class VmgsCliFixture : IDisposable
{
    public VmgsCliFixture()
    {
        Directory = RepositoryPaths.NewTempDirectory("tl-vmgs-cli");
        Tl("ca", "init", P("ca")).ExpectExit(0);
        Tl("vmgs", "keygen", "--out", P("host.kek")).ExpectExit(0);
        Created = Tl("vmgs", "create", "--out", P("vm.vmgs"), "--template", "microsoft", "--ca", P("ca"), "--vm-id", VmId, "--key-file", P("host.kek"), "--json");
    }

    public const string VmId = "3c9a5e1f-7b2d-4e6a-9f0c-1d2e3f4a5b6c";

    public string Directory { get; }

    public ToolResult Created { get; }

    public string P(string name) => Path.Combine(Directory, name);

    public static ToolResult Tl(params string[] args) => TlRun.InProcess(args);

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

internal static class ToolResultAssertions
{
    public static ToolResult ExpectExit(this ToolResult result, int code)
    {
        Assert.True(result.ExitCode == code, $"expected exit {code}\n{result}");
        return result;
    }
}

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[IntegrationTest]
public sealed class VmgsCliTests(VmgsCliFixture fixture) : IClassFixture<VmgsCliFixture>
{
    private static ToolResult Tl(params string[] args) => VmgsCliFixture.Tl(args);

    [Fact]
    public void Create_Microsoft_HoldsEnforcingStoreManufacturedVtpmAndIdentity()
    {
        fixture.Created.ExpectExit(0);
        using var json = JsonDocument.Parse(fixture.Created.StandardOutput);
        JsonElement root = json.RootElement;
        Assert.Equal(["uefi-nvram", "vtpm", "identity"], root.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        Assert.True(root.GetProperty("encryption").GetProperty("unlocked").GetBoolean());
        JsonElement uefi = root.GetProperty("uefiVariables");
        Assert.True(uefi.GetProperty("secureBootEnforced").GetBoolean());
        Assert.True(uefi.GetProperty("db").GetInt32() >= 2, "Windows PCA 2011 + UEFI CA 2011");
        JsonElement tpm = root.GetProperty("vTpm");
        Assert.Equal(VmgsCliFixture.VmId, tpm.GetProperty("vmId").GetString());
        Assert.Contains(tpm.GetProperty("keys").EnumerateArray(), k => k.GetProperty("certificateSubject").GetString()?.Contains(VmgsCliFixture.VmId, StringComparison.Ordinal) == true);
        Assert.Equal(VmgsCliFixture.VmId, root.GetProperty("identity").GetProperty("vmId").GetString());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(fixture.P("vm.vmgs")));
        Tl("vmgs", "create", "--out", fixture.P("vm.vmgs"), "--template", "empty", "--ca", fixture.P("ca"), "--key-file", fixture.P("host.kek")).ExpectExit(2);
    }

    // Issue 11 class 9: a VM id goes into certificate subjects, so only a GUID is taken; text that would add RDNs is refused.
    [Theory]
    [InlineData("vm-cli-2")]
    [InlineData("3c9a5e1f-7b2d-4e6a-9f0c-1d2e3f4a5b6c, CN=6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b")]
    public void Create_VmIdNotAGuid_Exits2AndWritesNothing(string vmId)
    {
        string output = fixture.P($"bad-{Guid.NewGuid():N}.vmgs");
        ToolResult r = Tl("vmgs", "create", "--out", output, "--template", "microsoft", "--ca", fixture.P("ca"), "--vm-id", vmId, "--key-file", fixture.P("host.kek"));
        r.ExpectExit(2);
        Assert.Contains("is not a UUID", r.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Show_WithoutKey_ListsEntriesButNoContent()
    {
        ToolResult shown = Tl("vmgs", "show", fixture.P("vm.vmgs")).ExpectExit(0);
        Assert.Contains("uefi-nvram", shown.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("no key given", shown.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("UEFI variables", shown.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void ExportThenImport_RoundTripsAndBumpsSequence()
    {
        string copy = fixture.P("roundtrip.vmgs");
        File.Copy(fixture.P("vm.vmgs"), copy);
        Tl("vmgs", "export", copy, "--entry", "uefi-nvram", "--out", fixture.P("vars.fd"), "--key-file", fixture.P("host.kek")).ExpectExit(0);
        Assert.Equal(0x84000, new FileInfo(fixture.P("vars.fd")).Length);
        Assert.Equal(0, TlRun.InProcess("uefi", "vars", "show", fixture.P("vars.fd")).ExitCode);
        using (var kek = VmgsKeyEncryptionKey.Load(fixture.P("host.kek")))
        using (var before = VmgsFile.Open(copy, kek, writable: false))
        {
            ulong sequence = before.Header.Sequence;
            Tl("vmgs", "import", copy, "--entry", "uefi-nvram", "--in", fixture.P("vars.fd"), "--key-file", fixture.P("host.kek")).ExpectExit(0);
            using var after = VmgsFile.Open(copy, kek, writable: false);
            Assert.Equal(sequence + 1, after.Header.Sequence);
            Assert.Equal(File.ReadAllBytes(fixture.P("vars.fd")), after.ReadEntry(VmgsEntryId.UefiNvram));
        }

        File.WriteAllBytes(fixture.P("junk.fd"), new byte[1000]);
        Tl("vmgs", "import", copy, "--entry", "uefi-nvram", "--in", fixture.P("junk.fd"), "--key-file", fixture.P("host.kek")).ExpectExit(2);
        Tl("vmgs", "export", copy, "--entry", "nonsense", "--out", fixture.P("x"), "--key-file", fixture.P("host.kek")).ExpectExit(2);
    }

    [Fact]
    public void WrongKey_Exits1NamingTheKey()
    {
        Tl("vmgs", "keygen", "--out", fixture.P("other.kek")).ExpectExit(0);
        ToolResult shown = Tl("vmgs", "show", fixture.P("vm.vmgs"), "--key-file", fixture.P("other.kek")).ExpectExit(1);
        Assert.Contains("Wrong key", shown.StandardError, StringComparison.Ordinal);
        Assert.Contains("other.kek", shown.StandardError, StringComparison.Ordinal);
        Tl("vmgs", "keygen", "--out", fixture.P("other.kek")).ExpectExit(2); // never overwrites a key
    }

    [Fact]
    public void CorruptVersusMalformed_Exit1Versus2()
    {
        string corrupt = fixture.P("corrupt.vmgs");
        byte[] bytes = File.ReadAllBytes(fixture.P("vm.vmgs"));
        bytes[100] ^= 1;
        bytes[4096 + 100] ^= 1; // both header copies damaged
        File.WriteAllBytes(corrupt, bytes);
        Assert.Contains("integrity", Tl("vmgs", "show", corrupt).ExpectExit(1).StandardError, StringComparison.Ordinal);

        File.WriteAllBytes(fixture.P("random.vmgs"), TestPayload(20_000));
        Assert.Contains("malformed", Tl("vmgs", "show", fixture.P("random.vmgs")).ExpectExit(2).StandardError, StringComparison.Ordinal);
        Tl("vmgs", "show", fixture.P("missing.vmgs")).ExpectExit(2);
    }

    [Fact]
    public void Import_WhileAnotherProcessWrites_Exits3()
    {
        string busy = fixture.P("busy.vmgs");
        File.Copy(fixture.P("vm.vmgs"), busy);
        File.WriteAllText(fixture.P("id.json"), "{}");
        using var kek = VmgsKeyEncryptionKey.Load(fixture.P("host.kek"));
        using (VmgsFile.Open(busy, kek, writable: true))
            Tl("vmgs", "import", busy, "--entry", "identity", "--in", fixture.P("id.json"), "--key-file", fixture.P("host.kek")).ExpectExit(3);
        Tl("vmgs", "import", busy, "--entry", "identity", "--in", fixture.P("id.json"), "--key-file", fixture.P("host.kek")).ExpectExit(0);
    }

    private static byte[] TestPayload(int length)
    {
        var bytes = new byte[length];
        new Random(3).NextBytes(bytes);
        return bytes;
    }
}
