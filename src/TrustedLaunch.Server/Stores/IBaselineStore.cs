namespace TrustedLaunch.Server.Stores;

/// <summary>
/// The baseline learned for a VM (the verifier's <c>AttestationBaseline</c> in its JSON form) and whether its owner
/// asked for it to be learned again at the next passing attestation.
/// </summary>
public sealed record StoredBaseline(Guid VmId, string BaselineJson, DateTimeOffset LearnedAt, bool RelearnRequested, DateTimeOffset? RelearnRequestedAt);

/// <summary>Learned boot baselines per VM (GCP-style auto-learn at first good boot, relearn on request).</summary>
public interface IBaselineStore
{
    Task<StoredBaseline?> GetAsync(Guid vmId, CancellationToken cancellationToken);

    /// <summary>Stores a freshly learned baseline and clears any relearn request.</summary>
    Task SaveAsync(Guid vmId, string baselineJson, DateTimeOffset learnedAt, CancellationToken cancellationToken);

    /// <summary>Marks the VM's baseline to be replaced by the next passing attestation.</summary>
    Task RequestRelearnAsync(Guid vmId, DateTimeOffset at, CancellationToken cancellationToken);
}
