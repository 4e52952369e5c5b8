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
