using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TrustedLaunch.Attestation;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Server.Stores;
using TrustedLaunch.Server.Telemetry;

namespace TrustedLaunch.Server;

/// <summary>
/// The attestation workflow behind the HTTP API, independent of HTTP: issue a challenge, take evidence (parse, spend
/// the nonce, verify with the library verifier against the VM's CA, baseline and reference policy, learn the baseline
/// on the first pass or on request, issue a token), and record every result. Holds no per-VM state in memory (parsed
/// policies are cached, but checked against the store on every use), so replicas sharing the stores are interchangeable.
/// </summary>
public sealed class AttestationService(
    INonceStore nonces,
    IAttestationResultStore results,
    IBaselineStore baselines,
    IAttestationStateStore states,
    IVmRegistry vms,
    ReferencePolicyCache policyCache,
    BaselineCache baselineCache,
    ServiceTrust trust,
    AttestationVerifier verifier,
    TokenService tokens,
    AttestationServiceOptions options,
    TimeProvider time,
    AttestationTelemetry telemetry,
    ILogger<AttestationService> logger)
{
    /// <summary>A fresh single-use nonce for a registered VM; null when the VM is unknown.</summary>
    public async Task<IssuedNonce?> IssueChallengeAsync(Guid vmId, CancellationToken cancellationToken)
    {
        DateTimeOffset now = time.GetUtcNow();
        var nonce = new IssuedNonce(vmId, RandomNumberGenerator.GetBytes(options.NonceBytes), now, now + options.NonceLifetime);
        // One statement decides "registered?" and stores the nonce: one write turn per challenge, no separate read.
        using (telemetry.StartStep("store", time))
        {
            if (!await nonces.AddForRegisteredVmAsync(nonce, cancellationToken))
                return null;
        }

        telemetry.NonceIssued();
        return nonce;
    }

    /// <summary>Appraises one evidence body (UTF-8 JSON) for <paramref name="vmId"/> and records the result.</summary>
    public async Task<AttestationOutcome> AttestAsync(Guid vmId, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        using System.Diagnostics.Activity? activity = AttestationTelemetry.StartAttestation(vmId);
        long start = time.GetTimestamp();
        AttestationOutcome outcome = await DecideAsync(vmId, body, cancellationToken);
        telemetry.Decided(activity, outcome, time.GetElapsedTime(start));
        return outcome;
    }

    private async Task<AttestationOutcome> DecideAsync(Guid vmId, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        // Parsed first, so the one read below can take the presented nonce's row with the VM's state.
        AttestationEvidence? evidence = null;
        EvidenceFormatException? malformation = null;
        try
        {
            evidence = EvidenceJson.Parse(body.Span);
        }
        catch (EvidenceFormatException e)
        {
            malformation = e;
        }

        // The VM, its policy, baseline, quote clock and the presented nonce in one read. Reading the baseline and the
        // clock before the nonce is spent decides nothing differently: a concurrent attestation can move either at any
        // point before this one's result is stored, and the clock's conditional upsert never moves it back.
        AttestationState? state;
        using (telemetry.StartStep("store", time))
            state = await states.ReadAsync(vmId, evidence is null ? ReadOnlyMemory<byte>.Empty : evidence.Nonce, cancellationToken);
        if (state is null)
            return new AttestationOutcome { Kind = AttestationOutcomeKind.UnknownVm, Reason = "UnknownVm", Message = $"VM {vmId} is not registered." };

        // Resolved before the nonce is spent: a VM without a usable CA or policy is a configuration error, not the VM's fault.
        RegisteredVm vm = state.Vm;
        X509Certificate2Collection akCa = trust.AkCaFor(vm);
        ReferencePolicy? policy = PolicyFor(state);
        DateTimeOffset now = time.GetUtcNow();
        if (evidence is null)
        {
            string field = malformation!.Field;
            Log.EvidenceMalformed(logger, vmId, field);
            string component = "evidence: " + field;
            AttestationRecord malformed = await RecordFailureAsync(vmId, now, nameof(AttestationFailureReason.EvidenceMalformed), component, malformation.Message, null, cancellationToken);
            return new AttestationOutcome
            {
                Kind = AttestationOutcomeKind.Malformed, Record = malformed, Reason = malformed.Reason, Component = component, Message = malformation.Message,
            };
        }

        // A nonce that was never issued to this VM, is spent or expired is refused before any verification work. Only
        // the spend in the result's transaction decides a valid-looking one (two requests may present it at once).
        NonceConsumption spendable = state.Nonce?.SpendableAt(now) ?? NonceConsumption.Unknown;
        if (spendable != NonceConsumption.Consumed)
            return await NonceRejectedAsync(vmId, now, spendable, cancellationToken);

        StoredBaseline? stored = state.Baseline;
        // Compared with the newest quote ever accepted for this VM; the verifier lets an older one through only as a
        // concurrent attestation of the same boot (nonce issued before that acceptance, bounded lag, short window).
        StoredQuoteClock? lastClock = state.QuoteClock;
        bool learn = stored is null || stored.RelearnRequested;
        var expectations = new AttestationExpectations
        {
            VmId = vmId,
            Nonce = evidence.Nonce,
            AkCaCertificates = akCa,
            Baseline = learn ? null : baselineCache.Get(stored!),
            Policy = policy,
            PreviousQuoteClock = lastClock?.Clock,
            PreviousQuoteAcceptedAt = lastClock?.SeenAt,
            NonceIssuedAt = state.Nonce!.IssuedAt,
            ConcurrentAttestationWindow = options.ConcurrentAttestationWindow,
            VerificationTime = now,
        };
        AttestationResult result;
        using (telemetry.StartStep("verify", time))
            result = verifier.Verify(evidence, expectations);

        // Every quote that verified moves the VM's clock on, passed or failed later (baseline, policy): it is genuine
        // and fresh. An older quote carries no clock. Written in the result's transaction.
        if (!result.Passed)
        {
            AttestationFailure failure = result.Failure!;
            Log.AttestationFailed(logger, vmId, failure.Reason, failure.Component);
            SpentResult spentFailed = await StoreSpendingAsync(new AttestationRecord
            {
                VmId = vmId, At = now, Verdict = AttestationVerdict.Fail, Reason = failure.Reason.ToString(), Component = failure.Component,
                Message = failure.Message, ClaimsJson = SummaryJson(result),
            }, new AttestationStateWrites(result.QuoteClock, null, now), evidence.Nonce, cancellationToken);
            if (spentFailed.Record is not { } failed)
                return await NonceRejectedAsync(vmId, now, spentFailed.Nonce, cancellationToken);
            return new AttestationOutcome
            {
                Kind = failure.Reason == AttestationFailureReason.EvidenceMalformed ? AttestationOutcomeKind.Malformed : AttestationOutcomeKind.Failed,
                Record = failed, Result = result, Reason = failed.Reason, Component = failure.Component, Message = failure.Message,
            };
        }

        // A key change the platform armed (a certificate rollover) explains the PCR 7 change: relearn, attributed to it.
        // The learned baseline is written in the result's transaction (with the clock): stored together or not at all.
        SanctionedKeyChange? sanctioned = learn ? null : expectations.Baseline!.SanctionedChangeIn(result.BootState!);
        string? learnedJson = null;
        if (learn || sanctioned is not null)
        {
            AttestationBaseline learned = AttestationBaseline.Learn(result, time) with { LearnedForOperation = sanctioned?.OperationId };
            learnedJson = Encoding.UTF8.GetString(learned.ToJson());
        }

        var writes = new AttestationStateWrites(result.QuoteClock, learnedJson, now);

        IssuedToken token;
        using (telemetry.StartStep("token", time))
            token = tokens.Issue(result, vmId);
        if (evidence.Tpm.BoundKey is not null && result.BoundKey is null)
        {
            // The VM passed, but asked for a token only its vTPM can read and sent a key that does not guarantee that:
            // recorded as a pass without a token (no jti), and nothing readable is returned.
            BoundKeyFailure refused = result.BoundKeyFailure!;
            Log.BoundKeyRefused(logger, vmId, refused.Reason, refused.Component);
            SpentResult spentUntokened = await StoreSpendingAsync(new AttestationRecord
            {
                VmId = vmId, At = now, Verdict = AttestationVerdict.Pass, ClaimsJson = token.ClaimsJson, Reason = "BoundKeyRefused",
                Component = refused.Component, Message = $"{refused.Reason}: {refused.Message}",
            }, writes, evidence.Nonce, cancellationToken);
            if (spentUntokened.Record is not { } untokened)
                return await NonceRejectedAsync(vmId, now, spentUntokened.Nonce, cancellationToken);
            LogRelearned(vmId, sanctioned);
            return new AttestationOutcome
            {
                Kind = AttestationOutcomeKind.BoundKeyRefused, Record = untokened, Result = result, Reason = "BoundKeyRefused",
                Component = refused.Component, Message = untokened.Message, BaselineLearned = learn || sanctioned is not null, BoundKeyFailure = refused,
            };
        }

        // The token is returned only once its result is stored with the nonce spent: a nonce backs at most one token.
        SpentResult spentPassed = await StoreSpendingAsync(new AttestationRecord
        {
            VmId = vmId, At = now, Verdict = AttestationVerdict.Pass, ClaimsJson = token.ClaimsJson, TokenId = token.Id,
        }, writes, evidence.Nonce, cancellationToken);
        if (spentPassed.Record is not { } passed)
            return await NonceRejectedAsync(vmId, now, spentPassed.Nonce, cancellationToken);
        LogRelearned(vmId, sanctioned);
        bool baselineLearned = learn || sanctioned is not null;
        Log.AttestationPassed(logger, baselineLearned ? LogLevel.Information : LogLevel.Debug, vmId, passed.Id, baselineLearned);
        bool bound = result.BoundKey is not null;
        return new AttestationOutcome
        {
            Kind = AttestationOutcomeKind.Passed, Record = passed, Result = result, BaselineLearned = baselineLearned, TokenBound = bound,
            Token = bound ? TokenService.EncryptTo(token.Jws, result.BoundKey!) : token.Jws,
        };
    }

    /// <summary>Records that the host-side relay got no answer from the VM's guest agent; null when the VM is unknown.</summary>
    public async Task<AttestationRecord?> RecordAgentUnresponsiveAsync(Guid vmId, string? detail, CancellationToken cancellationToken)
    {
        if (await vms.GetAsync(vmId, cancellationToken) is null)
            return null;
        string message = string.IsNullOrWhiteSpace(detail) ? "The guest attestation agent did not answer the challenge." : detail.Trim();
        Log.AgentUnresponsive(logger, vmId);
        telemetry.AgentUnresponsive();
        return await RecordFailureAsync(vmId, time.GetUtcNow(), nameof(AttestationFailureReason.AgentUnresponsive), "guest agent",
            message, null, cancellationToken);
    }

    /// <summary>
    /// Arms a Secure Boot key change on the VM's baseline: its next boot may change PCR 7 exactly as <paramref name="change"/>
    /// says and the baseline is relearned for the operation; any other PCR 7 change still deviates. Null when the VM is
    /// unknown; false when it has no baseline yet (its first pass learns one anyway).
    /// </summary>
    public async Task<bool?> ArmKeyChangeAsync(Guid vmId, SanctionedKeyChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (await vms.GetAsync(vmId, cancellationToken) is null)
            return null;
        if (await baselines.GetAsync(vmId, cancellationToken) is not { } stored)
            return false;
        if (stored.RelearnRequested)
            return true; // the next pass relearns the whole baseline anyway; saving here would drop that request
        AttestationBaseline armed = AttestationBaseline.FromJson(Encoding.UTF8.GetBytes(stored.BaselineJson)) with { PendingKeyChange = change };
        await baselines.SaveAsync(vmId, Encoding.UTF8.GetString(armed.ToJson()), stored.LearnedAt, cancellationToken);
        KeyChangeLog.Armed(logger, vmId, change.OperationId);
        return true;
    }

    /// <summary>Asks for the VM's baseline to be learned again at its next pass; false when the VM is unknown.</summary>
    public async Task<bool> RequestRelearnAsync(Guid vmId, CancellationToken cancellationToken)
    {
        if (await vms.GetAsync(vmId, cancellationToken) is null)
            return false;
        await baselines.RequestRelearnAsync(vmId, time.GetUtcNow(), cancellationToken);
        Log.RelearnRequested(logger, vmId);
        return true;
    }

    // Null: the verifier's built-in minimum. A named policy that is gone means the database was edited around the
    // stores (they refuse to remove a policy in use): fail closed, as for a missing CA, rather than attest to less.
    private ReferencePolicy? PolicyFor(AttestationState state)
    {
        if (state.Vm.PolicyName is null)
            return null;
        StoredPolicy stored = state.Policy
            ?? throw new StoreException($"VM {state.Vm.VmId} names the policy '{state.Vm.PolicyName}', which is not stored.");
        return policyCache.Get(stored);
    }

    private void LogRelearned(Guid vmId, SanctionedKeyChange? sanctioned)
    {
        if (sanctioned is not null)
            KeyChangeLog.Relearned(logger, vmId, sanctioned.OperationId);
    }

    private async Task<AttestationOutcome> NonceRejectedAsync(Guid vmId, DateTimeOffset now, NonceConsumption consumption, CancellationToken cancellationToken)
    {
        telemetry.NonceSpent(consumption);
        string message = consumption switch
        {
            NonceConsumption.AlreadyUsed => "The nonce was already used by an earlier attestation (replay).",
            NonceConsumption.Expired => "The nonce expired; request a new challenge.",
            _ => "The nonce was not issued to this VM by this service.",
        };
        Log.NonceRejected(logger, vmId, consumption);
        AttestationRecord rejected = await RecordFailureAsync(vmId, now, "NonceRejected", "nonce: " + consumption, message, null, cancellationToken);
        return new AttestationOutcome
        {
            Kind = AttestationOutcomeKind.NonceRejected, Record = rejected, Reason = rejected.Reason, Component = rejected.Component, Message = message,
        };
    }

    private Task<AttestationRecord> RecordFailureAsync(Guid vmId, DateTimeOffset at, string reason, string component, string message,
        string? summaryJson, CancellationToken cancellationToken) =>
        StoreAsync(new AttestationRecord
        {
            VmId = vmId, At = at, Verdict = AttestationVerdict.Fail, Reason = reason, Component = component, Message = message, ClaimsJson = summaryJson,
        }, cancellationToken);

    private async Task<AttestationRecord> StoreAsync(AttestationRecord record, CancellationToken cancellationToken)
    {
        using (telemetry.StartStep("store", time))
            return await results.AddAsync(record, cancellationToken);
    }

    // The nonce is spent in the result's transaction: spent and stored, or neither (docs/attestation-service.md, nonces).
    private async Task<SpentResult> StoreSpendingAsync(AttestationRecord record, AttestationStateWrites writes, ReadOnlyMemory<byte> nonce,
        CancellationToken cancellationToken)
    {
        SpentResult spent;
        using (telemetry.StartStep("store", time))
            spent = await results.AddSpendingNonceAsync(record, writes, nonce, cancellationToken);
        if (spent.Record is not null)
            telemetry.NonceSpent(NonceConsumption.Consumed);
        return spent;
    }

    // What a failed result still tells (deviations, policy violations, early/late verdicts), kept with the record.
    // Posture reads the structured deviations (stage, PCR, bank, values) and the guest's findings from it (docs/posture.md).
    private static string SummaryJson(AttestationResult result) =>
        JsonSerializer.Serialize(new FailureSummary(result.EarlyBoot.ToString(), result.LateBoot.ToString(),
            result.Deviations.Select(d => d.Description).ToArray(), result.PolicyName,
            result.PolicyViolations.Select(v => v.Message).ToArray(),
            result.Deviations.Select(d => new DeviationSummary(d.Stage.ToString(), d.Pcr, d.Bank, d.Expected, d.Actual, d.Description)).ToArray(),
            result.Findings.Select(f => new FindingSummary(f.Kind, f.Module, f.Message, f.At)).ToArray()), ServiceJson.Options);

    private sealed record FailureSummary(string EarlyBoot, string LateBoot, string[] Deviations, string? Policy, string[] PolicyViolations,
        DeviationSummary[] PcrDeviations, FindingSummary[] Findings);

    private sealed record DeviationSummary(string Stage, int Pcr, string Bank, string Expected, string Actual, string Description);

    private sealed record FindingSummary(string Kind, string? Module, string Message, DateTimeOffset At);
}
