using System.Text.Json;
using TrustedLaunch.Attestation;

namespace TrustedLaunch.Portal.Data;

/// <summary>One PCR of one bank: the baseline's value and what the latest attestation measured.</summary>
/// <param name="Current">The latest value; null when the latest result did not keep it (a deviating PCR in a bank that was not compared).</param>
public sealed record PcrRow(string Bank, int Index, string Baseline, string? Current, bool Differs, string? Explanation);

/// <summary>
/// The PCR table of the Security page. The verifier compares every baseline PCR at each attestation and a failed result
/// keeps each deviation (stage, PCR, bank, expected, actual), so the current value is the baseline's unless a deviation
/// names it; a pass means every baseline PCR matched.
/// </summary>
public static class PcrComparison
{
    /// <param name="latestFailureSummary">The latest result's claims when it failed (its appraisal summary), else null.</param>
    public static IReadOnlyList<PcrRow> Rows(AttestationBaseline baseline, JsonElement? latestFailureSummary)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        var deviations = new List<(string Bank, int Pcr, string Actual, string Description)>();
        if (latestFailureSummary is JsonElement summary && summary.ValueKind == JsonValueKind.Object
            && summary.TryGetProperty("pcrDeviations", out JsonElement list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement d in list.EnumerateArray())
            {
                deviations.Add((d.GetProperty("bank").GetString() ?? "", d.GetProperty("pcr").GetInt32(), d.GetProperty("actual").GetString() ?? "",
                    d.TryGetProperty("description", out JsonElement text) ? text.GetString() ?? "" : ""));
            }
        }

        var rows = new List<PcrRow>();
        foreach ((string bank, IReadOnlyDictionary<int, string> values) in baseline.BootState.Pcrs.OrderBy(b => b.Key == baseline.Bank ? 0 : 1).ThenBy(b => b.Key, StringComparer.Ordinal))
        {
            foreach ((int index, string value) in values.OrderBy(v => v.Key))
            {
                var exact = deviations.FirstOrDefault(d => d.Pcr == index && string.Equals(d.Bank, bank, StringComparison.OrdinalIgnoreCase));
                if (exact.Actual is { Length: > 0 })
                {
                    rows.Add(new PcrRow(bank, index, value, exact.Actual, !string.Equals(exact.Actual, value, StringComparison.OrdinalIgnoreCase), exact.Description));
                    continue;
                }

                var other = deviations.FirstOrDefault(d => d.Pcr == index);
                rows.Add(other.Actual is { Length: > 0 }
                    ? new PcrRow(bank, index, value, null, true, $"deviates in {other.Bank}: {other.Description}")
                    : new PcrRow(bank, index, value, value, false, null));
            }
        }

        return rows;
    }
}
