namespace TrustedLaunch.Attestation;

/// <summary>Why an attestation failed; each reason is a different kind of problem with a different owner.</summary>
public enum AttestationFailureReason
{
    /// <summary>The bundle or one of its TPM structures is not well-formed.</summary>
    EvidenceMalformed,

    /// <summary>The AK certificate does not chain to the platform AK CA, names another VM, or certifies another key.</summary>
    AkNotFromThisVm,

    /// <summary>The quote's signature, magic, type, nonce, PCR selection or PCR digest is wrong.</summary>
    QuoteInvalid,

    /// <summary>Replaying the TCG event log does not give the quoted PCR values (or there is no log to replay).</summary>
    EventLogDoesNotReplay,

    /// <summary>The verified boot differs from the VM's learned baseline.</summary>
    BaselineDeviation,

    /// <summary>The verified boot breaks the reference policy (or the built-in minimum: Secure Boot on, no debug mode, a strictly interpretable log).</summary>
    PolicyDeviation,

    /// <summary>The guest agent did not answer the challenge in time (reported by hosts, never by the verifier itself).</summary>
    AgentUnresponsive,
}

/// <summary>A failed attestation: the reason, the component it concerns (<c>PCR 7</c>, <c>quote: nonce</c>, …) and a sentence.</summary>
public sealed record AttestationFailure(AttestationFailureReason Reason, string Component, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{Reason} [{Component}]: {Message}";
}
