using System.Diagnostics;
using TrustedLaunch.Testing;

namespace TrustedLaunch.VTpm.Host.Tests;

/// <summary>
/// The swtpm-compatible verbs with the command lines libvirt 9.0 passes (captured here), the real <c>swtpm_ioctl</c>
/// and <c>openssl</c> as the peers that judge them.
/// </summary>
[IntegrationTest]
public sealed class SwtpmVerbsTests
{
    private static readonly string VmUuid = "f0bca952-eb8b-45b9-8217-b5d13855005b";

    private static ToolResult TlVtpm(params string[] args) => ExternalTool.Run("dotnet", [TlVtpmServer.HostDll, .. args]);

    private static string[] LibvirtSetup(string state, string log) =>
    [
        "swtpm_setup", "--tl-platform-ca", ManufacturedVTpm.Ca.Directory,
        "--tpm2", "--tpm-state", state, "--vmid", $"tlprobe:{VmUuid}", "--logfile", log,
        "--createek", "--create-ek-cert", "--create-platform-cert", "--lock-nvram", "--not-overwrite",
    ];

    private static Process StartSocket(string state, string control, params string[] extra)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in (string[])[TlVtpmServer.HostDll, "swtpm", "socket", "--ctrl", $"type=unixio,path={control},mode=0600",
            "--tpmstate", $"dir={state},mode=0600", "--log", $"file={state}/../swtpm.log", "--terminate", "--tpm2", .. extra])
            psi.ArgumentList.Add(a);
        Process process = Process.Start(psi)!;
        var clock = Stopwatch.StartNew();
        while (!File.Exists(control) && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(20))
            Thread.Sleep(20);
        return process;
    }

    [Fact]
    public void LibvirtArgv_SetupThenSocket_RealSwtpmIoctlDrivesIt()
    {
        string work = RepositoryPaths.NewTempDirectory("tl-swtpm-verbs");
        string state = Path.Combine(work, "tpm2");
        Directory.CreateDirectory(state);
        ToolResult setup = TlVtpm(LibvirtSetup(state, Path.Combine(work, "setup.log")));
        Assert.True(setup.ExitCode == 0, setup.ToString());
        string log = File.ReadAllText(Path.Combine(work, "setup.log"));
        Assert.Contains("Successfully authored TPM state", log, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(state, "tl-vtpm.key")));
        byte[] manufactured = File.ReadAllBytes(Path.Combine(state, "tl-vtpm.state"));

        // libvirt runs swtpm_setup --not-overwrite on every first start it believes it sees: the identity stays.
        Assert.Equal(0, TlVtpm(LibvirtSetup(state, Path.Combine(work, "setup2.log"))).ExitCode);
        Assert.Equal(manufactured, File.ReadAllBytes(Path.Combine(state, "tl-vtpm.state")));
        ToolResult neither = TlVtpm([.. LibvirtSetup(state, Path.Combine(work, "setup3.log")).Where(a => a != "--not-overwrite")]);
        Assert.Equal(1, neither.ExitCode);
        Assert.Contains("already exists; give --overwrite", neither.StandardError, StringComparison.Ordinal);

        string control = Path.Combine(work, "ctrl.sock");
        using Process socket = StartSocket(state, control);
        try
        {
            Assert.False(socket.HasExited, socket.HasExited ? socket.StandardError.ReadToEnd() : "");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(control));
            string swtpmIoctl = ExternalTool.Require("swtpm_ioctl");
            ToolResult init = ExternalTool.Run(swtpmIoctl, ["--unix", control, "-i"]);
            Assert.True(init.ExitCode == 0, init.ToString());
            ToolResult caps = ExternalTool.Run(swtpmIoctl, ["--unix", control, "-c"]);
            Assert.StartsWith("ptm capability is 0x", caps.StandardOutput, StringComparison.Ordinal);
            Assert.Equal(caps.StandardOutput, TlVtpm("swtpm_ioctl", "--unix", control, "-c").StandardOutput); // ours prints as theirs
            ToolResult stop = TlVtpm("swtpm_ioctl", "--unix", control, "-s"); // what libvirt's qemuTPMEmulatorStop sends
            Assert.True(stop.ExitCode == 0, stop.ToString());
            Assert.True(socket.WaitForExit(TimeSpan.FromSeconds(20)), "tl-vtpm did not end on CMD_SHUTDOWN");
            Assert.Equal(0, socket.ExitCode);
        }
        finally
        {
            if (!socket.HasExited)
                socket.Kill();
        }
    }

    [Fact]
    public void SwtpmSetup_WriteEkCertFiles_CertificatesChainToThePlatformCa()
    {
        string work = RepositoryPaths.NewTempDirectory("tl-swtpm-verbs");
        string certs = Path.Combine(work, "certs");
        ToolResult setup = TlVtpm([.. LibvirtSetup(Path.Combine(work, "tpm2"), Path.Combine(work, "setup.log")), "--write-ek-cert-files", certs]);
        Assert.True(setup.ExitCode == 0, setup.ToString());
        string root = Path.Combine(ManufacturedVTpm.Ca.Directory, "root-ca.crt");
        string ekCa = Path.Combine(ManufacturedVTpm.Ca.Directory, "vtpm-ek-ca.crt");
        foreach (string ek in new[] { "ek-rsa2048.crt", "ek-eccp256.crt" })
        {
            ToolResult verify = ExternalTool.Run("openssl", ["verify", "-CAfile", root, "-untrusted", ekCa, Path.Combine(certs, ek)]);
            Assert.True(verify.ExitCode == 0, verify.ToString());
            ToolResult subject = ExternalTool.Run("openssl", ["x509", "-noout", "-subject", "-in", Path.Combine(certs, ek)]);
            Assert.Contains(VmUuid, subject.StandardOutput, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void Passphrase_SameSecretOpens_WrongSecretRefused_NoKeyFileStored()
    {
        string work = RepositoryPaths.NewTempDirectory("tl-swtpm-verbs");
        string state = Path.Combine(work, "tpm2");
        string secret = Path.Combine(work, "secret");
        File.WriteAllText(secret, "libvirt secret value");
        ToolResult setup = TlVtpm([.. LibvirtSetup(state, Path.Combine(work, "setup.log")), "--pwdfile", secret, "--cipher", "aes-256-cbc"]);
        Assert.True(setup.ExitCode == 0, setup.ToString());
        Assert.False(File.Exists(Path.Combine(state, "tl-vtpm.key")));

        string control = Path.Combine(work, "ctrl.sock");
        using (Process socket = StartSocket(state, control, "--key", $"pwdfile={secret},mode=aes-256-cbc"))
        {
            Assert.False(socket.HasExited, socket.HasExited ? socket.StandardError.ReadToEnd() : "");
            Assert.Equal(0, ExternalTool.Run(ExternalTool.Require("swtpm_ioctl"), ["--unix", control, "-i"]).ExitCode);
            Assert.Equal(0, TlVtpm("swtpm_ioctl", "--unix", control, "-s").ExitCode);
            Assert.True(socket.WaitForExit(TimeSpan.FromSeconds(20)));
        }

        File.WriteAllText(secret, "another value");
        using Process refused = StartSocket(state, Path.Combine(work, "ctrl2.sock"), "--key", $"pwdfile={secret},mode=aes-256-cbc");
        Assert.True(refused.WaitForExit(TimeSpan.FromSeconds(20)));
        Assert.Equal(4, refused.ExitCode);
        Assert.Contains("state refused", refused.StandardError.ReadToEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void SwtpmSocket_FolderWithoutState_RefusedNeverManufactured()
    {
        string work = RepositoryPaths.NewTempDirectory("tl-swtpm-verbs");
        ToolResult result = TlVtpm("swtpm", "socket", "--ctrl", $"type=unixio,path={work}/c.sock", "--tpmstate", $"dir={work}", "--tpm2");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("holds no tl-vtpm state", result.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(work));
    }

    /// <summary>
    /// libvirt's <c>swtpm_setup --reconfigure --pcr-banks</c> on an existing TPM (a changed <c>&lt;active_pcr_banks&gt;</c>): the banks
    /// change, as tpm2_getcap sees them through the swtpm socket afterwards, and the EK certificate in NV is the one manufactured;
    /// asked again for the banks it already has, the state file is not written at all; a folder without state is refused.
    /// </summary>
    [Fact]
    public void SwtpmSetupReconfigure_ChangesThePcrBanks_KeepsTheEk_AndTheSameBanksWriteNothing()
    {
        string work = RepositoryPaths.NewTempDirectory("tl-swtpm-verbs");
        string state = Path.Combine(work, "tpm2");
        string certs = Path.Combine(work, "certs");
        ToolResult setup = TlVtpm([.. LibvirtSetup(state, Path.Combine(work, "setup.log")), "--pcr-banks", "sha256", "--write-ek-cert-files", certs]);
        Assert.True(setup.ExitCode == 0, setup.ToString());
        string[] reconfigure = ["swtpm_setup", "--tl-platform-ca", ManufacturedVTpm.Ca.Directory, "--tpm2", "--tpm-state", state,
            "--logfile", Path.Combine(work, "reconfigure.log"), "--pcr-banks", "sha256,sha384", "--reconfigure"];

        ToolResult changed = TlVtpm(reconfigure);
        byte[] reconfigured = File.ReadAllBytes(Path.Combine(state, "tl-vtpm.state"));
        ToolResult same = TlVtpm(reconfigure);
        ToolResult nothing = TlVtpm(["swtpm_setup", "--tpm2", "--tpm-state", Path.Combine(work, "empty"), "--pcr-banks", "sha256", "--reconfigure"]);

        Assert.True(changed.ExitCode == 0, changed.ToString());
        Assert.True(same.ExitCode == 0, same.ToString());
        string log = File.ReadAllText(Path.Combine(work, "reconfigure.log"));
        Assert.Contains("sha256 -> sha256,sha384", log, StringComparison.Ordinal);
        Assert.Contains("are already sha256,sha384; nothing changed", log, StringComparison.Ordinal);
        Assert.Equal(reconfigured, File.ReadAllBytes(Path.Combine(state, "tl-vtpm.state")));
        Assert.Equal(1, nothing.ExitCode);
        Assert.Contains("holds no tl-vtpm state", nothing.StandardError, StringComparison.Ordinal);

        string data = Path.Combine(work, "data.sock");
        using Process socket = StartSocket(state, data + ".ctrl", "--server", $"type=unixio,path={data}");
        try
        {
            Assert.False(socket.HasExited, socket.HasExited ? socket.StandardError.ReadToEnd() : "");
            Assert.Equal(0, ExternalTool.Run(ExternalTool.Require("swtpm_ioctl"), ["--unix", data + ".ctrl", "-i"]).ExitCode);
            var tcti = new Dictionary<string, string> { ["TPM2TOOLS_TCTI"] = $"swtpm:path={data}" };
            Assert.Equal(0, ExternalTool.Run(ExternalTool.Require("tpm2_startup"), ["-c"], environment: tcti).ExitCode);
            ToolResult pcrs = ExternalTool.Run(ExternalTool.Require("tpm2_getcap"), ["pcrs"], environment: tcti);
            Assert.True(pcrs.ExitCode == 0, pcrs.ToString());
            string Bank(string name) => Assert.Single(pcrs.StandardOutput.Split('\n', StringSplitOptions.TrimEntries), l => l.StartsWith($"- {name}:", StringComparison.Ordinal))
                .Split('[', ']')[1].Replace(" ", "", StringComparison.Ordinal);
            string all = string.Join(',', Enumerable.Range(0, 24));
            Assert.Equal(all, Bank("sha384"));
            Assert.Equal(all, Bank("sha256"));
            Assert.Equal("", Bank("sha1"));
            string ekCert = Path.Combine(work, "ek.der");
            ToolResult nv = ExternalTool.Run(ExternalTool.Require("tpm2_nvread"), ["0x01C00002", "-C", "o", "-o", ekCert], environment: tcti);
            Assert.True(nv.ExitCode == 0, nv.ToString());
            using var manufactured = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(certs, "ek-rsa2048.crt")));
            Assert.Equal(manufactured.RawData, File.ReadAllBytes(ekCert));
            Assert.Equal(0, TlVtpm("swtpm_ioctl", "--unix", data + ".ctrl", "-s").ExitCode);
            Assert.True(socket.WaitForExit(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            if (!socket.HasExited)
                socket.Kill();
        }
    }

    [Fact]
    public void PrintCapabilities_AreTheDocumentsLibvirtReads()
    {
        Assert.StartsWith("{ \"type\": \"swtpm\", \"features\": [ \"tpm-2.0\"", TlVtpm("swtpm", "socket", "--tpm2", "--print-capabilities").StandardOutput, StringComparison.Ordinal);
        Assert.StartsWith("{ \"type\": \"swtpm_setup\", \"features\": [ \"tpm-2.0\"", TlVtpm("swtpm_setup", "--print-capabilities").StandardOutput, StringComparison.Ordinal);
        ToolResult daemon = TlVtpm("swtpm", "socket", "--daemon", "--tpm2");
        Assert.Equal(1, daemon.ExitCode);
        Assert.Contains("--daemon is not supported", daemon.StandardError, StringComparison.Ordinal);
    }
}
