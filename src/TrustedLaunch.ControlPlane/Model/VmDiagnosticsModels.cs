using TrustedLaunch.ControlPlane.Hosts;

namespace TrustedLaunch.ControlPlane.Model;

/// <summary>
/// <c>GET …/virtualMachines/{vm}/shieldedInstanceIdentity</c> (ours; Azure has no such call): the vTPM's endorsement and
/// attestation keys with their platform certificates, in the shape of GCP's <c>getShieldedInstanceIdentity</c>
/// (<c>encryptionKey</c> = the RSA EK, <c>signingKey</c> = the AK, each <c>{ekCert, ekPub}</c> in PEM) plus every key.
/// </summary>
public sealed record ShieldedInstanceIdentity
{
    public string Kind { get; init; } = "trustedlaunch#shieldedInstanceIdentity";

    public required string VmId { get; init; }

    public ShieldedInstanceIdentityEntry? EncryptionKey { get; init; }

    public ShieldedInstanceIdentityEntry? SigningKey { get; init; }

    /// <summary>Every identity key of the vTPM (RSA and ECC EKs, the AK), with handles and NV indices.</summary>
    public required IReadOnlyList<VTpmKeyReport> Keys { get; init; }
}

/// <summary>One key as GCP names it: its certificate and its public key, PEM.</summary>
public sealed record ShieldedInstanceIdentityEntry(string? EkCert, string? EkPub);

/// <summary><c>POST …/virtualMachines/{vm}/retrieveBootDiagnosticsData</c> (Azure's): where the serial console log is.</summary>
public sealed record RetrieveBootDiagnosticsDataResult
{
    public string? ConsoleScreenshotBlobUri { get; init; }

    public string? SerialConsoleLogBlobUri { get; init; }
}

/// <summary><c>POST …/virtualMachines/{vm}/attest</c> (ours): the VM's host attests it now; the result lands in the attestation store.</summary>
public sealed record AttestationRequestResult
{
    public required string VmId { get; init; }

    public required DateTimeOffset RequestedAt { get; init; }

    /// <summary>Where the result appears (the attestation API's latest result of the VM).</summary>
    public required string ResultUrl { get; init; }
}
