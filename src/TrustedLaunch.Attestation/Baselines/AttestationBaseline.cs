using System.Globalization;
using System.Text.Json;

namespace TrustedLaunch.Attestation;

/// <summary>Which half of the boot a PCR belongs to (GCP Shielded VM's early/late split; the PCR assignment is ours).</summary>
public enum BootStage
{
    /// <summary>Firmware and Secure Boot configuration: PCRs 0-3, 5, 7.</summary>
    Early,

    /// <summary>Boot loader, kernel, command line, shim MOK state: PCRs 4, 8, 9, 14.</summary>
    Late,
}

/// <summary>One PCR that differs from the baseline: expected and actual value, and what changed in words.</summary>
public sealed record BaselineDeviation(BootStage Stage, int Pcr, string Bank, string Expected, string Actual, string Description);

/// <summary>
/// A VM's learned boot: the PCR values of one verified boot, split into early and late boot, plus the appraised
/// boot state so a later deviation can be explained ("PCR 8: kernel command line changed from … to …").
/// Learned from the first good boot; relearning is <see cref="Learn"/> again from a newer verified result.
/// </summary>
public sealed record AttestationBaseline
{
    /// <summary>The baseline JSON schema version.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Early-boot PCRs.</summary>
    public static IReadOnlyList<int> EarlyBootPcrs { get; } = [0, 1, 2, 3, 5, 7];

    /// <summary>Late-boot PCRs.</summary>
    public static IReadOnlyList<int> LateBootPcrs { get; } = [4, 8, 9, 14];

    /// <summary>Schema version.</summary>
    public int Version { get; init; } = CurrentVersion;

    /// <summary>The VM the baseline was learned for.</summary>
    public Guid? VmId { get; init; }

    /// <summary>When it was learned.</summary>
    public required DateTimeOffset LearnedAt { get; init; }

    /// <summary>The bank the values are in (sha256 when quoted, else the strongest quoted bank).</summary>
    public required string Bank { get; init; }

    /// <summary>Early-boot PCR index to lowercase hex.</summary>
    public required IReadOnlyDictionary<int, string> EarlyBoot { get; init; }

    /// <summary>Late-boot PCR index to lowercase hex.</summary>
    public required IReadOnlyDictionary<int, string> LateBoot { get; init; }

    /// <summary>The appraised boot the values came from.</summary>
    public required AttestedBootState BootState { get; init; }

    /// <summary>A Secure Boot key change armed for the next boot: the PCR 7 change it explains is not a deviation.</summary>
    public SanctionedKeyChange? PendingKeyChange { get; init; }

    /// <summary>The operation whose sanctioned key change this baseline was relearned for; null for a baseline learned otherwise.</summary>
    public string? LearnedForOperation { get; init; }

    /// <summary>
    /// Learns a baseline from a result whose evidence was authentic: passed, or failed only on a baseline or policy
    /// deviation (that is how a relearn after an intended change works).
    /// </summary>
    /// <exception cref="ArgumentException">The result's quote or event log did not verify.</exception>
    public static AttestationBaseline Learn(AttestationResult result, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.BootState is null || result.Failure is { Reason: not (AttestationFailureReason.BaselineDeviation or AttestationFailureReason.PolicyDeviation) })
        {
            throw new ArgumentException($"a baseline can only be learned from verified evidence; this result failed with {result.Failure}", nameof(result));
        }

