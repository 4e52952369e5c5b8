using System.Globalization;
using TrustedLaunch.Posture.Suppression;

namespace TrustedLaunch.Posture.Alerts;

/// <summary>What folding a detection into the alerts did.</summary>
public enum AlertChange
{
    /// <summary>Nothing: the open alert already holds this result.</summary>
    None,

    /// <summary>A new alert, Active: notify.</summary>
    Created,

    /// <summary>A new alert that a suppression rule dismissed: stored Dismissed, not notified.</summary>
    Suppressed,

    /// <summary>One more occurrence of an open alert (count and <c>endTimeUtc</c> moved).</summary>
    Repeated,

    /// <summary>A later pass was added to an open attestation-failed alert (its status is unchanged).</summary>
    PassRecorded,
}

/// <summary>
/// Folds detections into alerts: one open alert per VM, type and reason; repeats count and move <c>endTimeUtc</c>;
/// a new alert a suppression rule matches is stored Dismissed; a later pass never resolves an attestation-failed alert
/// silently, it is written into it. Pure: the caller supplies the open alert, the rules, the time and the new name.
/// </summary>
public static class AlertLedger
{
    /// <summary>Folds <paramref name="candidate"/> into <paramref name="open"/> (the open alert with its key, if any).</summary>
    public static (SecurityAlert? Alert, AlertChange Change) Fold(AlertCandidate candidate, SecurityAlert? open, PostureSubject subject,
        IReadOnlyList<SuppressionRule> rules, DateTimeOffset now, Guid id)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(rules);
        if (open is not null)
        {
            if (candidate.ResultId != 0 && candidate.ResultId <= open.LastResultId)
                return (open, AlertChange.None);
            var properties = new Dictionary<string, string>(candidate.ExtendedProperties, StringComparer.Ordinal)
            {
                ["occurrences"] = (open.Count + 1).ToString(CultureInfo.InvariantCulture),
            };
            CarryPasses(open, properties);
            SecurityAlert repeated = open with
            {
                Count = open.Count + 1,
                EndTimeUtc = candidate.At > open.EndTimeUtc ? candidate.At : open.EndTimeUtc,
                LastResultId = Math.Max(open.LastResultId, candidate.ResultId),
                ExtendedProperties = properties,
                SupportingEvidence = candidate.SupportingEvidence,
            };
            return (repeated, AlertChange.Repeated);
        }

        string name = NewName(now, id);
        var fresh = new SecurityAlert
        {
            Name = name,
            SubscriptionId = subject.SubscriptionId,
            Location = subject.Location,
            AlertType = candidate.AlertType,
            SystemAlertId = name,
            AlertDisplayName = candidate.DisplayName,
            Description = candidate.Description,
            Severity = candidate.Severity,
            Intent = candidate.Intent,
            Status = AlertStatus.Active,
            TimeGeneratedUtc = now,
            StartTimeUtc = candidate.At,
            EndTimeUtc = candidate.At,
            CompromisedEntity = subject.Name,
            ResourceId = subject.ResourceId,
            ResourceGroup = subject.ResourceGroup,
            VmId = subject.VmId,
            Reason = candidate.Reason,
            DedupKey = candidate.DedupKey,
            Count = 1,
            ExtendedProperties = new Dictionary<string, string>(candidate.ExtendedProperties, StringComparer.Ordinal) { ["occurrences"] = "1" },
            RemediationSteps = candidate.RemediationSteps,
            Entities = Entities(subject, candidate),
            CorrelationKey = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(candidate.DedupKey)),
            SupportingEvidence = candidate.SupportingEvidence,
            StatusChangedAt = now,
            LastResultId = candidate.ResultId,
        };
        SuppressionRule? suppressing = rules.FirstOrDefault(r => r.Matches(fresh, now));
        if (suppressing is null)
            return (fresh, AlertChange.Created);
        return (fresh with { Status = AlertStatus.Dismissed, SuppressedBy = suppressing.Name }, AlertChange.Suppressed);
    }

    /// <summary>
    /// A pass after an open attestation-failed alert: the alert stays as it is (someone must look at it), and says that
    /// the VM has attested cleanly since, when, and how often.
    /// </summary>
    public static (SecurityAlert Alert, AlertChange Change) AddPass(SecurityAlert open, long resultId, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(open);
        if (resultId <= open.LastResultId)
            return (open, AlertChange.None);
        int passes = open.ExtendedProperties.TryGetValue("passesSinceAlert", out string? n) && int.TryParse(n, CultureInfo.InvariantCulture, out int p) ? p : 0;
        var properties = new Dictionary<string, string>(open.ExtendedProperties, StringComparer.Ordinal)
        {
            ["passesSinceAlert"] = (passes + 1).ToString(CultureInfo.InvariantCulture),
            ["lastPassAt"] = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["lastPassResultId"] = resultId.ToString(CultureInfo.InvariantCulture),
        };
        if (!properties.ContainsKey("firstPassAt"))
            properties["firstPassAt"] = properties["lastPassAt"];
        return (open with { ExtendedProperties = properties, LastResultId = resultId }, AlertChange.PassRecorded);
    }

    /// <summary>Applies a status action (<c>activate</c>, <c>inProgress</c>, <c>resolve</c>, <c>dismiss</c>).</summary>
    public static SecurityAlert WithStatus(SecurityAlert alert, AlertStatus status, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(alert);
        return alert.Status == status ? alert : alert with { Status = status, StatusChangedAt = now };
    }

    /// <summary>Reverse ticks (so names sort newest first, as Azure's do), an underscore and a GUID.</summary>
    public static string NewName(DateTimeOffset now, Guid id) =>
        string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.MaxValue.UtcTicks - now.UtcTicks:D19}_{id:D}");

    private static void CarryPasses(SecurityAlert open, Dictionary<string, string> properties)
    {
        foreach (string key in new[] { "passesSinceAlert", "firstPassAt", "lastPassAt", "lastPassResultId" })
        {
            if (open.ExtendedProperties.TryGetValue(key, out string? value))
                properties[key] = value;
        }
    }

    private static AlertEntity[] Entities(PostureSubject subject, AlertCandidate candidate)
    {
        var vm = new AlertEntity("azure-resource", new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["$id"] = "1", ["resourceId"] = subject.ResourceId, ["resourceName"] = subject.Name, ["vmId"] = subject.VmId.ToString("D"),
        });
        if (!candidate.ExtendedProperties.TryGetValue("module", out string? module))
            return [vm];
        return [vm, new AlertEntity("file", new Dictionary<string, string>(StringComparer.Ordinal) { ["$id"] = "2", ["name"] = module, ["host"] = "1" })];
    }
}

/// <summary>The VM an alert is about.</summary>
public sealed record PostureSubject(string SubscriptionId, string ResourceGroup, string Name, string ResourceId, Guid VmId, string Location)
{
    public static PostureSubject Of(Inputs.PostureVm vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        return new(vm.SubscriptionId, vm.ResourceGroup, vm.Name, vm.ResourceId, vm.VmId, vm.Location);
    }
}
