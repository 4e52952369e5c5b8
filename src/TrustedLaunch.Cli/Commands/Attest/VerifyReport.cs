using TrustedLaunch.Attestation;

namespace TrustedLaunch.Cli.Commands.Attest;

/// <summary>The human-readable report of <c>tl attest verify</c>.</summary>
internal static class VerifyReport
{
    public static void Print(AttestationResult result, bool nonceChecked, string? learnedTo, string? token)
    {
        if (result.Passed)
            Console.WriteLine($"PASS: VM {result.VmId:D} attested (policy '{result.PolicyName}').");
        else
            Console.WriteLine($"FAIL: {result.Failure!.Reason} [{result.Failure.Component}]: {result.Failure.Message}");
        if (!nonceChecked)
            Console.WriteLine("  warning: no --nonce given; the bundle's own nonce was used, so freshness was not checked.");

        if (result.BootState is { } boot)
        {
            Console.WriteLine($"  Secure Boot: {(boot.SecureBootEnabled switch { true => "on", false => "OFF", _ => "not measured" })}" +
                $"; default Microsoft keys: {YesNo(boot.DefaultSecureBootKeys)}; db validated: {YesNo(boot.DbValidated)}; dbx validated: {YesNo(boot.DbxValidated)} ({boot.Keys.DbxCount} entries)");
            Console.WriteLine($"  Authorities (PCR 7, after the separator): {(boot.Authorities.Count == 0 ? "none" : string.Join("; ", boot.Authorities))}");
            Console.WriteLine("  Boot chain (PCR 4; names from device paths, authorities inferred from log order):");
            foreach (BootComponent c in boot.BootChain)
                Console.WriteLine($"    {c.Name,-14} {c.Bank} {c.Digest}  by {c.AuthorityName ?? c.Authority ?? "(no authority logged)"}");
            foreach (KernelArgument k in boot.KernelArguments.Where(a => a.Executed))
                Console.WriteLine($"  Kernel arguments (PCR 8, {k.Origin}): {k.Arguments}");
            Console.WriteLine($"  Kernel debugger: {(boot.KernelDebugEnabled switch { true => "ENABLED", false => "off", _ => "unknown (no kernel arguments measured)" })}");
            Console.WriteLine($"  Attested PCRs: {string.Join(',', boot.AttestedPcrs)} in {string.Join(", ", boot.Pcrs.Keys)}");
            foreach (string anomaly in boot.Anomalies)
                Console.WriteLine($"  anomaly: {anomaly}");
        }

        if (result.EarlyBoot != BaselineVerdict.NotEvaluated)
            Console.WriteLine($"  Baseline: early boot {result.EarlyBoot}, late boot {result.LateBoot}");
        foreach (BaselineDeviation d in result.Deviations)
            Console.WriteLine($"    {d.Stage} {d.Description}");
        foreach (PolicyViolation v in result.PolicyViolations)
            Console.WriteLine($"  policy: {v.Message}");
        foreach (var f in result.Findings)
            Console.WriteLine($"  guest finding ({f.Kind}{(f.Module is null ? "" : ", " + f.Module)}): {f.Message}");
        if (learnedTo is not null)
            Console.WriteLine($"  baseline learned: {learnedTo}");
        if (token is not null)
            Console.WriteLine($"  token: {token}");
    }

    private static string YesNo(bool value) => value ? "yes" : "no";
}
