using System.Text.Json;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tcg.EventLog.Tests.Summary;

public class PublicLogSummaryTests
{
    public static TheoryData<string> Public => CorpusLog.PublicLogNames();

    private static BootStateSummary SummaryOf(CorpusLog corpus) => BootStateSummarizer.Summarize(corpus.Parse(), corpus.Pcrs);

    [Theory]
    [MemberData(nameof(Public))]
    public void Summarize_PublicLog_SecureBootMatchesLoggedVariable(string name)
    {
        var corpus = CorpusLog.Public(name);
        string? logged = corpus.ExpectedString("derived", "secureboot_variable_in_log");
        if (logged is null || CorpusLog.IsKnownInvalid(name))
            return;

        var summary = SummaryOf(corpus);
        if (corpus.Pcrs is not null && !corpus.Pcrs.Any(p => p.Index == 7))
        {
            // PCR7 was not published (ebs_event_missing: PCR5 only): its events did not replay and must not be believed.
            Assert.Null(summary.SecureBoot.Enabled);
            Assert.Contains(summary.ExcludedEvents, e => e.PcrIndex == 7);
            return;
        }

        bool? expected = logged switch { "01" => true, "00" => false, _ => null };
        Assert.Equal(expected, summary.SecureBoot.Enabled);
        if (expected is null)
            Assert.Contains(summary.Warnings, w => w.Contains("SecureBoot data length is 0", StringComparison.Ordinal));
        Assert.DoesNotContain(summary.ExcludedEvents, e => e.PcrIndex is 4 or 7);
    }

    [Theory]
    [MemberData(nameof(Public))]
    public void Summarize_PublicLog_EfiAppDigestsAsSourcePublishes(string name)
    {
        var corpus = CorpusLog.Public(name);
        if (corpus.Find("expected_efi_app_digests") is not { } expected || name == "go-tpm-tools-gdc-host")
            return;   // gdc-host's list is a verbatim copy of COS101's (public/README.md anomaly 6)

        var summary = SummaryOf(corpus);
        // go-eventlog GetEfiState: PCR4 applications after "Calling EFI Application from Boot Option".
        var apps = summary.BootApplications.Where(a => !a.BeforeBootOptionCall).ToList();
        foreach (var bank in expected.EnumerateObject())
        {
            var want = bank.Value.EnumerateArray().Select(e => e.GetString()!.ToUpperInvariant()).ToList();
            Assert.Equal(want, apps.Select(a => a.Digests[bank.Name]));
        }
    }

    [Theory]
    [MemberData(nameof(Public))]
    public void Summarize_PublicLog_KernelCommandLineAndGrubAsSourcePublishes(string name)
    {
        var corpus = CorpusLog.Public(name);
        var summary = corpus.Bytes is null || CorpusLog.IsKnownInvalid(name) || CorpusLog.IsMalformedSpecId(name) ? null : SummaryOf(corpus);
        if (corpus.ExpectedString("kernel_cmdline") is { } cmdline)
            Assert.Equal(cmdline.TrimEnd('\0'), summary!.KernelCommandLine);
        if (corpus.Find("grub") is { } grub)
        {
            if (grub.TryGetProperty("commands_nonempty", out var nonEmpty) && nonEmpty.GetBoolean())
                Assert.NotEmpty(summary!.GrubCommands);
            if (grub.TryGetProperty("file_count", out var files))
                Assert.Equal(files.GetInt32(), summary!.GrubFiles.Count);
            if (grub.TryGetProperty("expected_error", out var error) && error.GetString() == "no GRUB measurements found")
            {
                Assert.Empty(summary!.GrubCommands);
                Assert.Empty(summary.GrubFiles);
            }
        }
    }

    [Theory]
    [InlineData("go-attestation-option_rom_eventlog")]
    [InlineData("go-attestation-sb_cert_eventlog")]
    public void Summarize_PostSeparatorAuthorities_CountAsSourceAsserts(string name)
    {
        var corpus = CorpusLog.Public(name);
        var summary = SummaryOf(corpus);
        Assert.Equal(corpus.Find("post_separator_authority_count")!.Value.GetInt32(), summary.Authorities.Count);
        Assert.True(summary.SecureBoot.Enabled);
    }

    [Fact]
    public void Summarize_Ubuntu1804AmdSev_SecureBootDatabasesAsSourceAsserts()
    {
        // go-tpm-tools TestParseSecureBootState: PK = GCE default PK; KEK = MS KEK CA 2011; db = MS UEFI CA 2011 + Windows PCA 2011, no hashes.
        var summary = SummaryOf(CorpusLog.Public("go-tpm-tools-ubuntu-1804-amd-sev"));
        var pk = Assert.Single(summary.SecureBoot.Pk!.Entries);
        Assert.True(pk.IsCertificate);
        Assert.NotNull(pk.Certificate);
        Assert.Empty(summary.SecureBoot.Pk.Hashes);
        var kek = Assert.Single(summary.SecureBoot.Kek!.Entries);
        Assert.Equal("Microsoft Corporation KEK CA 2011", kek.Certificate!.CommonName);
        var db = summary.SecureBoot.Db!;
        Assert.Empty(db.Hashes);
        var names = db.Certificates.Select(c => c.Certificate!.CommonName).ToList();
        Assert.Contains("Microsoft Corporation UEFI CA 2011", names);
        Assert.Contains("Microsoft Windows Production PCA 2011", names);
    }

