using Microsoft.Extensions.Logging;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Posture.Inputs;
using TrustedLaunch.Posture.Suppression;
using TrustedLaunch.Server.Posture.Stores;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Posture;

/// <summary>What one run of the engine did.</summary>
public sealed record PostureRun(int Results, int VmsEvaluated, int AlertsCreated, int AlertsSuppressed, int StatusChanges);

/// <summary>
/// Evaluates posture from the stores: new attestation results (in id order, each exactly once: the cursor moves in the
/// transaction that writes what the result raised), VMs changed since the last run (updates, host reports, boots), and
/// every VM on a full sweep (freshness, overdue agents, deleted VMs). The rules are the posture library's; this class
/// reads their inputs and writes their outputs.
/// </summary>
public sealed class PostureEngine(
    IVirtualMachineStore machines,
    ISubscriptionStore subscriptions,
    SqlitePostureStore store,
    SqliteSecurityStore security,
    PostureSignals signals,
    PostureOptions options,
    TimeProvider time,
    ILogger<PostureEngine> logger)
{
    private const int PageSize = 1000;

    public SizeCatalog Sizes { get; init; } = SizeCatalog.Default;

    /// <summary>New results, changed VMs, and (with <paramref name="fullSweep"/>) every VM.</summary>
    public async Task<PostureRun> RunOnceAsync(bool fullSweep, CancellationToken cancellationToken)
    {
        var run = new RunState(time.GetUtcNow(), await security.TiersAsync(cancellationToken), await security.ListRulesAsync(null, cancellationToken),
            await store.BootStatesAsync(cancellationToken));
        await ProcessResultsAsync(run, cancellationToken);
        await ProcessChangedVmsAsync(run, cancellationToken);
        if (fullSweep)
            await SweepAsync(run, cancellationToken);
        if (run.Events > 0)
            signals.EventsAppended();
        return new PostureRun(run.Results, run.Evaluated, run.Created, run.Suppressed, run.StatusChanges);
    }

    private async Task ProcessResultsAsync(RunState run, CancellationToken cancellationToken)
    {
        while (true)
        {
            long cursor = await store.GetCursorAsync(SqlitePostureStore.ResultsCursor, cancellationToken);
            IReadOnlyList<AttestationRecord> results = await store.ResultsAfterAsync(cursor, options.ResultBatchSize, cancellationToken);
            if (results.Count == 0)
                return;
            var batch = new PostureBatch();
            Guid[] vmIds = results.Select(r => r.VmId).Distinct().ToArray();
            var vms = new Dictionary<Guid, VirtualMachineRecord>();
            foreach (Guid id in vmIds)
            {
                if (await machines.GetByVmIdAsync(id, cancellationToken) is VirtualMachineRecord vm)
                    vms[id] = vm;
            }

            var latest = await store.LatestResultsAsync(vms.Keys.ToArray(), cancellationToken);
            var open = new Dictionary<Guid, List<SecurityAlert>>();
            foreach (AttestationRecord result in results)
            {
                run.Results++;
                // A result of a VM the control plane does not hold (registered with tl server vm add only) has no resource to alert on.
                if (!vms.TryGetValue(result.VmId, out VirtualMachineRecord? vm))
                    continue;
                if (!open.TryGetValue(vm.VmId, out List<SecurityAlert>? alerts))
                    open[vm.VmId] = alerts = [.. await store.OpenAlertsAsync(vm.VmId, cancellationToken)];
                PostureVm subject = Subject(vm, latest, run);
                if (run.AlertsOn(vm.SubscriptionId))
                    FoldResult(run, batch, subject, AttestationObservations.From(result), alerts);
            }

            foreach (VirtualMachineRecord vm in vms.Values)
                await EvaluateAsync(run, batch, [vm], latest, assessmentsOfAll: null, cancellationToken);
            batch.Cursors[SqlitePostureStore.ResultsCursor] = results[^1].Id;
            await store.ApplyAsync(batch, cancellationToken);
        }
    }

    private async Task ProcessChangedVmsAsync(RunState run, CancellationToken cancellationToken)
    {
        long cursor = await store.GetCursorAsync(SqlitePostureStore.VmChangesCursor, cancellationToken);
        (IReadOnlyList<Guid> ids, long newest) = await store.ChangedVmsAsync(cursor, cancellationToken);
        if (newest == cursor)
            return;
        var vms = new List<VirtualMachineRecord>();
        foreach (Guid id in ids.Distinct())
        {
            if (await machines.GetByVmIdAsync(id, cancellationToken) is VirtualMachineRecord vm)
                vms.Add(vm);
        }

        var batch = new PostureBatch();
        var latest = await store.LatestResultsAsync(vms.Select(v => v.VmId).ToArray(), cancellationToken);
        await EvaluateAsync(run, batch, vms, latest, assessmentsOfAll: null, cancellationToken);
        batch.Cursors[SqlitePostureStore.VmChangesCursor] = newest;
        await store.ApplyAsync(batch, cancellationToken);
    }

    private async Task SweepAsync(RunState run, CancellationToken cancellationToken)
    {
        var latest = await store.LatestResultsAsync(null, cancellationToken);
        var stored = (await store.ListAssessmentsAsync(null, null, null, cancellationToken)).GroupBy(a => a.VmId)
            .ToDictionary(g => g.Key, g => g.ToDictionary(a => a.Key, StringComparer.OrdinalIgnoreCase));
        var seen = new HashSet<Guid>();
        var batch = new PostureBatch();
        foreach (SubscriptionRecord subscription in await subscriptions.ListAsync(cancellationToken))
        {
            string? token = null;
            do
            {
                Page<VirtualMachineRecord> page = await machines.ListAsync(subscription.SubscriptionId, null, token, PageSize, cancellationToken);
                foreach (VirtualMachineRecord vm in page.Items)
                    seen.Add(vm.VmId);
                await EvaluateAsync(run, batch, page.Items, latest, stored, cancellationToken);
                token = page.ContinuationToken;
            }
            while (token is not null);
        }

        batch.RemovedVms.AddRange(stored.Keys.Where(id => !seen.Contains(id)));
        await store.ApplyAsync(batch, cancellationToken);
        PostureLog.Swept(logger, seen.Count, run.StatusChanges);
    }

    // Assessments (only what changed is written; a status change is kept in the history and announced) and the overdue-agent detection.
    private async Task EvaluateAsync(RunState run, PostureBatch batch, IReadOnlyList<VirtualMachineRecord> vms,
        Dictionary<Guid, (AttestationRecord? Latest, DateTimeOffset? LastAnswer)> latest,
        Dictionary<Guid, Dictionary<string, StoredAssessment>>? assessmentsOfAll, CancellationToken cancellationToken)
    {
        foreach (VirtualMachineRecord vm in vms)
        {
            run.Evaluated++;
            if (vm.ProvisioningState == ProvisioningState.Deleting)
                continue;
            TrackBoot(run, batch, vm);
            PostureVm subject = Subject(vm, latest, run);
            Dictionary<string, StoredAssessment> stored = assessmentsOfAll is null
                ? (await store.ListAssessmentsAsync(null, null, vm.VmId, cancellationToken)).ToDictionary(a => a.Key, StringComparer.OrdinalIgnoreCase)
                : assessmentsOfAll.GetValueOrDefault(vm.VmId) ?? [];
            foreach (AssessmentOutcome outcome in AssessmentEvaluator.Evaluate(subject, run.Now))
                Compare(run, batch, vm, outcome, stored.GetValueOrDefault(outcome.Recommendation.Key));
            if (run.AlertsOn(vm.SubscriptionId) && AlertRules.Overdue(subject, run.Now) is AlertCandidate overdue)
            {
                List<SecurityAlert> open = [.. await store.OpenAlertsAsync(vm.VmId, cancellationToken)];
                if (open.All(a => a.DedupKey != overdue.DedupKey))
                    Fold(run, batch, subject, overdue, open);
            }
        }
    }

    private static void Compare(RunState run, PostureBatch batch, VirtualMachineRecord vm, AssessmentOutcome outcome, StoredAssessment? stored)
    {
        bool statusChanged = stored is null || stored.Status != outcome.Code || stored.Cause != outcome.Cause;
        if (!statusChanged && stored!.Description == outcome.Description && stored.ResourceId == vm.ResourceId)
            return;
        var next = new StoredAssessment
        {
            VmId = vm.VmId,
            Key = outcome.Recommendation.Key,
            SubscriptionId = vm.SubscriptionId,
            ResourceGroup = vm.ResourceGroup,
            ResourceId = vm.ResourceId,
            Status = outcome.Code,
            Cause = outcome.Cause,
            Description = outcome.Description,
            FirstEvaluatedAt = stored?.FirstEvaluatedAt ?? run.Now,
            StatusChangedAt = statusChanged ? run.Now : stored!.StatusChangedAt,
        };
        batch.Assessments.Add(next);
        if (!statusChanged)
            return;
        batch.History.Add((vm.VmId, next.Key, new AssessmentHistoryEntry(next.Status, next.Cause, next.Description, run.Now)));
        // The first evaluation of a VM is announced only when it finds something to fix.
        if (stored is not null && stored.Status != outcome.Code || stored is null && outcome.Code == AssessmentStatusCode.Unhealthy)
        {
            run.StatusChanges++;
            run.Events++;
            batch.Events.Add(SecurityEvents.ForAssessment(next, run.Now, Guid.NewGuid()));
        }
    }

    private static void FoldResult(RunState run, PostureBatch batch, PostureVm vm, AttestationObservation result, List<SecurityAlert> open)
    {
        foreach (AlertCandidate candidate in AlertRules.Detect(vm, result))
            Fold(run, batch, vm, candidate, open);
        if (!result.Passed)
            return;
        for (int i = 0; i < open.Count; i++)
        {
            if (open[i].AlertType != AlertTypes.AttestationFailed)
                continue;
            (SecurityAlert updated, AlertChange change) = AlertLedger.AddPass(open[i], result.ResultId, result.At);
            if (change == AlertChange.None)
                continue;
            bool first = !open[i].ExtendedProperties.ContainsKey("firstPassAt");
            open[i] = updated;
            Replace(batch.Alerts, updated);
            if (first)
            {
                run.Events++;
                batch.Events.Add(SecurityEvents.ForAlert(updated, SecurityEvents.AlertUpdated, run.Now, Guid.NewGuid()));
            }
        }
    }

    private static void Fold(RunState run, PostureBatch batch, PostureVm vm, AlertCandidate candidate, List<SecurityAlert> open)
    {
        SecurityAlert? existing = open.FirstOrDefault(a => a.DedupKey == candidate.DedupKey);
        IReadOnlyList<SuppressionRule> rules = run.RulesOf(vm.SubscriptionId);
        (SecurityAlert? alert, AlertChange change) = AlertLedger.Fold(candidate, existing, PostureSubject.Of(vm), rules, run.Now, Guid.NewGuid());
        switch (change)
        {
            case AlertChange.Created:
                run.Created++;
                run.Events++;
                open.Add(alert!);
                batch.Alerts.Add(alert!);
                batch.Events.Add(SecurityEvents.ForAlert(alert!, SecurityEvents.AlertCreated, run.Now, Guid.NewGuid()));
                break;
            case AlertChange.Suppressed:
                run.Suppressed++;
                batch.Alerts.Add(alert!);
                break;
            case AlertChange.Repeated:
                open[open.IndexOf(existing!)] = alert!;
                Replace(batch.Alerts, alert!);
                break;
        }
    }

    private static void Replace(List<SecurityAlert> alerts, SecurityAlert alert)
    {
        int index = alerts.FindIndex(a => a.Name == alert.Name);
        if (index >= 0)
            alerts[index] = alert;
        else
            alerts.Add(alert);
    }

    // The current boot: when the VM was first seen running (again, or with a higher restart generation).
    private static void TrackBoot(RunState run, PostureBatch batch, VirtualMachineRecord vm)
    {
        bool running = vm.ActualPower == PowerState.Running && vm.DesiredPower == DesiredPowerState.Running;
        VmBootState? previous = run.Boots.GetValueOrDefault(vm.VmId);
        DateTimeOffset? since = !running ? null
            : previous is { Running: true, RunningSince: not null } && previous.RestartGeneration == vm.RestartGeneration ? previous.RunningSince
            : vm.LastReport?.ReportedAt ?? run.Now;
        // At the precision the store keeps (milliseconds), so this run judges the boot time the next run reads back.
        if (since is DateTimeOffset exact)
            since = DateTimeOffset.FromUnixTimeMilliseconds(exact.ToUnixTimeMilliseconds());
        var next = new VmBootState(vm.VmId, running, vm.RestartGeneration, since);
        if (next == previous)
            return;
        run.Boots[vm.VmId] = next;
        batch.BootStates.Add(next);
    }

    private PostureVm Subject(VirtualMachineRecord vm, Dictionary<Guid, (AttestationRecord? Latest, DateTimeOffset? LastAnswer)> latest, RunState run)
    {
        VirtualMachineProperties properties = vm.Model.Properties;
        UefiSettings? uefi = properties.SecurityProfile?.UefiSettings;
        bool trustedLaunch = string.Equals(properties.SecurityProfile?.SecurityType, "TrustedLaunch", StringComparison.OrdinalIgnoreCase);
        string size = properties.HardwareProfile?.VmSize ?? "";
        (AttestationRecord? newest, DateTimeOffset? answered) = latest.GetValueOrDefault(vm.VmId);
        VmBootState? boot = run.Boots.GetValueOrDefault(vm.VmId);
        return new PostureVm
        {
            ResourceId = vm.ResourceId,
            SubscriptionId = vm.SubscriptionId,
            ResourceGroup = vm.ResourceGroup,
            Name = vm.Name,
            VmId = vm.VmId,
            Location = vm.Location,
            TrustedLaunch = trustedLaunch,
            SecureBootEnabled = trustedLaunch && uefi?.SecureBootEnabled == true,
            VTpmEnabled = trustedLaunch && uefi?.VTpmEnabled == true,
            Generation = vm.Generation == HyperVGeneration.V1 ? VmGeneration.V1 : VmGeneration.V2,
            VmSize = size,
            SizeSupportsTrustedLaunch = Sizes.Find(size)?.TrustedLaunch,
            Running = vm.ActualPower == PowerState.Running && vm.DesiredPower == DesiredPowerState.Running,
            RunningSince = boot?.RunningSince,
            AttestationIntervalSeconds = properties.TrustedLaunchExtensions?.AttestationIntervalSeconds ?? 60,
            LatestAttestation = newest is null ? null : AttestationObservations.From(newest),
            LastAgentAnswerAt = answered,
        };
    }

    private sealed class RunState(DateTimeOffset now, Dictionary<string, PricingTier> tiers, IReadOnlyList<SuppressionRule> rules,
        Dictionary<Guid, VmBootState> boots)
    {
        public DateTimeOffset Now { get; } = now;

        public Dictionary<Guid, VmBootState> Boots { get; } = boots;

        public int Results { get; set; }

        public int Evaluated { get; set; }

        public int Created { get; set; }

        public int Suppressed { get; set; }

        public int StatusChanges { get; set; }

        public int Events { get; set; }

        public bool AlertsOn(string subscriptionId) => tiers.TryGetValue(subscriptionId, out PricingTier tier) && tier == PricingTier.Standard;

        public SuppressionRule[] RulesOf(string subscriptionId) =>
            rules.Where(r => string.Equals(r.SubscriptionId, subscriptionId, StringComparison.OrdinalIgnoreCase)).ToArray();
    }
}
