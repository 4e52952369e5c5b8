using System.Globalization;
using System.Text.Json;
using TrustedLaunch.Attestation;
using TrustedLaunch.Posture.Inputs;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Posture;

/// <summary>
/// Reads a stored attestation result as posture sees it: the reason and component of a failure, the structured
/// deviations and findings of its summary, and for a pass the findings and policy of its token's claims.
/// </summary>
internal static class AttestationObservations
{
    public static AttestationObservation From(AttestationRecord record) => From(record, out _);

    /// <summary>
    /// The observation and, for a pass, the Secure Boot keys its claims prove (<see cref="SecureBootKeysClaim"/>; null when
    /// absent), from one parse of the claims: they are kilobytes, and posture reads both of every result it folds.
    /// </summary>
    public static AttestationObservation From(AttestationRecord record, out SecureBootKeys? keys)
    {
        ArgumentNullException.ThrowIfNull(record);
        keys = null;
        var deviations = new List<DeviationObservation>();
        var violations = new List<string>();
        var findings = new List<FindingObservation>();
        string? policy = null;
        if (record.ClaimsJson is string json)
        {
            try
            {
                using JsonDocument document = JsonDocument.Parse(json);
                JsonElement root = document.RootElement;
                if (record.Verdict == AttestationVerdict.Pass)
                {
                    policy = Text(root, AttestationClaims.Policy);
                    ReadFindings(root, AttestationClaims.Findings, findings);
                    keys = SecureBootKeysClaim.Read(root);
                }
                else
                {
                    policy = Text(root, "policy");
                    ReadFindings(root, "findings", findings);
                    if (root.TryGetProperty("pcrDeviations", out JsonElement list) && list.ValueKind == JsonValueKind.Array)
                    {
                        foreach (JsonElement d in list.EnumerateArray())
                        {
                            deviations.Add(new DeviationObservation(Text(d, "stage") ?? "", d.TryGetProperty("pcr", out JsonElement pcr) ? pcr.GetInt32() : -1,
                                Text(d, "bank") ?? "", Text(d, "expected") ?? "", Text(d, "actual") ?? "", Text(d, "description") ?? ""));
                        }
                    }

                    if (root.TryGetProperty("policyViolations", out JsonElement v) && v.ValueKind == JsonValueKind.Array)
                        violations.AddRange(v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!));
                }
            }
            catch (JsonException)
            {
                // A summary that is not JSON (edited database): the reason and component still say what failed.
            }
        }

        return new AttestationObservation
        {
            ResultId = record.Id,
            At = record.At,
            Passed = record.Verdict == AttestationVerdict.Pass,
            Reason = record.Reason,
            Component = record.Component,
            Message = record.Message,
            Deviations = deviations,
            PolicyViolations = violations,
            Findings = findings,
            Policy = policy,
        };
    }

    /// <summary>Whether the result carries the agent's evidence (it answered), as opposed to the host saying it did not.</summary>
    public static bool IsAgentAnswer(AttestationRecord record) =>
        record.Verdict == AttestationVerdict.Pass
        || record.Reason is not (nameof(AttestationFailureReason.AgentUnresponsive) or "NonceRejected");

    private static void ReadFindings(JsonElement root, string name, List<FindingObservation> into)
    {
        if (!root.TryGetProperty(name, out JsonElement list) || list.ValueKind != JsonValueKind.Array)
            return;
        foreach (JsonElement f in list.EnumerateArray())
        {
            if (f.ValueKind != JsonValueKind.Object || Text(f, "kind") is not string kind)
                continue;
            DateTimeOffset at = Text(f, "at") is string text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset parsed)
                ? parsed
                : DateTimeOffset.UnixEpoch;
            into.Add(new FindingObservation(kind, Text(f, "module"), Text(f, "message") ?? "", at));
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
