using System.Security.Cryptography;
using System.Text;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Attestation.Tests.Fixtures;
using TrustedLaunch.Testing;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Attestation.Tests.Verification;

/// <summary>
/// The log forgeries an attacker makes against a genuine quote (issue 11): the vTPM really extended <c>boot</c>'s
/// digests (a real boot, plus what a guest root can extend after it), and the verifier is shown an edited log that still
/// replays — event types relabelled, events moved across PCRs, data no digest covers replaced. Only what the replay
/// proves may change a verdict, so each forgery must fail, and with the reason the genuine boot fails for.
/// </summary>
[IntegrationTest]
[Collection(GenuineEvidenceGroup.Name)]
public sealed class LogForgeryTests(GenuineEvidenceFactory factory)
{
    private const string KernelDebugOption = "kgdbwait";

    public static ForgedLog Capture => ForgedLog.Parse(GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.SecureBootCapture));

    /// <summary>The capture's boot with <c>kgdbwait</c> in GRUB's menu entry, linux command and kernel command line, measured as GRUB does.</summary>
    public static ForgedLog KernelDebugBoot
    {
        get
        {
            ForgedLog log = Capture;
            for (int i = 0; i < log.Records.Count; i++)
            {
                ForgedLog.Record r = log.Records[i];
                if (r.Pcr == 8 && r.Text.Contains("quiet", StringComparison.Ordinal))
                    log = RewriteGrubText(log, i, r.Text.Replace("quiet", KernelDebugOption, StringComparison.Ordinal));
            }

            return log;
        }
    }

    /// <summary>A PCR 8 string replaced by <paramref name="newText"/> (prefix included), measured as GRUB does: the digest is of the text after the prefix.</summary>
    public static ForgedLog RewriteGrubText(ForgedLog log, int position, string newText)
    {
        ForgedLog.Record old = log.Records[position];
        string prefix = TcgEventDataDecoder.GrubPrefix(Encoding.ASCII.GetBytes(newText))!.Value.Prefix;
        bool nul = old.Data.Length > 0 && old.Data[^1] == 0;
        return log.Remeasure(position, Encoding.ASCII.GetBytes(newText[prefix.Length..]), Encoding.ASCII.GetBytes(newText + (nul ? "\0" : "")));
    }

    /// <summary>Appends a GRUB PCR 8 measurement, as a guest root's TPM2_PCR_Extend after boot can.</summary>
    public static ForgedLog AppendGrub(ForgedLog log, string prefix, string text)
    {
        (byte[] measured, byte[] data) = ForgedLog.Grub(prefix, text);
        return log.Append(8, TcgEventType.Ipl, measured, data);
    }

    private AttestationEvidence Quote(ForgedLog boot, IReadOnlyList<TpmAlgId>? banks, out byte[] nonce)
    {
        nonce = RandomNumberGenerator.GetBytes(32);
        return factory.Attest(boot.ToBytes(), nonce, quotedBanks: banks);
    }

    /// <summary>The vTPM holds <paramref name="boot"/>'s measurements; the verifier is shown <paramref name="shown"/> (default: the same log).</summary>
    private AttestationResult Attest(ForgedLog boot, ForgedLog? shown = null, ReferencePolicy? policy = null)
    {
        AttestationEvidence evidence = Quote(boot, null, out byte[] nonce);
        return Verify(evidence, nonce, shown, policy);
    }

    private AttestationResult Verify(AttestationEvidence evidence, byte[] nonce, ForgedLog? shown, ReferencePolicy? policy = null) =>
        Verifiers.Cached.Verify(shown is null ? evidence : evidence with { TcgLog = shown.ToBytes() }, factory.Expect(nonce, policy: policy));

    private static void AssertPolicyFailure(AttestationResult result, string component, string message)
    {
        Assert.False(result.Passed, "the forgery passed");
        Assert.Equal(AttestationFailureReason.PolicyDeviation, result.Failure!.Reason);
        Assert.Contains(result.PolicyViolations, v => v.Component == component && v.Message.Contains(message, StringComparison.Ordinal));
    }

    public static TheoryData<string> ForgedEvents => ["UEFI Debug Mode", "SecureBoot", "PCR 7 separator", "db authority", "MokListRT authority", "grub", "kernel command line"];

    // Class 1: every type a log can claim, for events that carry the verdict; none may vanish from the appraisal.
    [Theory]
    [MemberData(nameof(ForgedEvents))]
    public void Relabel_AnyTypeOnAnAttestedEvent_NeverAPassWithADifferentAppraisal(string target)
    {
        ForgedLog boot = Capture;
        int secureBoot = boot.Find(r => r.Pcr == 7 && r.Type == TcgEventType.EfiVariableDriverConfig);
        if (target == "UEFI Debug Mode")
            boot = boot.Insert(secureBoot, 7, TcgEventType.EfiAction, "UEFI Debug Mode"u8.ToArray(), "UEFI Debug Mode"u8.ToArray());
        int position = target switch
        {
            "UEFI Debug Mode" => secureBoot,
            "SecureBoot" => secureBoot,
            "PCR 7 separator" => boot.Find(r => r.Pcr == 7 && r.Type == TcgEventType.Separator),
            "db authority" => boot.Find(r => r.Pcr == 7 && r.Type == TcgEventType.EfiVariableAuthority),
            "MokListRT authority" => boot.Find(r => r.Pcr == 7 && r.Type == TcgEventType.EfiVariableAuthority && Encoding.Unicode.GetString(r.Data).Contains("MokListRT", StringComparison.Ordinal)),
            "grub" => boot.Find(r => r.Pcr == 4 && Encoding.Unicode.GetString(r.Data).Contains("grubx64", StringComparison.Ordinal)),
            _ => boot.Find(r => r.Pcr == 8 && r.Text.StartsWith("kernel_cmdline", StringComparison.Ordinal)),
        };
        AttestationEvidence evidence = Quote(boot, null, out byte[] nonce);
        AttestationResult genuine = Verify(evidence, nonce, null);
        Assert.Equal(target != "UEFI Debug Mode", genuine.Passed);

        foreach (TcgEventType type in Enum.GetValues<TcgEventType>().Append((TcgEventType)0x12345678))
        {
            if (type == boot.Records[position].Type)
                continue;
            AttestationResult forged = Verify(evidence, nonce, boot.Relabel(position, type));
            if (forged.Passed)
            {
                Assert.True(genuine.Passed, $"{target} relabelled as {type} passed where the genuine boot fails");
                Assert.Equivalent(genuine.BootState, forged.BootState, strict: true);
            }
        }
    }

    [Fact]
    public void Relabel_DebugModeActionAsSpdmDevicePolicy_IsAnAnomalyNamed()
    {
        ForgedLog boot = Capture;
        int at = boot.Find(r => r.Pcr == 7 && r.Type == TcgEventType.EfiVariableDriverConfig);
        boot = boot.Insert(at, 7, TcgEventType.EfiAction, "UEFI Debug Mode"u8.ToArray(), "UEFI Debug Mode"u8.ToArray());
        AttestationEvidence evidence = Quote(boot, null, out byte[] nonce);
        AssertPolicyFailure(Verify(evidence, nonce, null), "PCR 7", "firmware logged UEFI Debug Mode");

        AttestationResult forged = Verify(evidence, nonce, boot.Relabel(at, TcgEventType.EfiSpdmDevicePolicy));
        AssertPolicyFailure(forged, "PCR 7", $"event #{ForgedLog.EventIndex(at)} of type EV_EFI_SPDM_DEVICE_POLICY is not expected in this PCR");
    }

    [Fact]
    public void Relabel_SecureBootOffHiddenBehindAPostBootExtend_NeverReadsAsOn()
    {
        // Secure Boot really off; after boot a guest root extends PCR 7 with "SecureBoot = 1" and relabels the real event.
        ForgedLog boot = Capture;
        int secureBoot = boot.Find(r => r.Pcr == 7 && r.Type == TcgEventType.EfiVariableDriverConfig);
        byte[] on = boot.Records[secureBoot].Data;
        byte[] off = (byte[])on.Clone();
        off[^1] = 0;
        boot = boot.Remeasure(secureBoot, off, off).Append(7, TcgEventType.EfiVariableDriverConfig, on, on);
        ForgedLog shown = boot.Relabel(secureBoot, TcgEventType.EfiSpdmDevicePolicy);

        // Even a policy that tolerates anomalies sees no Secure Boot: a variable after the separator is not used.
        var lenient = new ReferencePolicy { Name = "lenient", AllowAnomalies = true };
        AttestationResult forged = Attest(boot, shown, lenient);
        Assert.NotEqual(true, forged.BootState!.SecureBootEnabled);
        AssertPolicyFailure(forged, "PCR 7", "Secure Boot state not measured");
        AssertPolicyFailure(Attest(boot, shown), "PCR 7", "SecureBoot measured after the separator");
    }

    [Theory]
    [InlineData(TcgEventType.EfiBootServicesDriver)]
    [InlineData(TcgEventType.EfiRuntimeServicesDriver)]
    public void Relabel_UnapprovedBootLoaderAsDriver_StaysInTheBootChain(TcgEventType label)
    {
        ForgedLog capture = Capture;
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        string[] approved = Verifiers.Cached.Verify(factory.Attest(capture.ToBytes(), nonce), factory.Expect(nonce))
            .BootState!.BootChain.Select(c => c.Digest).Distinct().ToArray();
        var pinned = new ReferencePolicy { Name = "pinned", AllowedBootApplicationDigests = approved };

        int grub = capture.Find(r => r.Pcr == 4 && Encoding.Unicode.GetString(r.Data).Contains("grubx64", StringComparison.Ordinal));
        byte[] unapproved = RandomNumberGenerator.GetBytes(4096); // another loader's Authenticode image
        ForgedLog boot = capture.Insert(grub, 4, TcgEventType.EfiBootServicesApplication, unapproved, capture.Records[grub].Data);
        string digest = Convert.ToHexStringLower(SHA256.HashData(unapproved));
        AssertPolicyFailure(Attest(boot, null, pinned), "PCR 4: grubx64.efi", $"digest {digest} is not an allowed boot application");

        AttestationResult forged = Attest(boot, boot.Relabel(grub, label), pinned);
        AssertPolicyFailure(forged, "PCR 4: grubx64.efi", $"digest {digest} is not an allowed boot application");
    }

    // Class 2: which authority admitted which image is not in the quote.
    [Fact]
    public void Reorder_AuthorityMovedAfterTheImages_DoesNotCreditThemToMicrosoft()
    {
        ForgedLog boot = Capture;
        int mokList = boot.Find(r => r.Pcr == 7 && r.Type == TcgEventType.EfiVariableAuthority && Encoding.Unicode.GetString(r.Data).Contains("MokListRT", StringComparison.Ordinal));
        ForgedLog shown = boot.Move(mokList, boot.Records.Count - 1); // PCR 7's own order is unchanged, so it still replays
        var microsoftOnly = new ReferencePolicy { Name = "ms-only", AllowedAuthorities = ["Microsoft Corporation UEFI CA 2011"] };

        AttestationResult forged = Attest(boot, shown, microsoftOnly);

        Assert.All(forged.BootState!.BootChain, c => Assert.Equal("Microsoft Corporation UEFI CA 2011", c.AuthorityName)); // what the order says
        AssertPolicyFailure(forged, "PCR 7", "authority MokListRT: Debian Secure Boot CA");
        Assert.Equal(Attest(boot, null, microsoftOnly).Failure!.Message, forged.Failure!.Message);
    }

    // Class 3: data is believed only in the form that was measured.
    [Fact]
    public void Utf16LoadOptionsNotMatchingTheirDigest_ExcludedAndTheRealArgumentsStillFound()
    {
        byte[] clean = Encoding.Unicode.GetBytes("/vmlinuz console=ttyS0 quiet panic=-1\0");
        ForgedLog boot = KernelDebugBoot.Append(8, TcgEventType.Ipl, RandomNumberGenerator.GetBytes(32), clean);

        AttestationResult result = Attest(boot);

        Assert.True(result.BootState!.KernelDebugEnabled);
        AssertPolicyFailure(result, "PCR 8", "excluded: the sha256 digest is not the hash of the logged data");
        AssertPolicyFailure(result, "PCR 8", KernelDebugOption);
    }

    [Theory]
    [InlineData("kernel_cmdline: ", "grub_cmd: ", "has no kernel command line with the same arguments after it")]
    [InlineData("kernel_cmdline: ", "module_cmdline: ", "has no kernel command line with the same arguments after it")]
    [InlineData("grub_cmd: linux", "module_cmdline: linux", null)] // still a linux command by its text, still paired
    public void GrubPrefixSwapped_ArgumentsStillAppraised(string from, string to, string? pairingFinding)
    {
        ForgedLog boot = KernelDebugBoot;
        int target = boot.Find(r => r.Pcr == 8 && r.Text.StartsWith(from, StringComparison.Ordinal));
        ForgedLog shown = boot.WithData(target, Encoding.ASCII.GetBytes(to + boot.Records[target].Text[from.Length..] + "\0"));

        AttestationResult forged = Attest(boot, shown);

        Assert.True(forged.BootState!.KernelDebugEnabled);
        AssertPolicyFailure(forged, "PCR 8", KernelDebugOption);
        if (pairingFinding is not null)
            AssertPolicyFailure(forged, "PCR 8", pairingFinding);
    }

    [Fact]
    public void DebuggerOnlyInAMeasuredMenuEntry_Found()
    {
        ForgedLog boot = Capture;
        int menu = boot.Find(r => r.Pcr == 8 && r.Text.Contains("menuentry", StringComparison.Ordinal));
        boot = RewriteGrubText(boot, menu, boot.Records[menu].Text.Replace("quiet", KernelDebugOption, StringComparison.Ordinal));
        AttestationResult result = Attest(boot);
        Assert.True(result.BootState!.KernelDebugEnabled);
        AssertPolicyFailure(result, "PCR 8", "enables a debugger");
    }

    // Class 4: a clean command line extended after boot does not replace the real one.
    [Fact]
    public void CleanCommandLineExtendedAfterBoot_EveryCommandLineIsAppraised()
    {
        ForgedLog boot = AppendGrub(AppendGrub(KernelDebugBoot, "grub_cmd: ", "linux /vmlinuz console=ttyS0 quiet panic=-1"),
            "kernel_cmdline: ", "/vmlinuz console=ttyS0 quiet panic=-1");
        var pattern = new ReferencePolicy { Name = "cmdline", KernelCommandLinePattern = "/vmlinuz console=ttyS0 quiet panic=-1" };

        AttestationResult result = Attest(boot, null, pattern);

        Assert.Null(result.BootState!.KernelCommandLine); // two different ones: no single command line to report
        Assert.Equal(2, result.BootState.KernelArguments.Count(a => a.Origin == "commandLine"));
        AssertPolicyFailure(result, "PCR 8", "enables a debugger");
        AssertPolicyFailure(result, "PCR 8", $"kernel command line '/vmlinuz console=ttyS0 {KernelDebugOption} panic=-1' does not match");
        Assert.True(Attest(Capture, null, pattern).Passed);
    }

    [Fact]
    public void CommandLineExtendedWithoutALinuxCommand_IsAnAnomaly()
    {
        ForgedLog boot = AppendGrub(Capture, "kernel_cmdline: ", "/vmlinuz console=ttyS0 quiet panic=-1 init=/bin/sh");
        AssertPolicyFailure(Attest(boot), "PCR 8", "follows no GRUB linux command with the same arguments");
    }

    // Class 5: no reassuring default for what was never measured.
    [Fact]
    public void NoKernelArgumentsMeasured_KernelDebugUnknownAndTheMinimumPolicyFails()
    {
        ForgedLog boot = Capture.Without(8);

        AttestationResult minimum = Attest(boot);
        Assert.Null(minimum.BootState!.KernelDebugEnabled);
        AssertPolicyFailure(minimum, "PCR 8", "a kernel debugger cannot be ruled out");

        AttestationResult lenient = Attest(boot, null, new ReferencePolicy { Name = "no-cmdline", AllowKernelDebug = true });
        Assert.True(lenient.Passed, lenient.Failure?.ToString());
        using var key = TokenSigningKey.Create();
        string token = new AttestationTokenIssuer(key, "https://verifier.test", TimeProvider.System).Issue(lenient, factory.VmId);
        using var claims = System.Text.Json.JsonDocument.Parse(Convert.FromBase64String(Base64Pad(token.Split('.')[1])));
        Assert.False(claims.RootElement.TryGetProperty(AttestationClaims.KernelDebugEnabled, out _), "a claim about what was never measured");
        Assert.False(claims.RootElement.TryGetProperty(AttestationClaims.OsType, out _));
        Assert.All(lenient.BootState!.BootChain, c => Assert.Equal(c.Path is null ? ComponentNameSources.Position : ComponentNameSources.DevicePath, c.NameSource));
    }

    private static string Base64Pad(string base64Url)
    {
        string s = base64Url.Replace('-', '+').Replace('_', '/');
        return s + new string('=', (4 - s.Length % 4) % 4);
    }

    // Class 7: a SHA-1-only quote is a downgrade.
    [Fact]
    public void QuoteOfTheSha1BankAlone_Refused()
    {
        AttestationEvidence evidence = Quote(Capture, [TpmAlgId.Sha1], out byte[] nonce);
        AttestationResult result = Verify(evidence, nonce, null);
        Assert.Equal(AttestationFailureReason.QuoteInvalid, result.Failure?.Reason);
        Assert.Equal("quote: PCR selection", result.Failure!.Component);
        Assert.Contains("SHA-256 or stronger", result.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void QuoteOfSha1AndSha256_PassesAndChecksDataInTheStrongerBank()
    {
        AttestationEvidence evidence = Quote(Capture, [TpmAlgId.Sha1, TpmAlgId.Sha256], out byte[] nonce);
        AttestationResult result = Verify(evidence, nonce, null);
        Assert.True(result.Passed, result.Failure?.ToString());
        Assert.Equal(["sha1", "sha256"], result.BootState!.Pcrs.Keys.Order(StringComparer.Ordinal));
    }
}
