using TrustedLaunch.Attestation;

namespace TrustedLaunch.Cli.Commands.Attest;

/// <summary>The human-readable report of <c>tl attest verify</c>.</summary>
internal static class VerifyReport
{
    public static void Print(TextWriter output, AttestationResult result, bool nonceChecked, string? learnedTo, string? token)
    {
        if (result.Passed)
            output.WriteLine($"PASS: VM {result.VmId:D} attested (policy '{result.PolicyName}').");
        else
            output.WriteLine($"FAIL: {result.Failure!.Reason} [{result.Failure.Component}]: {result.Failure.Message}");
        if (!nonceChecked)
            output.WriteLine("  warning: no --nonce given; the bundle's own nonce was used, so freshness was not checked.");

        if (result.BootState is { } boot)
        {
            output.WriteLine($"  Secure Boot: {(boot.SecureBootEnabled switch { true => "on", false => "OFF", _ => "not measured" })}" +
                $"; default Microsoft keys: {YesNo(boot.DefaultSecureBootKeys)}; db validated: {YesNo(boot.DbValidated)}; dbx validated: {YesNo(boot.DbxValidated)} ({boot.Keys.DbxCount} entries)");
            output.WriteLine($"  Authorities (PCR 7, after the separator): {(boot.Authorities.Count == 0 ? "none" : string.Join("; ", boot.Authorities))}");
            output.WriteLine("  Boot chain (PCR 4; names from device paths, authorities inferred from log order):");
            foreach (BootComponent c in boot.BootChain)
                output.WriteLine($"    {c.Name,-14} {c.Bank} {c.Digest}  by {c.AuthorityName ?? c.Authority ?? "(no authority logged)"}");
            foreach (KernelArgument k in boot.KernelArguments.Where(a => a.Executed))
                output.WriteLine($"  Kernel arguments (PCR 8, {k.Origin}): {k.Arguments}");
            output.WriteLine($"  Kernel debugger: {(boot.KernelDebugEnabled switch { true => "ENABLED", false => "off", _ => "unknown (no kernel arguments measured)" })}");
            output.WriteLine($"  Attested PCRs: {string.Join(',', boot.AttestedPcrs)} in {string.Join(", ", boot.Pcrs.Keys)}");
            foreach (string anomaly in boot.Anomalies)
                output.WriteLine($"  anomaly: {anomaly}");
        }

        if (result.EarlyBoot != BaselineVerdict.NotEvaluated)
            output.WriteLine($"  Baseline: early boot {result.EarlyBoot}, late boot {result.LateBoot}");
        foreach (BaselineDeviation d in result.Deviations)
            output.WriteLine($"    {d.Stage} {d.Description}");
        foreach (PolicyViolation v in result.PolicyViolations)
            output.WriteLine($"  policy: {v.Message}");
        foreach (var f in result.Findings)
            output.WriteLine($"  guest finding ({f.Kind}{(f.Module is null ? "" : ", " + f.Module)}): {f.Message}");
        if (learnedTo is not null)
            output.WriteLine($"  baseline learned: {learnedTo}");
        if (token is not null)
            output.WriteLine($"  token: {token}");
    }

    private static string YesNo(bool value) => value ? "yes" : "no";
}
