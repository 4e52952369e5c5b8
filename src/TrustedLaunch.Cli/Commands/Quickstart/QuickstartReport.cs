using System.Globalization;
using System.Text;
using System.Text.Json;
using TrustedLaunch.Attestation;
using TrustedLaunch.Runtime.Console;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.Cli.Commands.Quickstart;

/// <summary>One vTPM identity key as <c>tl vmgs create</c> reported it.</summary>
internal sealed record QuickstartVTpmKey(string Role, string? Subject, string? Issuer, string? Serial);

/// <summary>Everything quickstart found out, for <c>--json</c> and for the text report.</summary>
internal sealed record QuickstartReport
{
    public required Guid VmId { get; init; }
    public required string VmDirectory { get; init; }
    public required string Vmgs { get; init; }
    public required string Disk { get; init; }
    public required string Image { get; init; }
    public required string Accelerator { get; init; }
    public required IReadOnlyList<QuickstartVTpmKey> VTpm { get; init; }
    public required BootVerdict Verdict { get; init; }
    public QuickstartAttestationReport? Attestation { get; init; }
    public string? AttestationSkipped { get; init; }
    public string? Stopped { get; init; }
    public string? AgentSocket { get; init; }

    public bool Booted => Verdict.Outcome == BootOutcome.Booted;

    public static IReadOnlyList<QuickstartVTpmKey> ReadVTpmKeys(VTpmIdentity identity) =>
        [.. identity.Keys.Select(k => new QuickstartVTpmKey(k.Role, k.CertificateSubject, k.CertificateIssuer, k.CertificateSerial))];

    public string ToText()
    {
        var t = new StringBuilder();
        string Fact(string key) => Verdict.GuestFacts.TryGetValue(key, out string? v) ? v : "(not reported)";
        void Section(string title) => t.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"── {title} {new string('─', Math.Max(0, 66 - title.Length))}");
        void Row(string name, string? value) => t.AppendLine(CultureInfo.InvariantCulture, $"  {name,-22} {value}");

        t.AppendLine(CultureInfo.InvariantCulture, $"TrustedLaunch quickstart: VM {VmId}");
        Row("guest state", Vmgs);
        Row("disk", $"{Disk} (overlay on {Image})");
        Row("accelerator", Accelerator);

        Section("Boot");
        Row("verdict", $"{Outcome(Verdict.Outcome)} in {Verdict.Elapsed.TotalSeconds:0.0} s: {Verdict.Summary}");
        if (Verdict.Refusal is { } refusal)
            Row("refused", $"{refusal.Image} by {refusal.RefusedBy}: {refusal.Message}");
        Row("Secure Boot (guest)", Fact("secure-boot"));
        Row("kernel lockdown", Fact("lockdown"));
        Row("TPM (guest)", Fact("tpm") == "2.0" ? "TPM 2.0 present" : Fact("tpm"));
        Row("event log (guest)", Fact("event-log"));
        Row("unsigned module", Fact("module-unsigned"));
        Row("SMBIOS UUID (guest)", Fact("product-uuid"));

        Section("vTPM identity (platform-certified)");
        foreach (QuickstartVTpmKey key in VTpm)
            Row(key.Role, $"{key.Subject}\n{"",25}issued by {key.Issuer}");

        Section("Attestation");
        if (Attestation is null)
        {
            Row("result", $"not performed: {AttestationSkipped}");
        }
        else
        {
            Row("result", Attestation.Passed ? $"PASSED ({Attestation.Seconds:0.0} s, fresh nonce {Attestation.NonceHex?[..16]}…)" : $"FAILED: {Attestation.Failure}");
            if (Attestation.Result is { } result)
                AppendAttestation(t, Row, result);
            if (Attestation.TokenClaims is { } claims)
            {
                Row("token", $"JWS ES256, {Attestation.Token!.Length} chars, issuer {Attestation.TokenIssuer}");
                foreach (JsonProperty claim in claims.EnumerateObject())
                    t.AppendLine(CultureInfo.InvariantCulture, $"    {claim.Name,-46} {ClaimText(claim.Value)}");
            }
        }

        if (Stopped is not null)
        {
            Section("Shutdown");
            Row("stopped", Stopped);
        }

        return t.ToString();
    }

    private static void AppendAttestation(StringBuilder t, Action<string, string?> row, AttestationResult result)
    {
        if (result.BootState is not { } boot)
            return;
        row("Secure Boot (quoted)", boot.SecureBootEnabled switch { true => "enabled (PCR 7)", false => "disabled (PCR 7)", _ => "not measured" });
        row("default MS keys", boot.DefaultSecureBootKeys ? "yes (KEK and db are the Microsoft defaults)" : "no");
        row("authorities (PCR 7)", boot.Authorities.Count == 0 ? "none" : string.Join("; ", boot.Authorities));
        row("measured boot chain", "(names from device paths; authorities inferred from the log's order)");
        foreach (BootComponent c in boot.BootChain)
            row($"  PCR {c.Pcr} {c.Name}", $"sha256:{c.Digest[..16]}… by {c.AuthorityName ?? c.Authority ?? "(no authority logged)"}");
        row("kernel command line", boot.KernelCommandLine);
        row("quoted PCRs", "");
        if (boot.Pcrs.TryGetValue("sha256", out IReadOnlyDictionary<int, string>? pcrs))
        {
            foreach ((int index, string value) in pcrs.OrderBy(p => p.Key))
                row($"  PCR {index,2} sha256", value);
        }

        if (result.Findings.Count > 0)
            row("guest findings", "(reported by the agent from the kernel log; not covered by the quote)");
        foreach (var finding in result.Findings)
            row($"  {finding.Kind}", $"{finding.Module} {finding.Message}".Trim());
        if (result.Os is { } os)
            row("guest OS", $"{os.PrettyName}, kernel {os.KernelRelease}");
    }

    private static string Outcome(BootOutcome outcome) => outcome switch
    {
        BootOutcome.Booted => "booted",
        BootOutcome.SecureBootViolation => "secure-boot-violation",
        BootOutcome.NoBootableDevice => "no-bootable-device",
        BootOutcome.Timeout => "timeout",
        _ => "failed",
    };

    /// <summary>Scalars as they are, arrays of scalars inline (e.g. the attested PCRs), structured claims by size.</summary>
    private static string? ClaimText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Array when value.EnumerateArray().All(e => e.ValueKind is not (JsonValueKind.Array or JsonValueKind.Object)) =>
            "[" + string.Join(", ", value.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText())) + "]",
        JsonValueKind.Array => value.GetArrayLength() == 1 ? "(1 entry; see --json)" : $"({value.GetArrayLength()} entries; see --json)",
        JsonValueKind.Object => "(object; see --json)",
        _ => value.GetRawText(),
    };
}
