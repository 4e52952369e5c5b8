using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Posture.Inputs;
using TrustedLaunch.Server.Posture.Stores;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Posture;

/// <summary>
/// The engine's repeat marks (docs/posture.md, a repeat folded where it is stored): after a batch, what a result like each
/// VM's newest would do, tried on a scratch batch; when that is nothing but one more occurrence of open alerts, the mark
/// that lets such a result be folded where it is stored.
/// </summary>
public sealed partial class PostureEngine
{
    // Each folded VM's repeat mark (docs/posture.md, a repeat folded where it is stored): what a result like its newest would
    // do after this batch, tried on a scratch batch. When that is nothing, or one more occurrence of open alerts, such a
    // result is folded in its own transaction until the VM, the settings, its alerts or its posture change.
    private void MarkRepeats(RunState run, PostureBatch batch, List<AttestationRecord> results, Dictionary<Guid, VirtualMachineRecord> vms,
        Dictionary<Guid, (AttestationRecord? Latest, DateTimeOffset? LastAnswer)> latest,
        Dictionary<Guid, Dictionary<string, StoredAssessment>> assessments, Dictionary<Guid, List<SecurityAlert>> open)
    {
        var newest = new Dictionary<Guid, AttestationRecord>();
        foreach (AttestationRecord result in results)
            newest[result.VmId] = result; // oldest first: the last one wins
        foreach ((Guid vmId, AttestationRecord result) in newest)
        {
            if (!vms.TryGetValue(vmId, out VirtualMachineRecord? vm) || vm.ProvisioningState == ProvisioningState.Deleting
                || PostureFingerprint.Of(result) is not string fingerprint)
                continue;
            // Tried at two instants: now, and past the freshness deadline in another second, so that nothing a later
            // arrival would change (a time in a description, an overdue agent) is missed.
            TimeSpan deadline = TimeSpan.FromSeconds((double)AssessmentEvaluator.FreshnessIntervals
                * Math.Max(1, vm.Model.Properties.TrustedLaunchExtensions?.AttestationIntervalSeconds ?? 60) + 1);
            Dictionary<string, StoredAssessment>? stored = assessments.GetValueOrDefault(vmId);
            if (RepeatedBy(run, batch, vm, result, latest, stored, open[vmId], run.Now) is not { } repeated
                || RepeatedBy(run, batch, vm, result, latest, stored, open[vmId], run.Now + deadline) is not { } later || later.Count != repeated.Count)
                continue;
            string tag = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{fingerprint}:{result.Id}");
            foreach (SecurityAlert alert in repeated)
            {
                int index = batch.Alerts.FindIndex(a => a.Next.Name == alert.Name);
                if (index >= 0)
                    batch.Alerts[index] = batch.Alerts[index] with { RepeatsWith = tag };
                else
                    batch.Alerts.Add(new AlertWrite(alert, alert, tag));
            }

            batch.Repeats[vmId] = new RepeatMark(fingerprint, tag, vm.ChangeSequence, run.SettingsVersion);
        }
    }

    // The open alerts a result like <paramref name="result"/>, arriving at <paramref name="at"/>, would only count again;
    // null when it would do anything else (raise, suppress or annotate an alert, change an assessment, announce something).
    private List<SecurityAlert>? RepeatedBy(RunState run, PostureBatch batch, VirtualMachineRecord vm, AttestationRecord result,
        Dictionary<Guid, (AttestationRecord? Latest, DateTimeOffset? LastAnswer)> latest, Dictionary<string, StoredAssessment>? stored,
        List<SecurityAlert> open, DateTimeOffset at)
    {
        AttestationObservation probe = Observe(run, result) with { ResultId = long.MaxValue, At = at };
        PostureVm subject = Subject(vm, latest, run) with
        {
            LatestAttestation = probe,
            LastAgentAnswerAt = AttestationObservations.IsAgentAnswer(result) ? at : latest.GetValueOrDefault(vm.VmId).LastAnswer,
        };
        var after = new Dictionary<string, StoredAssessment>(stored ?? [], StringComparer.OrdinalIgnoreCase);
        foreach (AssessmentWrite write in batch.Assessments)
        {
            if (write.Next.VmId == vm.VmId)
                after[write.Next.Key] = write.Next;
        }

        var scratch = new PostureBatch();
        Tally pending = run.Pending;
        run.Pending = new Tally();
        try
        {
            if (run.AlertsOn(vm.SubscriptionId))
            {
                if (AlertRules.Overdue(subject, at) is not null)
                    return null;
                FoldResult(run, scratch, subject, probe, [.. open]);
            }

            foreach (AssessmentOutcome outcome in AssessmentEvaluator.Evaluate(subject, at))
                Compare(run, scratch, vm, outcome, after.GetValueOrDefault(outcome.Recommendation.Key));
            foreach (AssessmentOutcome outcome in SecureBootRolloverEvaluator.Evaluate(subject, AttestedKeys(run, latest, vm.VmId), options.NewestDbx))
                Compare(run, scratch, vm, outcome, after.GetValueOrDefault(outcome.Recommendation.Key));
            if (scratch.Assessments.Count > 0 || scratch.Events.Count > 0)
                return null;
            var repeated = new List<SecurityAlert>(scratch.Alerts.Count);
            foreach (AlertWrite write in scratch.Alerts)
            {
                if (write.Previous is not { } before || !PlainRepeat(before, write.Next))
                    return null;
                repeated.Add(before);
            }

            return repeated;
        }
        finally
        {
            run.Pending = pending;
        }
    }

    // One more occurrence and nothing else: what a repeat folded where it is stored counts (count, end time, last result,
    // and the extended properties naming them); every other field is the same (the record's equality, once those are
    // set aside; the alert's lists are the open alert's own unless the fold replaced them).
    private static bool PlainRepeat(SecurityAlert before, SecurityAlert after) =>
        after with
        {
            Count = before.Count, EndTimeUtc = before.EndTimeUtc, LastResultId = before.LastResultId, ExtendedProperties = before.ExtendedProperties,
            SupportingEvidence = before.SupportingEvidence,
        } == before
        && SameProperties(before.ExtendedProperties, after.ExtendedProperties) && SameProperties(after.ExtendedProperties, before.ExtendedProperties)
        && before.SupportingEvidence.Title == after.SupportingEvidence.Title
        && before.SupportingEvidence.Columns.SequenceEqual(after.SupportingEvidence.Columns)
        && before.SupportingEvidence.Rows.Count == after.SupportingEvidence.Rows.Count
        && before.SupportingEvidence.Rows.Zip(after.SupportingEvidence.Rows).All(rows => rows.First.SequenceEqual(rows.Second));

    // Every property of <paramref name="some"/> but the occurrence's own is in <paramref name="other"/> with its value.
    private static bool SameProperties(IReadOnlyDictionary<string, string> some, IReadOnlyDictionary<string, string> other)
    {
        foreach ((string key, string value) in some)
        {
            if (key is not ("occurrences" or "attestationResultId") && (!other.TryGetValue(key, out string? found) || found != value))
                return false;
        }

        return true;
    }
}
