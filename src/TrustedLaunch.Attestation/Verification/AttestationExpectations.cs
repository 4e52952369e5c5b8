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

    /// <summary>
    /// The clock of the VM's newest accepted quote (the latest of every quote accepted so far); the new quote must not be
    /// older (see <see cref="QuoteClock.RegressionFrom"/>), except as a concurrent attestation (<see cref="ConcurrentAttestationWindow"/>).
    /// Null: not checked.
    /// </summary>
    public QuoteClock? PreviousQuoteClock { get; init; }

    /// <summary>When <see cref="PreviousQuoteClock"/>'s quote was accepted; null: an older quote is never accepted.</summary>
    public DateTimeOffset? PreviousQuoteAcceptedAt { get; init; }

    /// <summary>When the nonce this evidence answers was issued; null: an older quote is never accepted.</summary>
    public DateTimeOffset? NonceIssuedAt { get; init; }

    /// <summary>
    /// How long after a newer quote was accepted an older one may still arrive as a concurrent attestation of the same
    /// boot (default 30 s). An older quote passes only when its nonce was issued before the newer quote was accepted, it
    /// is of the same reset and restart, it trails by no more TPM time than the real time between its nonce and that
    /// acceptance, and it arrives within this window: a vTPM restored from a copy older than its challenge fails all of these.
    /// </summary>
    public TimeSpan ConcurrentAttestationWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The time certificate validity is judged at; null means now.</summary>
    public DateTimeOffset? VerificationTime { get; init; }
}
