namespace TrustedLaunch.Portal.Data;

/// <summary>A VM's learned baseline (the verifier's <c>AttestationBaseline</c> JSON), as the host stores it.</summary>
public sealed record VmBaseline(string Json, DateTimeOffset LearnedAt, bool RelearnRequested);

/// <summary>The one thing the portal reads that no API serves: the baseline a VM's boots are compared with.</summary>
public interface IVmBaselineSource
{
    Task<VmBaseline?> GetAsync(Guid vmId, CancellationToken cancellationToken);
}
