using TrustedLaunch.Attestation;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.Stores;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.ControlPlane;

/// <summary>The control plane's view of the attestation service's reference policies.</summary>
public sealed class ReferencePolicyLookup(IPolicyStore policies) : IReferencePolicyLookup
{
    public async Task<bool> ExistsAsync(string name, CancellationToken cancellationToken) =>
        PolicyDocument.IsValidName(name) && await policies.GetAsync(name, cancellationToken) is not null;
}

/// <summary>The latest attestation result of a VM (its <c>vmId</c> is the attested VM id), for the instance view.</summary>
public sealed class AttestationStatusSource(IAttestationResultStore results) : IAttestationStatusSource
{
    public async Task<AttestationSummary?> GetLatestAsync(Guid vmId, CancellationToken cancellationToken) =>
        await results.GetLatestAsync(vmId, cancellationToken) is AttestationRecord latest
            ? new AttestationSummary(latest.Verdict == AttestationVerdict.Pass ? "pass" : "fail", latest.Reason, latest.Component, latest.Message, latest.At)
            : null;
}

/// <summary>
/// Feeds the attestation registry from the control plane: a Trusted Launch VM with a vTPM is registered under its
/// <c>vmId</c> with its reference policy (trusting the service's <c>--ca</c>, which certified its vTPM), and removed when deleted.
/// </summary>
public sealed class AttestationEnrollment(IVmRegistry registry, TimeProvider time) : IAttestationEnrollment
{
    public async Task EnrollAsync(Guid vmId, string? referencePolicy, CancellationToken cancellationToken)
    {
        RegisteredVm? existing = await registry.GetAsync(vmId, cancellationToken);
        if (existing is not null && existing.PolicyName == referencePolicy)
            return;
        // False only when the policy was removed between the request's check and now; the VM then stays as it was.
        await registry.RegisterAsync(new RegisteredVm(vmId, existing?.AkCaCertificatesPem, existing?.RegisteredAt ?? time.GetUtcNow(), referencePolicy),
            cancellationToken);
    }

    public async Task WithdrawAsync(Guid vmId, CancellationToken cancellationToken) => await registry.RemoveAsync(vmId, cancellationToken);
}

/// <summary>The control plane's key updates arm their sanctioned relearn on the attestation service's baseline of the VM.</summary>
public sealed class KeyChangeSanctions(AttestationService attestation, TimeProvider time) : IKeyChangeSanctions
{
    public async Task<bool> ArmAsync(Guid vmId, string operationId, SecureBootKeyDigests keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var change = new SanctionedKeyChange
        {
            OperationId = operationId, ArmedAt = time.GetUtcNow(), Kek = keys.Kek, Db = keys.Db, DbxCount = keys.DbxCount, DbxDigest = keys.DbxDigest,
        };
        return await attestation.ArmKeyChangeAsync(vmId, change, cancellationToken) == true;
    }
}