        AttestedBootState boot = result.BootState;
        string bank = boot.Pcrs.ContainsKey("sha256") ? "sha256" : boot.Pcrs.Keys.OrderByDescending(k => k.Length).ThenByDescending(k => k, StringComparer.Ordinal).First();
        IReadOnlyDictionary<int, string> values = boot.Pcrs[bank];
        return new AttestationBaseline
        {
            VmId = result.VmId,
            LearnedAt = (time ?? TimeProvider.System).GetUtcNow(),
            Bank = bank,
            EarlyBoot = Select(values, EarlyBootPcrs),
            LateBoot = Select(values, LateBootPcrs),
            BootState = boot,
        };
    }

    /// <summary>Compares an appraised boot with this baseline; empty when every baseline PCR matches.</summary>
    public IReadOnlyList<BaselineDeviation> Compare(AttestedBootState actual)
    {
        ArgumentNullException.ThrowIfNull(actual);
        var deviations = new List<BaselineDeviation>();
        actual.Pcrs.TryGetValue(Bank, out IReadOnlyDictionary<int, string>? values);
        foreach ((BootStage stage, IReadOnlyDictionary<int, string> expected) in new[] { (BootStage.Early, EarlyBoot), (BootStage.Late, LateBoot) })
        {
            foreach ((int pcr, string expectedHex) in expected.OrderBy(p => p.Key))
            {
                string? actualHex = values is not null && values.TryGetValue(pcr, out string? v) ? v : null;
                if (actualHex is null)
                {
                    deviations.Add(new BaselineDeviation(stage, pcr, Bank, expectedHex, "",
                        string.Create(CultureInfo.InvariantCulture, $"PCR {pcr}: not quoted in the {Bank} bank")));
                }
                else if (!string.Equals(expectedHex, actualHex, StringComparison.OrdinalIgnoreCase) && !IsSanctioned(pcr, actual))
                {
                    deviations.Add(new BaselineDeviation(stage, pcr, Bank, expectedHex, actualHex,
                        BaselineDescriber.Describe(pcr, BootState, actual, expectedHex, actualHex)));
                }
            }
        }

        // Early boot first: a changed firmware or Secure Boot configuration explains late-boot changes too.
        return deviations.OrderBy(d => d.Stage).ThenBy(d => d.Pcr == 7 ? -1 : d.Pcr).ToArray();
    }

    /// <summary>
    /// The armed key change, when <paramref name="actual"/> differs from this baseline in PCR 7 and the change explains
    /// it: the service then relearns the baseline from that boot, recording the operation. Null otherwise.
    /// </summary>
    public SanctionedKeyChange? SanctionedChangeIn(AttestedBootState actual)
    {
        ArgumentNullException.ThrowIfNull(actual);
        if (PendingKeyChange is null || !EarlyBoot.TryGetValue(7, out string? expected))
            return null;
        string? pcr7 = actual.Pcrs.TryGetValue(Bank, out var values) && values.TryGetValue(7, out string? v) ? v : null;
        return pcr7 is not null && !string.Equals(expected, pcr7, StringComparison.OrdinalIgnoreCase) && PendingKeyChange.Explains(BootState, actual)
            ? PendingKeyChange
            : null;
    }

    private bool IsSanctioned(int pcr, AttestedBootState actual) => pcr == 7 && PendingKeyChange is { } change && change.Explains(BootState, actual);

    /// <summary>Serializes to indented UTF-8 JSON.</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, AttestationJsonContext.Default.AttestationBaseline);

    /// <summary>Reads a baseline written by <see cref="ToJson"/>.</summary>
    /// <exception cref="FormatException">The JSON is not a baseline of a supported version.</exception>
    public static AttestationBaseline FromJson(ReadOnlySpan<byte> utf8Json)
    {
        AttestationBaseline? baseline;
        try
        {
            baseline = JsonSerializer.Deserialize(utf8Json, AttestationJsonContext.Default.AttestationBaseline);
        }
        catch (JsonException e)
        {
            throw new FormatException($"not a baseline: {e.Message}", e);
        }

        if (baseline is null || baseline.Version != CurrentVersion)
            throw new FormatException($"baseline version {baseline?.Version} is not supported (expected {CurrentVersion})");
        return baseline;
    }

    private static SortedDictionary<int, string> Select(IReadOnlyDictionary<int, string> values, IReadOnlyList<int> indices)
    {
        var selected = new SortedDictionary<int, string>();
        foreach (int i in indices)
        {
            if (values.TryGetValue(i, out string? v))
                selected[i] = v;
        }

        return selected;
    }
}
