using TrustedLaunch.Attestation;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server;

/// <summary>What <see cref="AttestationService.AttestAsync"/> decided; the endpoint maps each kind to one status code.</summary>
public enum AttestationOutcomeKind
{
    /// <summary>200: verified; a token was issued.</summary>
    Passed,

    /// <summary>422: the evidence was verified and found wanting (reason and component say why).</summary>
    Failed,

    /// <summary>400: the body is not evidence (bad JSON, missing field, bad base64, …) or a TPM structure is malformed.</summary>
    Malformed,

    /// <summary>404: the VM is not registered.</summary>
    UnknownVm,

    /// <summary>409: the nonce was never issued to this VM, already used, or expired.</summary>
    NonceRejected,

    /// <summary>
    /// 422: the attestation passed (and is recorded as a pass), but the evidence asked for a bound token and its key was
    /// refused: no token, neither bound nor plain, since the caller asked that none be readable outside the vTPM.
    /// </summary>
    BoundKeyRefused,
}

/// <summary>The result of one attestation request.</summary>
public sealed record AttestationOutcome
{
    public required AttestationOutcomeKind Kind { get; init; }

    /// <summary>The stored record (null for <see cref="AttestationOutcomeKind.UnknownVm"/>, which stores nothing).</summary>
    public AttestationRecord? Record { get; init; }

    /// <summary>The verifier's answer, when it ran.</summary>
    public AttestationResult? Result { get; init; }

    /// <summary>The token of a pass: JWS compact, or, for evidence with a bound key, that JWS inside a JWE (<see cref="TokenBound"/>).</summary>
    public string? Token { get; init; }

    /// <summary>True when <see cref="Token"/> is encrypted to the VM's bound key.</summary>
    public bool TokenBound { get; init; }

    /// <summary>Why the bound key was refused (<see cref="AttestationOutcomeKind.BoundKeyRefused"/>).</summary>
    public BoundKeyFailure? BoundKeyFailure { get; init; }

    /// <summary>Failure reason name (an <see cref="AttestationFailureReason"/> or <c>NonceRejected</c>/<c>UnknownVm</c>).</summary>
    public string? Reason { get; init; }

    public string? Component { get; init; }

    public string? Message { get; init; }

    /// <summary>True when this pass learned (or relearned) the VM's baseline.</summary>
    public bool BaselineLearned { get; init; }
}
