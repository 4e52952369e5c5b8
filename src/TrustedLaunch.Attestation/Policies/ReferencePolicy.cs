using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace TrustedLaunch.Attestation;

/// <summary>One broken rule of a reference policy: the component and what is wrong.</summary>
public sealed record PolicyViolation(string Component, string Message);

/// <summary>
/// An explicit, named reference state (Keylime's measured-boot policy in spirit): allowed Secure Boot state,
/// authorities, boot-application digests and a kernel command-line pattern. Lists that are null allow anything;
/// an empty list allows nothing. Every rule is evaluated on the appraised (replayed) boot only.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)] // a misspelt rule must not silently weaken a policy
public sealed record ReferencePolicy
{
    private Regex? _commandLine;

    /// <summary>The built-in minimum every attestation meets when no policy is named: Secure Boot on, no debuggers, a strictly interpretable log.</summary>
    public static ReferencePolicy Minimum { get; } = new() { Name = "minimum" };

    /// <summary>Policy name, reported in results and tokens.</summary>
    public required string Name { get; init; }

    /// <summary>Require the SecureBoot variable = 1 (default true).</summary>
    public bool RequireSecureBoot { get; init; } = true;

    /// <summary>Require KEK and db to be the Microsoft defaults.</summary>
    public bool RequireDefaultSecureBootKeys { get; init; }

    /// <summary>Allow UEFI debug mode (default false).</summary>
    public bool AllowFirmwareDebugMode { get; init; }

    /// <summary>Allow kernel debugger options in measured kernel arguments, and boots that measured none (default false).</summary>
    public bool AllowKernelDebug { get; init; }

    /// <summary>Allow log anomalies (uninterpretable events, missing separators). Default false: rewritten event types fail.</summary>
    public bool AllowAnomalies { get; init; }

    /// <summary>
    /// Authorities that may admit boot code: certificate common names or SHA-256 thumbprints (hex). Every authority
    /// replayed in PCR 7 after its separator must be one of them (the quote proves that set, not which image each admitted).
    /// </summary>
    public IReadOnlyList<string>? AllowedAuthorities { get; init; }

    /// <summary>Authenticode digests (hex, in the component's bank) a boot application may have.</summary>
    public IReadOnlyList<string>? AllowedBootApplicationDigests { get; init; }

    /// <summary>
    /// A regular expression every measured kernel command line, and every GRUB linux command's arguments, must match as
    /// a whole (evaluated without backtracking).
    /// </summary>
    public string? KernelCommandLinePattern { get; init; }

    /// <summary>Evaluates the policy; returns every violation (empty when the boot complies).</summary>
    public IReadOnlyList<PolicyViolation> Evaluate(AttestedBootState boot)
    {
        ArgumentNullException.ThrowIfNull(boot);
        var violations = new List<PolicyViolation>();
        if (RequireSecureBoot && boot.SecureBootEnabled != true)
            violations.Add(new("PCR 7", boot.SecureBootEnabled == false ? "PCR 7: Secure Boot disabled" : "PCR 7: Secure Boot state not measured"));
        if (RequireDefaultSecureBootKeys && !boot.DefaultSecureBootKeys)
            violations.Add(new("PCR 7", "PCR 7: KEK/db are not the Microsoft default keys"));
        if (!AllowFirmwareDebugMode && boot.FirmwareDebugMode)
            violations.Add(new("PCR 7", "PCR 7: firmware logged UEFI Debug Mode"));
        if (!AllowKernelDebug && boot.KernelDebugEnabled != false)
        {
            violations.Add(new("PCR 8", boot.KernelDebugEnabled == true
                ? $"PCR 8: a measured kernel argument enables a debugger: {DebuggerSource(boot)}"
                : "PCR 8: no kernel command line was measured, so a kernel debugger cannot be ruled out"));
        }

        if (!AllowAnomalies)
        {
            foreach (string anomaly in boot.Anomalies)
                violations.Add(new(anomaly.StartsWith("PCR ", StringComparison.Ordinal) ? anomaly[..anomaly.IndexOf(':', StringComparison.Ordinal)] : "event log", anomaly));
        }

        if (AllowedAuthorities is not null)
            EvaluateAuthorities(boot, violations);
        foreach (BootComponent component in boot.BootChain)
        {
            string name = $"PCR {component.Pcr}: {component.Name}";
            if (AllowedBootApplicationDigests is not null && !AllowedBootApplicationDigests.Contains(component.Digest, StringComparer.OrdinalIgnoreCase))
                violations.Add(new(name, $"{name} digest {component.Digest} is not an allowed boot application"));
        }

        if (KernelCommandLinePattern is not null)
            EvaluateCommandLines(boot, violations);
        return violations;
    }

