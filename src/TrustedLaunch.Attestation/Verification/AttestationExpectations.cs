using System.Security.Cryptography.X509Certificates;

namespace TrustedLaunch.Attestation;

/// <summary>What the verifier knows independently of the evidence: who should be attesting, to which challenge, under which trust anchors.</summary>
public sealed record AttestationExpectations
{
    /// <summary>The VM the evidence must come from (the id in its AK certificate).</summary>
    public required Guid VmId { get; init; }

    /// <summary>The nonce the verifier issued; the quote's extraData must equal it (compared in constant time).</summary>
    public required ReadOnlyMemory<byte> Nonce { get; init; }

    /// <summary>The platform vTPM AK CA and its root (<c>vtpm-ak-ca.crt</c>, <c>root-ca.crt</c>); self-signed members are trust anchors.</summary>
    public required X509Certificate2Collection AkCaCertificates { get; init; }

    /// <summary>The VM's learned baseline, or null for none.</summary>
    public AttestationBaseline? Baseline { get; init; }

    /// <summary>A named reference policy; null applies <see cref="ReferencePolicy.Minimum"/>.</summary>
    public ReferencePolicy? Policy { get; init; }

    /// <summary>The clock of the VM's last accepted quote; the new quote must not be older (see <see cref="QuoteClock.RegressionFrom"/>). Null: not checked.</summary>
    public QuoteClock? PreviousQuoteClock { get; init; }

    /// <summary>The time certificate validity is judged at; null means now.</summary>
    public DateTimeOffset? VerificationTime { get; init; }
}
