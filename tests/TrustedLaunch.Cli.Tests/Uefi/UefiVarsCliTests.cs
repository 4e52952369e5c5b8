using System.Text.Json;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Uefi;

/// <summary><c>tl uefi vars show/create/sign-update/apply-update</c> end to end, with efitools as the independent signer.</summary>
[IntegrationTest]
public sealed class UefiVarsCliTests : IDisposable
{
    private readonly string _dir = RepositoryPaths.NewTempDirectory("tl-uefivars-cli");

    private string P(string name) => Path.Combine(_dir, name);

    private static ToolResult Tl(params string[] args) => TlRun.InProcess(args);

    private void MakeKey(string name)
    {
        var r = ExternalTool.Run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", P(name + ".key"), "-out", P(name + ".crt"), "-subj", "/CN=" + name, "-days", "30"]);
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    [Fact]
    public void Create_Microsoft_ShowJsonReportsEnforcingAndMicrosoftCas()
    {
        var created = Tl("uefi", "vars", "create", "--template", "microsoft", "--out", P("ms.fd"), "--pk-key-out", P("pk.key"));
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal(0x84000, new FileInfo(P("ms.fd")).Length);
        Assert.True(File.Exists(P("pk.crt")));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(P("pk.key")));

        var shown = Tl("uefi", "vars", "show", P("ms.fd"), "--json");
        Assert.True(shown.ExitCode == 0, shown.ToString());
        using var json = JsonDocument.Parse(shown.StandardOutput);
        var sb = json.RootElement.GetProperty("secureBoot");
        Assert.True(sb.GetProperty("enforced").GetBoolean());
        var subjects = sb.GetProperty("databases").EnumerateArray()
            .SelectMany(d => d.GetProperty("entries").EnumerateArray().Select(e => d.GetProperty("name").GetString() + ":" + (e.TryGetProperty("subject", out var s) ? s.GetString() : e.GetProperty("hash").GetString())))
            .ToList();
        Assert.Contains(subjects, s => s.StartsWith("KEK:CN=Microsoft Corporation KEK CA 2011", StringComparison.Ordinal));
        Assert.Contains(subjects, s => s.StartsWith("db:CN=Microsoft Windows Production PCA 2011", StringComparison.Ordinal));
        Assert.Contains(subjects, s => s.StartsWith("db:CN=Microsoft Corporation UEFI CA 2011", StringComparison.Ordinal));
        Assert.Contains("dbx:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", subjects);

        // Never overwrite without --force; the file stays as it was.
        byte[] before = File.ReadAllBytes(P("ms.fd"));
        Assert.Equal(2, Tl("uefi", "vars", "create", "--template", "empty", "--out", P("ms.fd")).ExitCode);
        Assert.Equal(before, File.ReadAllBytes(P("ms.fd")));
        Assert.Equal(0, Tl("uefi", "vars", "create", "--template", "empty", "--out", P("ms.fd"), "--force").ExitCode);
        Assert.Equal(File.ReadAllBytes("/usr/share/OVMF/OVMF_VARS_4M.fd"), File.ReadAllBytes(P("ms.fd")));
    }