    [Theory]
    [InlineData("keylime-binary_bios_measurements")]
    [InlineData("keylime-binary_bios_measurements-secureboot")]
    [InlineData("go-attestation-windows_gcp_shielded_vm")]
    public void Summarize_SecureBootEnabledClaim_AsSourceAsserts(string name)
    {
        var corpus = CorpusLog.Public(name);
        Assert.Equal(corpus.Find("secure_boot_enabled")!.Value.GetBoolean(), SummaryOf(corpus).SecureBoot.Enabled);
    }

    [Fact]
    public void Summarize_WindowsGcpShieldedVm_WindowsClaimsAsGoAttestationAsserts()
    {
        var corpus = CorpusLog.Public("go-attestation-windows_gcp_shielded_vm");
        var summary = SummaryOf(corpus);
        var expected = corpus.Find("windows_events")!.Value;
        var windows = summary.Windows!;

        Assert.True(summary.PcrValuesVerified);
        Assert.Equal((ulong)expected.GetProperty("BootCount").GetInt32(), windows.BootCount);
        Assert.True(windows.DataExecutionPrevention);
        Assert.True(windows.CodeIntegrity);
        Assert.Equal(expected.GetProperty("BitlockerUnlocks").EnumerateArray().Select(e => (uint)e.GetInt32()), windows.BitLockerUnlocks);
        var elam = expected.GetProperty("ELAM").EnumerateObject().Single();
        var driver = Assert.Single(windows.ElamDrivers);
        Assert.Equal(elam.Name, driver.KeyName);
        Assert.Equal(elam.Value.GetProperty("Measured_hex").GetString(), driver.Measured);
        Assert.NotEqual(true, windows.TestSigning);
        Assert.NotEqual(true, windows.BootDebugging);

        foreach (var module in expected.GetProperty("LoadedModules_subset").EnumerateObject())
        {
            var m = module.Value;
            var found = Assert.Single(windows.LoadedModules, x => x.AuthenticodeHash == m.GetProperty("AuthenticodeHash_hex").GetString());
            Assert.Equal(m.GetProperty("FilePath").GetString(), found.FilePath);
            Assert.Equal(m.GetProperty("AuthorityIssuer").GetString(), found.AuthorityIssuer);
            Assert.Equal(m.GetProperty("AuthorityPublisher").GetString(), found.AuthorityPublisher);
            Assert.Equal(m.GetProperty("AuthoritySerial_hex").GetString(), found.AuthoritySerial);
            Assert.Equal(m.GetProperty("AuthoritySHA1_hex").GetString(), found.AuthoritySha1Thumbprint);
            Assert.Equal((ulong)m.GetProperty("ImageSize").GetInt64(), found.ImageSize);
            Assert.Equal((ulong)m.GetProperty("ImageBase")[0].GetInt64(), found.ImageBase);
            Assert.Equal(m.GetProperty("ImageValidated").GetBoolean(), found.ImageValidated);
            Assert.Equal(0xCu, found.HashAlgorithm);   // WinAlgSHA256
        }
    }

    [Fact]
    public void Decode_MokListTrustedLogEvent80_IsTheMultiLineGrubCommand()
    {
        var corpus = CorpusLog.Public("tpm2-tools-event-moklisttrusted");
        var ev = corpus.Parse().Events[80];
        var ipl = Assert.IsType<IplEventData>(TcgEventDataDecoder.Decode(ev));
        Assert.Equal(IplEventKind.GrubCommand, ipl.Kind);
        Assert.Equal(corpus.ExpectedString("event_80_string"), ipl.Prefix + ipl.Text);
        Assert.Equal(EventDigestCheck.Verified, EventDigestVerifier.Check(ev, TpmAlgId.Sha256));
        var summary = SummaryOf(corpus);
        Assert.Contains("MokListTrusted", summary.Shim!.MeasuredVariables);
    }

    [Fact]
    public void Summarize_SystemdBootFedora37_KernelCommandLineFromUtf16LoadOptions()
    {
        var summary = SummaryOf(CorpusLog.Public("tpm2-tools-event-sd-boot-fedora37"));
        // PCR12 holds the UTF-16LE LoadOptions with leading/trailing spaces (public/README.md); they are trimmed.
        Assert.Equal("console=ttyS0 console=tty0 efi=debug", summary.KernelCommandLine);
    }

    [Fact]
    public void Summarize_Rhel8RedHatGrubPrefixes_CommandsAndKernelCommandLine()
    {
        var summary = SummaryOf(CorpusLog.Public("go-tpm-tools-rhel8-uefi"));
        Assert.Contains("insmod part_gpt", summary.GrubCommands);
        Assert.NotNull(summary.KernelCommandLine);
        Assert.Empty(summary.ExcludedEvents);
    }

    [Fact]
    public void ExpectedJson_IsReadable()
    {
        var doc = CorpusLog.Public("go-tpm-tools-cos-85-amd-sev").Expected;
        Assert.Equal(JsonValueKind.Object, doc!.Value.ValueKind);
    }
}