    // The quote proves which authorities PCR 7 holds after its separator, not which image each admitted: every one of
    // them must be allowed, and a boot chain admitted by none (Secure Boot off) is not admitted by an allowed one.
    private void EvaluateAuthorities(AttestedBootState boot, List<PolicyViolation> violations)
    {
        foreach (AttestedAuthority authority in boot.AuthorityEntries)
        {
            if (!AllowedAuthorities!.Any(a => string.Equals(a, authority.Name, StringComparison.Ordinal) ||
                    (authority.Sha256.Length > 0 && string.Equals(a, authority.Sha256, StringComparison.OrdinalIgnoreCase))))
            {
                string sha = authority.Sha256.Length > 0 ? $" ({authority.Sha256})" : "";
                violations.Add(new("PCR 7", $"PCR 7: authority {authority.Variable}: {authority.Name}{sha} admitted boot code; the policy does not allow it"));
            }
        }

        if (boot.AuthorityEntries.Count == 0 && boot.BootChain.Count > 0)
            violations.Add(new("PCR 7", "PCR 7: no authority admitted the boot chain (Secure Boot off?); the policy allows only named authorities"));
    }

    // Every executed string that carries kernel arguments must match: the command lines and the GRUB linux commands
    // that produced them (a menu entry's definition is not what ran; its debugger options are still caught above).
    private void EvaluateCommandLines(AttestedBootState boot, List<PolicyViolation> violations)
    {
        _commandLine ??= new Regex(KernelCommandLinePattern!, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        KernelArgument[] executed = boot.KernelArguments.Where(a => a.Executed).ToArray();
        if (executed.Length == 0)
        {
            violations.Add(new("PCR 8", $"PCR 8: no kernel command line was measured to match '{KernelCommandLinePattern}'"));
            return;
        }

        foreach (string arguments in executed.Select(a => a.Arguments).Distinct(StringComparer.Ordinal))
        {
            Match match = _commandLine.Match(arguments);
            if (!match.Success || match.Index != 0 || match.Length != arguments.Length)
                violations.Add(new("PCR 8", $"PCR 8: kernel command line '{arguments}' does not match '{KernelCommandLinePattern}'"));
        }
    }

    private static string DebuggerSource(AttestedBootState boot) =>
        boot.KernelArguments.FirstOrDefault(a => KernelDebugger.Enabled(a.Arguments)) is { } found
            ? $"'{found.Arguments}'"
            : "a measured GRUB command or Windows boot record";

    private static void RejectNullEntries(string property, IReadOnlyList<string>? list)
    {
        if (list is null)
            return;
        for (int i = 0; i < list.Count; i++)
        {
            // A null authority would match every component that has no logged authority.
            if (list[i] is null)
                throw new FormatException($"{property}[{i}] is null; list a name or digest, or leave the whole list out");
        }
    }

    private static bool HasTopLevelProperty(ReadOnlySpan<byte> utf8Json, string name)
    {
        var reader = new Utf8JsonReader(utf8Json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals(name))
                return true;
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth >= 1)
                reader.Skip();
        }

        return false;
    }

    private static bool Matches(string allowed, BootComponent component) =>
        string.Equals(allowed, component.AuthorityName, StringComparison.Ordinal) ||
        string.Equals(allowed, component.AuthoritySha256, StringComparison.OrdinalIgnoreCase);

    /// <summary>Serializes to UTF-8 JSON.</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, AttestationJsonContext.Default.ReferencePolicy);

    /// <summary>Reads a policy; validates its pattern.</summary>
    /// <exception cref="FormatException">Not a policy, or the pattern is not a valid regular expression.</exception>
    public static ReferencePolicy FromJson(ReadOnlySpan<byte> utf8Json)
    {
        ReferencePolicy? policy;
        try
        {
            policy = JsonSerializer.Deserialize(utf8Json, AttestationJsonContext.Default.ReferencePolicy);
        }
        catch (JsonException e)
        {
            throw new FormatException($"not a reference policy: {e.Message}", e);
        }

        if (policy is null || string.IsNullOrWhiteSpace(policy.Name))
            throw new FormatException("a reference policy needs a name");
        RejectNullEntries("allowedAuthorities", policy.AllowedAuthorities);
        RejectNullEntries("allowedBootApplicationDigests", policy.AllowedBootApplicationDigests);
        if (policy.KernelCommandLinePattern is not null)
        {
            try
            {
                _ = new Regex(policy.KernelCommandLinePattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
            }
            catch (ArgumentException e)
            {
                throw new FormatException($"kernelCommandLinePattern is not a valid regular expression: {e.Message}", e);
            }
            catch (NotSupportedException e)
            {
                throw new FormatException($"kernelCommandLinePattern uses a construct (lookaround, backreference) the non-backtracking regex engine cannot run: {e.Message}", e);
            }
        }

        // The source-generated reader gives an absent init-only property its type's default, not the declared one;
        // "Secure Boot required unless said otherwise" must hold for a policy that does not mention it.
        return HasTopLevelProperty(utf8Json, "requireSecureBoot") ? policy : policy with { RequireSecureBoot = true };
    }
}
