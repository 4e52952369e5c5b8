using TrustedLaunch.Interop.Swtpm;

namespace TrustedLaunch.Interop.Tests;

public sealed class SwtpmSetupArgumentsTests
{
    /// <summary>libvirt 9.0.0's first-start swtpm_setup argv (captured here), plus the shim's platform CA option.</summary>
    private static readonly string[] Libvirt9Argv =
    [
        "--tl-platform-ca", "/pki",
        "--tpm2", "--tpm-state", "/home/u/.config/libvirt/qemu/swtpm/f0bca952-eb8b-45b9-8217-b5d13855005b/tpm2",
        "--vmid", "tlprobe:f0bca952-eb8b-45b9-8217-b5d13855005b", "--logfile", "/home/u/.cache/libvirt/qemu/log/tlprobe-swtpm.log",
        "--createek", "--create-ek-cert", "--create-platform-cert", "--lock-nvram", "--not-overwrite",
    ];

    [Fact]
    public void Parse_Libvirt9Argv_ReadsEverything()
    {
        SwtpmSetupArguments a = SwtpmSetupArguments.Parse(Libvirt9Argv);
        Assert.True(a.Tpm2);
        Assert.Equal("/home/u/.config/libvirt/qemu/swtpm/f0bca952-eb8b-45b9-8217-b5d13855005b/tpm2", a.StateDirectory);
        Assert.Equal(Guid.Parse("f0bca952-eb8b-45b9-8217-b5d13855005b"), a.VmUuid);
        Assert.True(a.NotOverwrite);
        Assert.False(a.Overwrite);
        Assert.True(a.LockNvram);
        Assert.True(a.CreatePlatformCertificate);
        Assert.True(a.CreateEkCertificate);
        Assert.Equal("/pki", a.PlatformCa);
        Assert.Null(a.Key);
        Assert.Null(a.PcrBanks);
    }

    [Fact]
    public void Parse_EncryptedWithBanks_ReadsPassphraseFdCipherAndBanks()
    {
        SwtpmSetupArguments a = SwtpmSetupArguments.Parse([.. Libvirt9Argv, "--pwdfile-fd", "21", "--cipher", "aes-256-cbc", "--pcr-banks", "sha256,sha384"]);
        Assert.Equal(new SwtpmKeySource(SwtpmKeyKind.PassphraseFd, null, 21, "aes-256-cbc"), a.Key);
        Assert.Equal(["sha256", "sha384"], a.PcrBanks);
    }

    [Theory]
    [InlineData("--print-capabilities")]
    [InlineData("--create-config-files", "skip-if-exist")]
    public void Parse_QueriesLibvirtMakesFirst_NeedNoState(params string[] args)
    {
        SwtpmSetupArguments a = SwtpmSetupArguments.Parse(args);
        Assert.True(a.PrintCapabilities || a.CreateConfigFiles);
    }

    /// <summary>
    /// libvirt 9.0's qemuTPMEmulatorReconfigure argv for a domain with <c>&lt;active_pcr_banks&gt;</c> whose TPM exists (sent only when
    /// swtpm_setup advertises <c>cmdarg-reconfigure-pcr-banks</c>), with an encrypted TPM's passphrase fd; no platform CA needed.
    /// </summary>
    [Fact]
    public void Parse_LibvirtReconfigureArgv_ReadsBanksAndKey_NeedsNoPlatformCa()
    {
        SwtpmSetupArguments a = SwtpmSetupArguments.Parse(["--tpm2", "--tpm-state", "/var/lib/libvirt/swtpm/f0bca952-eb8b-45b9-8217-b5d13855005b/tpm2",
            "--logfile", "/var/log/swtpm/libvirt/qemu/tlprobe-swtpm.log", "--pcr-banks", "sha256,sha384", "--reconfigure", "--pwdfile-fd", "21", "--cipher", "aes-256-cbc"]);
        Assert.True(a.Reconfigure);
        Assert.Equal(["sha256", "sha384"], a.PcrBanks);
        Assert.Equal(new SwtpmKeySource(SwtpmKeyKind.PassphraseFd, null, 21, "aes-256-cbc"), a.Key);
        Assert.Null(a.PlatformCa);
        Assert.False(SwtpmSetupArguments.Parse(Libvirt9Argv).Reconfigure);
    }

    [Fact]
    public void VmUuid_WholeGuidOrNameColonUuidOrNeither()
    {
        Guid id = Guid.Parse("0d6f1b5c-7f57-4f8e-9d2c-4f8f3f3e1a11");
        Assert.Equal(id, (SwtpmSetupArguments.Parse([.. Libvirt9Argv, "--vmid", id.ToString()])).VmUuid);
        Assert.Equal(id, (SwtpmSetupArguments.Parse([.. Libvirt9Argv, "--vmid", $"a:b:{id}"])).VmUuid);
        Assert.Null(SwtpmSetupArguments.Parse([.. Libvirt9Argv, "--vmid", "just-a-name"]).VmUuid);
    }

    [Theory]
    [InlineData(new[] { "--tpm-state", "/d", "--tl-platform-ca", "/p" }, "--tpm2 is required")]
    [InlineData(new[] { "--tpm2", "--tl-platform-ca", "/p" }, "--tpm-state DIR is required")]
    [InlineData(new[] { "--tpm2", "--tpm-state", "/d" }, "--tl-platform-ca DIR is required")]
    [InlineData(new[] { "--tpm2", "--tpm-state", "/d", "--tl-platform-ca", "/p", "--overwrite", "--not-overwrite" }, "exclude each other")]
    [InlineData(new[] { "--tpm2", "--tpm-state", "/d", "--tl-platform-ca", "/p", "--reconfigure" }, "--reconfigure needs --pcr-banks")]
    [InlineData(new[] { "--tpm2", "--tpm-state", "/d", "--reconfigure", "--pcr-banks", "sha256", "--overwrite" }, "--reconfigure and --overwrite exclude each other")]
    [InlineData(new[] { "--tpm2", "--tpm-state", "/d", "--tl-platform-ca", "/p", "--rsa-keysize", "3072" }, "2048 bits")]
    [InlineData(new[] { "--tpm2", "--tpm-state", "/d", "--tl-platform-ca", "/p", "--pwdfile", "/a", "--keyfile", "/b" }, "give one of")]
    [InlineData(new[] { "--tpm2", "--tpm-state", "/d", "--tl-platform-ca", "/p", "--pwdfile-fd", "x" }, "not a file descriptor")]
    [InlineData(new[] { "--tpm2", "--tpm-state", "file:///d", "--tl-platform-ca", "/p" }, "keeps its sealed state in a folder")]
    [InlineData(new[] { "--tpm2", "--tpm-state", "/d", "--tl-platform-ca", "/p", "--allow-signing" }, "--allow-signing is not supported")]
    [InlineData(new[] { "--frobnicate" }, "unknown option '--frobnicate'")]
    public void Parse_BadCommandLine_SaysWhat(string[] args, string message) =>
        Assert.Contains(message, Assert.Throws<SwtpmArgumentException>(() => SwtpmSetupArguments.Parse(args)).Message, StringComparison.Ordinal);
}