    [Fact]
    public void Show_DebianMsStore_TextSummaryAndBadInputsExit2()
    {
        var shown = Tl("uefi", "vars", "show", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd");
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Contains("ENFORCING", shown.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Debian UEFI Secure Boot (PK/KEK key)", shown.StandardOutput, StringComparison.Ordinal);

        File.WriteAllBytes(P("junk.fd"), new byte[0x84000]);
        var junk = Tl("uefi", "vars", "show", P("junk.fd"));
        Assert.Equal(2, junk.ExitCode);
        Assert.Contains("not a valid OVMF variable store", junk.StandardError, StringComparison.Ordinal);
        Assert.Equal(2, Tl("uefi", "vars", "show", P("missing.fd")).ExitCode);
        Assert.Equal(2, Tl("uefi", "vars", "create", "--template", "bogus", "--out", P("x.fd")).ExitCode);
        Assert.Equal(2, Tl("uefi", "vars", "create", "--template", "custom", "--db", "sha256:12", "--out", P("x.fd")).ExitCode);
    }

    [Fact]
    public void SignUpdate_ThenApplyUpdate_AcceptsOursAndEfitoolsRefusesTampered()
    {
        MakeKey("pk");
        MakeKey("vendor");
        var created = Tl("uefi", "vars", "create", "--template", "custom", "--pk", P("pk.crt"), "--kek", P("pk.crt"), "--db", P("pk.crt"), "--out", P("vars.fd"));
        Assert.True(created.ExitCode == 0, created.ToString());

        var signed = Tl("uefi", "vars", "sign-update", "--var", "db", "--append", "--key", P("pk.key"), "--cert", P("pk.crt"),
            "--add", P("vendor.crt"), "--timestamp", "2024-01-01T00:00:00Z", "--out", P("db.auth"));
        Assert.True(signed.ExitCode == 0, signed.ToString());

        // Dry run decides without writing; signed for append but applied as a replacement is refused (exit 1).
        byte[] before = File.ReadAllBytes(P("vars.fd"));
        Assert.Equal(0, Tl("uefi", "vars", "apply-update", P("vars.fd"), "--var", "db", "--update", P("db.auth"), "--append", "--dry-run").ExitCode);
        Assert.Equal(1, Tl("uefi", "vars", "apply-update", P("vars.fd"), "--var", "db", "--update", P("db.auth")).ExitCode);
        Assert.Equal(before, File.ReadAllBytes(P("vars.fd")));

        var applied = Tl("uefi", "vars", "apply-update", P("vars.fd"), "--var", "db", "--update", P("db.auth"), "--append", "--json");
        Assert.True(applied.ExitCode == 0, applied.ToString());
        using (var json = JsonDocument.Parse(Tl("uefi", "vars", "show", P("vars.fd"), "--json").StandardOutput))
        {
            var db = json.RootElement.GetProperty("secureBoot").GetProperty("databases").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "db");
            Assert.Equal(["CN=pk", "CN=vendor"], db.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("subject").GetString()));
        }

        // efitools' sign-efi-sig-list as the independent signer of a dbx append; a flipped byte is refused.
        Assert.Equal(0, Tl("uefi", "vars", "sign-update", "--var", "dbx", "--key", P("pk.key"), "--cert", P("pk.crt"), "--add", "sha256:" + new string('c', 64),
            "--out", P("unused.auth"), "--json").ExitCode);
        ExternalTool.Run("cert-to-efi-sig-list", [P("vendor.crt"), P("vendor.esl")]);
        var efitools = ExternalTool.Run("sign-efi-sig-list", ["-a", "-t", "2024-02-02 00:00:00", "-k", P("pk.key"), "-c", P("pk.crt"), "dbx", P("vendor.esl"), P("dbx.auth")]);
        Assert.True(efitools.ExitCode == 0, efitools.ToString());
        byte[] tampered = File.ReadAllBytes(P("dbx.auth"));
        tampered[^3] ^= 1;
        File.WriteAllBytes(P("dbx-bad.auth"), tampered);
        Assert.Equal(1, Tl("uefi", "vars", "apply-update", P("vars.fd"), "--var", "dbx", "--update", P("dbx-bad.auth"), "--append").ExitCode);
        Assert.Equal(0, Tl("uefi", "vars", "apply-update", P("vars.fd"), "--var", "dbx", "--update", P("dbx.auth"), "--append", "--out", P("new.fd")).ExitCode);
        Assert.Contains("CN=vendor", Tl("uefi", "vars", "show", P("new.fd")).StandardOutput.Split("dbx (")[1], StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Leftover scratch files do not fail a test.
        }
    }
}
