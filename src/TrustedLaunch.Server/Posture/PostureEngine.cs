using Microsoft.Extensions.Logging;
using TrustedLaunch.Attestation;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.State;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Posture.Alerts;
using TrustedLaunch.Posture.Assessments;
using TrustedLaunch.Posture.Inputs;
using TrustedLaunch.Posture.Suppression;
using TrustedLaunch.Server.Posture.Stores;
using TrustedLaunch.Server.Replicas;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Telemetry;

namespace TrustedLaunch.Server.Posture;

/// <summary>
/// What one run of the engine wrote: results folded, VMs evaluated, alerts created and suppressed, assessment statuses
/// set or changed (each a history row; a VM's first evaluation included) and events appended (alerts, and status
/// changes worth announcing). A run over inputs it has already evaluated writes nothing: all but <see cref="VmsEvaluated"/> are 0.
/// </summary>
public sealed record PostureRun(int Results, int VmsEvaluated, int AlertsCreated, int AlertsSuppressed, int StatusChanges, int Events);

/// <summary>
/// Evaluates posture from the stores: new attestation results of the VMs this engine claims (<see cref="SqlPostureWork"/>:
/// any replica's engine takes its share; each result folded exactly once, the claim released in the transaction that
/// writes what the result raised), VMs changed since their last evaluation (updates, host reports, boots), claimed the
/// same way (<see cref="SqlPostureVmChanges"/>), and on the maintenance leader every VM on a full sweep (freshness,
/// overdue agents, deleted VMs). The rules are the posture library's; this class
/// reads their inputs and writes their outputs.
/// </summary>
/// <remarks>
/// Idempotent: evaluating inputs again writes and announces nothing. Instants are taken at the stores' resolution (whole
/// milliseconds), so what a run holds in memory (the boot it saw begin) equals what the next run reads back. Runs of
/// this engine take turns; runs of other engines over the same database (replicas) may race, and then each batch
/// is written only if what it was computed from is unchanged (<see cref="PostureBatch"/>); the run that lost starts again.
/// </remarks>
public sealed partial class PostureEngine(
    IVirtualMachineStore machines,
    ISubscriptionStore subscriptions,
    SqlPostureStore store,
    SqlPostureWork work,
    SqlSecurityStore security,
    ReplicaOptions replica,
    PostureSignals signals,
    PostureOptions options,
    TimeProvider time,
    ILogger<PostureEngine> logger,
    ControlPlaneTelemetry? telemetry = null) : IDisposable
{
    private const int PageSize = 1000;

    // Rows read by VM id up to this many VMs (SQLite binds each id); beyond it, boots are read whole and assessments per VM.
    private const int MaxBoundIds = 1000;

    // A run that lost a race this often leaves the rest to the next interval.
    private const int MaxAttempts = 3;

    // Claim batches per run and kind of work: a run under a steady stream of results ends, and the other passes get their turn.
    private const int MaxClaimRounds = 8;

    // VM changes fed into the claim table per run (SqlPostureVmChanges.FeedAsync).
    private const int MaxFedChanges = 5000;

    private readonly SemaphoreSlim _gate = new(1, 1);

    // VM records and stored assessments kept between runs, each valid while the store's version of it is unchanged.
    private readonly PostureReadCache _cache = new(machines, store);

    // Plans and suppression rules at their version (SqlSecurityStore.SettingsVersionAsync); read and written only inside a run.
    private (long Version, Dictionary<string, PricingTier> Tiers, IReadOnlyList<SuppressionRule> Rules)? _settings;

    /// <summary>Whose claims this engine's are: the replica, and this engine among others in one process (tests, benchmarks).</summary>
    public string Claimant { get; } = $"{replica.ReplicaId}/{Guid.NewGuid().ToString("N")[..6]}";

    // Read and written only inside a run (under _gate); a VM gone from the store is dropped by the next sweep.
    private readonly Dictionary<Guid, (long ResultId, TrustedLaunch.Attestation.SecureBootKeys? Keys)> _attestedKeys = [];

    public SizeCatalog Sizes { get; init; } = SizeCatalog.Default;

    /// <summary>The new results and changed VMs this engine can claim, and (with <paramref name="fullSweep"/>: the maintenance leader's) every VM.</summary>
    public Task<PostureRun> RunOnceAsync(bool fullSweep, CancellationToken cancellationToken) => RunAsync(fullSweep, cancellationToken);

    /// <summary>Only the new results and changed VMs this engine can claim: what every replica does, leader or not.</summary>
    public Task<PostureRun> RunClaimedAsync(CancellationToken cancellationToken) => RunAsync(fullSweep: false, cancellationToken);

    private async Task<PostureRun> RunAsync(bool fullSweep, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var total = new Tally();
            for (int attempt = 1; ; attempt++)
            {
                (long settingsVersion, Dictionary<string, PricingTier> tiers, IReadOnlyList<SuppressionRule> rules) = await SettingsAsync(cancellationToken);
                var run = new RunState(StoredInstant(time.GetUtcNow()), tiers, rules) { SettingsVersion = settingsVersion };
                // A sweep evaluates every VM: read every observed boot once; otherwise only those of the VMs evaluated.
                if (fullSweep)
                    run.AddBoots(await store.ObservedVmsAsync(null, cancellationToken), vmIds: null);
                bool done = await ProcessClaimedResultsAsync(run, cancellationToken)
                    && await ProcessChangedVmsAsync(run, cancellationToken) && (!fullSweep || await SweepAsync(run, cancellationToken));
                total.Add(run.Committed);
                if (done || attempt == MaxAttempts)
                {
                    if (!done)
                        PostureLog.RaceLost(logger, attempt);
                    if (total.Events > 0)
                        signals.EventsAppended();
                    return new PostureRun(total.Results, total.Evaluated, total.Created, total.Suppressed, total.StatusChanges, total.Events);
                }

                PostureLog.EvaluatedElsewhere(logger, attempt);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    // Plans and rules as stored: read again only when their version moved (read first, so what is held is never older).
    private async Task<(long Version, Dictionary<string, PricingTier> Tiers, IReadOnlyList<SuppressionRule> Rules)> SettingsAsync(CancellationToken cancellationToken)
    {
        long version = await security.SettingsVersionAsync(cancellationToken);
        if (_settings is not { } held || held.Version != version)
        {
            held = (version, await security.TiersAsync(cancellationToken), await security.ListRulesAsync(null, cancellationToken));
            _settings = held;
        }

        return held;
    }

    /// <summary>An instant as the stores keep it (whole milliseconds).</summary>
    internal static DateTimeOffset StoredInstant(DateTimeOffset at) => DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds());

    // The VMs with new results this engine claims (any replica's engine may: docs/scale-out.md, posture work), a batch at
    // a time; each batch is written with its claims' release, so a result is folded by one committed batch.
    private async Task<bool> ProcessClaimedResultsAsync(RunState run, CancellationToken cancellationToken)
    {
        for (int round = 0; round < MaxClaimRounds; round++)
        {
            DateTimeOffset now = time.GetUtcNow();
            IReadOnlyList<PostureClaim> claims = await work.ClaimAsync(Claimant, now, now + replica.LeaseDuration, options.ResultBatchSize, cancellationToken);
            if (claims.Count == 0)
                return true;
            telemetry?.LeaseClaimed("posture", "claimed", claims.Count);
            List<AttestationRecord> results = [.. await work.ClaimedResultsAsync(claims, cancellationToken)];
            var batch = new PostureBatch { Claimant = Claimant };
            foreach (PostureClaim claim in claims)
            {
                long folded = claim.FoldedResultId;
                foreach (AttestationRecord result in results)
                {
                    if (result.VmId == claim.VmId)
                        folded = Math.Max(folded, result.Id);
                }

                batch.Releases.Add(new PostureRelease(claim.VmId, claim.FoldedResultId, folded, claim.StoredSeq, claim.RepeatEpoch));
            }

            // Only the VMs the control plane holds are evaluated (one read for the batch); results of VMs registered with
            // tl server vm add only are folded as nothing, at the cost of that one read.
            Dictionary<Guid, VirtualMachineRecord> vms = await _cache.VmsAsync([.. results.Select(r => r.VmId).Distinct()], cancellationToken);
            run.Pending.Results += results.Count;
            foreach (PostureClaim claim in claims)
            {
                if (!vms.ContainsKey(claim.VmId))
                    batch.Repeats[claim.VmId] = RepeatMark.NotInControlPlane(run.SettingsVersion);
            }

            if (vms.Count > 0)
                await FoldAsync(run, batch, results, vms, cancellationToken);
            if (!await ApplyAsync(run, batch, cancellationToken))
                return false;
            // A short batch took every VM there was: results stored since wake the worker again, so another claim (a write
            // statement) would most often find nothing.
            if (claims.Count < options.ResultBatchSize)
                return true;
        }

        return true;
    }

    // What the batch's VMs need is read once for all of them (a result's own reads would cost more than its rules).
    private async Task FoldAsync(RunState run, PostureBatch batch, List<AttestationRecord> results, Dictionary<Guid, VirtualMachineRecord> vms,
        CancellationToken cancellationToken)
    {
        Guid[] known = [.. vms.Keys];
        var latest = await LatestResultsAsync(results, known, cancellationToken);
        Dictionary<Guid, List<SecurityAlert>> open = await store.OpenAlertsOfAsync(known, cancellationToken);
        await ReadBootsAsync(run, known, cancellationToken);
        Dictionary<Guid, Dictionary<string, StoredAssessment>> assessments = await _cache.AssessmentsAsync(known, run.AssessmentVersions, cancellationToken);
        foreach (AttestationRecord result in results)
        {
            if (!vms.TryGetValue(result.VmId, out VirtualMachineRecord? vm))
                continue;
            PostureVm subject = Subject(vm, latest, run);
            if (run.AlertsOn(vm.SubscriptionId))
                FoldResult(run, batch, subject, Observe(run, result), open[vm.VmId]);
        }

        await EvaluateAsync(run, batch, [.. vms.Values], latest, assessments, open, cancellationToken);
        MarkRepeats(run, batch, results, vms, latest, assessments, open);
    }

    // Each VM's newest result and last agent answer. The claimed results are the VMs' newest (each VM's range runs to its
    // last result): when a VM's newest one is an answer, both are known without a read; the others are read.
    private async Task<Dictionary<Guid, (AttestationRecord? Latest, DateTimeOffset? LastAnswer)>> LatestResultsAsync(List<AttestationRecord> results,
        Guid[] vmIds, CancellationToken cancellationToken)
    {
        var newest = new Dictionary<Guid, AttestationRecord>();
        foreach (AttestationRecord result in results)
            newest[result.VmId] = result; // oldest first: the last one wins
        var latest = new Dictionary<Guid, (AttestationRecord? Latest, DateTimeOffset? LastAnswer)>();
        var unread = new List<Guid>();
        foreach (Guid vmId in vmIds)
        {
            if (newest.TryGetValue(vmId, out AttestationRecord? result) && AttestationObservations.IsAgentAnswer(result))
                latest[vmId] = (result, result.At);
            else
                unread.Add(vmId);
        }

        if (unread.Count > 0)
        {
            foreach ((Guid vmId, var read) in await store.LatestResultsAsync(unread, cancellationToken))
                latest[vmId] = read;
        }

        return latest;
    }

    // VMs written since they were last evaluated (updates, host reports, boots), claimed like results by any replica's engine
    // (docs/scale-out.md, posture work): fed from the VMs' change sequence, a batch at a time, each written with its claims'
    // release, so a change is evaluated by one committed batch and a killed replica's claims pass to another at expiry.
    private async Task<bool> ProcessChangedVmsAsync(RunState run, CancellationToken cancellationToken)
    {
        await work.VmChanges.FeedAsync(MaxFedChanges, cancellationToken);
        for (int round = 0; round < MaxClaimRounds; round++)
        {
            DateTimeOffset now = time.GetUtcNow();
            IReadOnlyList<VmChangeClaim> claims = await work.VmChanges.ClaimAsync(Claimant, now, now + replica.LeaseDuration, options.ResultBatchSize,
                cancellationToken);
            if (claims.Count == 0)
                return true;
            telemetry?.LeaseClaimed("posture-vm-changes", "claimed", claims.Count);
            IReadOnlyList<VirtualMachineRecord> vms = await machines.GetByVmIdsAsync([.. claims.Select(c => c.VmId)], cancellationToken);
            foreach (VirtualMachineRecord vm in vms)
                _cache.Remember(vm);

            var batch = new PostureBatch { Claimant = Claimant };
            batch.VmChanges.AddRange(claims); // a VM deleted since is released as evaluated: the sweep removes what it leaves
            Guid[] changed = [.. vms.Select(v => v.VmId)];
            var latest = await store.LatestResultsAsync(changed, cancellationToken);
            await ReadBootsAsync(run, changed, cancellationToken);
            var assessments = changed.Length <= MaxBoundIds ? await _cache.AssessmentsAsync(changed, run.AssessmentVersions, cancellationToken) : null;
            await EvaluateAsync(run, batch, vms, latest, assessments, openAlerts: null, cancellationToken);
            if (!await ApplyAsync(run, batch, cancellationToken))
                return false;
            if (claims.Count < options.ResultBatchSize)
                return true;
        }

        return true;
    }

    private async Task<bool> SweepAsync(RunState run, CancellationToken cancellationToken)
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
                {
                    seen.Add(vm.VmId);
                    _cache.Remember(vm);
                }
                await EvaluateAsync(run, batch, page.Items, latest, stored, openAlerts: null, cancellationToken);
                token = page.ContinuationToken;
            }
            while (token is not null);
        }

        batch.RemovedVms.AddRange(stored.Keys.Where(id => !seen.Contains(id)));
        foreach (Guid gone in _attestedKeys.Keys.Where(id => !seen.Contains(id)).ToArray())
            _attestedKeys.Remove(gone);
        _cache.KeepOnly(seen);
        int changes = run.Pending.StatusChanges;
        if (!await ApplyAsync(run, batch, cancellationToken))
            return false;
        PostureLog.Swept(logger, seen.Count, changes);
        return true;
    }

    // The observed boots of the VMs about to be evaluated that the run has not read yet (many: all of them at once).
    private async Task ReadBootsAsync(RunState run, IReadOnlyCollection<Guid> vmIds, CancellationToken cancellationToken)
    {
        Guid[] missing = vmIds.Where(id => !run.BootsRead(id)).ToArray();
        if (missing.Length == 0)
            return;
        Guid[]? ids = missing.Length > MaxBoundIds ? null : missing;
        run.AddBoots(await store.ObservedVmsAsync(ids, cancellationToken), ids);
    }

    // Writes the batch if what it was computed from still holds; the run's counts move only with what was written.
    private async Task<bool> ApplyAsync(RunState run, PostureBatch batch, CancellationToken cancellationToken)
    {
        bool applied = await store.ApplyAsync(batch, cancellationToken);
        if (applied)
        {
            run.Committed.Add(run.Pending);
            _cache.Written(batch);
        }

        run.Pending = new Tally();
        return applied;
    }

    // Assessments (only what changed is written; a status change is kept in the history and announced) and the overdue-agent
    // detection. openAlerts: the open alerts of the VMs as this batch already holds them (the results phase), else read.
    private async Task EvaluateAsync(RunState run, PostureBatch batch, IReadOnlyList<VirtualMachineRecord> vms,
        Dictionary<Guid, (AttestationRecord? Latest, DateTimeOffset? LastAnswer)> latest,
        Dictionary<Guid, Dictionary<string, StoredAssessment>>? assessmentsOfAll, Dictionary<Guid, List<SecurityAlert>>? openAlerts,
        CancellationToken cancellationToken)
    {
        foreach (VirtualMachineRecord vm in vms)
        {
            run.Pending.Evaluated++;
            if (vm.ProvisioningState == ProvisioningState.Deleting)
                continue;
            TrackBoot(run, batch, vm);
            PostureVm subject = Subject(vm, latest, run);
            Dictionary<string, StoredAssessment> stored = assessmentsOfAll is null
                ? (await store.ListAssessmentsAsync(null, null, vm.VmId, cancellationToken)).ToDictionary(a => a.Key, StringComparer.OrdinalIgnoreCase)
                : assessmentsOfAll.GetValueOrDefault(vm.VmId) ?? [];
            foreach (AssessmentOutcome outcome in AssessmentEvaluator.Evaluate(subject, run.Now))
                Compare(run, batch, vm, outcome, stored.GetValueOrDefault(outcome.Recommendation.Key));
            foreach (AssessmentOutcome outcome in SecureBootRolloverEvaluator.Evaluate(subject, AttestedKeys(run, latest, vm.VmId), options.NewestDbx))
                Compare(run, batch, vm, outcome, stored.GetValueOrDefault(outcome.Recommendation.Key));
            if (run.AlertsOn(vm.SubscriptionId) && AlertRules.Overdue(subject, run.Now) is AlertCandidate overdue)
            {
                List<SecurityAlert> open = openAlerts?.GetValueOrDefault(vm.VmId) ?? [.. await store.OpenAlertsAsync(vm.VmId, cancellationToken)];
                if (open.All(a => a.DedupKey != overdue.DedupKey)
                    && !AlertRules.RaisedForSameSilence(overdue, await store.LatestAlertAsync(vm.VmId, overdue.DedupKey, cancellationToken)))
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
        batch.Assessments.Add(new AssessmentWrite(stored, next, statusChanged));
        if (!statusChanged)
            return;
        run.Pending.StatusChanges++;
        // The first evaluation of a VM is announced only when it finds something to fix.
        if (stored is not null && stored.Status != outcome.Code || stored is null && outcome.Code == AssessmentStatusCode.Unhealthy)
        {
            run.Pending.Events++;
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
            Replace(batch.Alerts, open[i], updated);
            open[i] = updated;
            if (first)
            {
                run.Pending.Events++;
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
                run.Pending.Created++;
                run.Pending.Events++;
                open.Add(alert!);
                batch.Alerts.Add(new AlertWrite(null, alert!));
                batch.Events.Add(SecurityEvents.ForAlert(alert!, SecurityEvents.AlertCreated, run.Now, Guid.NewGuid()));
                break;
            case AlertChange.Suppressed:
                run.Pending.Suppressed++;
                batch.Alerts.Add(new AlertWrite(null, alert!));
                break;
            case AlertChange.Repeated:
                open[open.IndexOf(existing!)] = alert!;
                Replace(batch.Alerts, existing!, alert!);
                break;
        }
    }

    // One write per alert and batch: over the alert as read (or as new), whatever this batch did to it before.
    private static void Replace(List<AlertWrite> alerts, SecurityAlert previous, SecurityAlert next)
    {
        int index = alerts.FindIndex(a => a.Next.Name == next.Name);
        if (index >= 0)
            alerts[index] = alerts[index] with { Next = next };
        else
            alerts.Add(new AlertWrite(previous, next));
    }

    // The current boot: when the VM was first seen running (again, or with a higher restart generation).
    private static void TrackBoot(RunState run, PostureBatch batch, VirtualMachineRecord vm)
    {
        bool running = vm.ActualPower == PowerState.Running && vm.DesiredPower == DesiredPowerState.Running;
        VmBootState? previous = run.Boots.GetValueOrDefault(vm.VmId);
        DateTimeOffset? since = !running ? null
            : previous is { Running: true, RunningSince: not null } && previous.RestartGeneration == vm.RestartGeneration ? previous.RunningSince
            : StoredInstant(vm.LastReport?.ReportedAt ?? run.Now);
        var next = new VmBootState(vm.VmId, running, vm.RestartGeneration, since);
        if (next == previous)
            return;
        run.Boots[vm.VmId] = next;
        batch.BootStates.Add(new BootStateWrite(previous, next));
    }

    // The Secure Boot keys PCR 7 proved in the VM's newest result, when it passed (a failed one proves no keys to judge).
    // Remembered by result id: every sweep meets the same results again, and their claims are kilobytes of JSON.
    private TrustedLaunch.Attestation.SecureBootKeys? AttestedKeys(RunState run, Dictionary<Guid, (AttestationRecord? Latest, DateTimeOffset? LastAnswer)> latest,
        Guid vmId)
    {
        if (latest.GetValueOrDefault(vmId).Latest is not { Verdict: AttestationVerdict.Pass, ClaimsJson: not null } result)
            return null;
        if (_attestedKeys.TryGetValue(vmId, out var known) && known.ResultId == result.Id)
            return known.Keys;
        run.Observations[result.Id] = AttestationObservations.From(result, out TrustedLaunch.Attestation.SecureBootKeys? keys);
        _attestedKeys[vmId] = (result.Id, keys);
        return keys;
    }

    // A result as posture sees it, parsed once per run (a result is met by its fold, its VM's evaluation and the rollover
    // checks); a pass's attested keys are remembered on the way.
    private AttestationObservation Observe(RunState run, AttestationRecord result)
    {
        if (run.Observations.TryGetValue(result.Id, out AttestationObservation? seen))
            return seen;
        AttestationObservation observation = AttestationObservations.From(result, out TrustedLaunch.Attestation.SecureBootKeys? keys);
        run.Observations[result.Id] = observation;
        if (result.Verdict == AttestationVerdict.Pass && result.ClaimsJson is not null
            && (!_attestedKeys.TryGetValue(result.VmId, out var known) || known.ResultId <= result.Id))
            _attestedKeys[result.VmId] = (result.Id, keys);
        return observation;
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
            LatestAttestation = newest is null ? null : Observe(run, newest),
            LastAgentAnswerAt = answered,
        };
    }

    private sealed class RunState(DateTimeOffset now, Dictionary<string, PricingTier> tiers, IReadOnlyList<SuppressionRule> rules)
    {
        private readonly HashSet<Guid> _bootsRead = [];
        private bool _allBootsRead;

        public DateTimeOffset Now { get; } = now;

        /// <summary>The security settings' version the run's plans and rules are at (a repeat mark is valid at it only).</summary>
        public long SettingsVersion { get; init; }

        /// <summary>The observed boots read so far (and those this run saw begin).</summary>
        public Dictionary<Guid, VmBootState> Boots { get; } = [];

        /// <summary>Whether <see cref="Boots"/> holds what the store has for this VM (a VM never observed has nothing).</summary>
        public bool BootsRead(Guid vmId) => _allBootsRead || _bootsRead.Contains(vmId);

        /// <summary>The version of each VM's stored assessments, read with its boot (a VM never observed has none).</summary>
        public Dictionary<Guid, long> AssessmentVersions { get; } = [];

        /// <summary>Boots read for <paramref name="vmIds"/> (null: for every VM).</summary>
        public void AddBoots(Dictionary<Guid, ObservedVm> read, IReadOnlyCollection<Guid>? vmIds)
        {
            foreach ((Guid vmId, ObservedVm observed) in read)
            {
                Boots.TryAdd(vmId, observed.Boot);
                AssessmentVersions.TryAdd(vmId, observed.AssessmentsVersion);
            }

            if (vmIds is null)
                _allBootsRead = true;
            else
                _bootsRead.UnionWith(vmIds);
        }

        /// <summary>The results met in this run as posture sees them, by result id.</summary>
        public Dictionary<long, AttestationObservation> Observations { get; } = [];

        /// <summary>What the batch being built will write.</summary>
        public Tally Pending { get; set; } = new();

        /// <summary>What the run's applied batches wrote.</summary>
        public Tally Committed { get; } = new();

        public bool AlertsOn(string subscriptionId) => tiers.TryGetValue(subscriptionId, out PricingTier tier) && tier == PricingTier.Standard;

        public SuppressionRule[] RulesOf(string subscriptionId) =>
            rules.Where(r => string.Equals(r.SubscriptionId, subscriptionId, StringComparison.OrdinalIgnoreCase)).ToArray();
    }

    private sealed class Tally
    {
        public int Results { get; set; }

        public int Evaluated { get; set; }

        public int Created { get; set; }

        public int Suppressed { get; set; }

        public int StatusChanges { get; set; }

        public int Events { get; set; }

        public void Add(Tally other)
        {
            Results += other.Results;
            Evaluated += other.Evaluated;
            Created += other.Created;
            Suppressed += other.Suppressed;
            StatusChanges += other.StatusChanges;
            Events += other.Events;
        }
    }
}
