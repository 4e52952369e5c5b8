using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Transport;

/// <summary>TPM2_CreatePrimary's response (Part 3 §24.1).</summary>
public sealed record CreatePrimaryResult(
    uint Handle, TpmtPublic Public, byte[] PublicBytes, byte[] CreationData, byte[] CreationHash, TpmtTicket CreationTicket, byte[] Name);

/// <summary>TPM2_Create's response (Part 3 §12.1): the wrapped private part and public part to pass to Load.</summary>
public sealed record CreateResult(
    byte[] Private, TpmtPublic Public, byte[] PublicBytes, byte[] CreationData, byte[] CreationHash, TpmtTicket CreationTicket);

/// <summary>TPM2_ReadPublic's response (Part 3 §12.4).</summary>
public sealed record ReadPublicResult(TpmtPublic Public, byte[] PublicBytes, byte[] Name, byte[] QualifiedName);

/// <summary>TPM2_PCR_Read's response (Part 3 §22.4): what was read may be fewer PCRs than asked.</summary>
public sealed record PcrReadResult(uint UpdateCounter, TpmlPcrSelection Selection, IReadOnlyList<byte[]> Digests);

/// <summary>TPM2_PCR_Allocate's response (Part 3 §22.5); the allocation takes effect at the next TPM2_Startup.</summary>
public sealed record PcrAllocateResult(bool Success, uint MaxPcr, uint SizeNeeded, uint SizeAvailable);

/// <summary>A signed attestation (Quote, Certify): the exact TPMS_ATTEST bytes that were signed, parsed, and the signature.</summary>
public sealed record AttestationResult(byte[] AttestBytes, TpmsAttest Attest, TpmtSignature Signature, byte[] SignatureBytes);

/// <summary>TPM2_StartAuthSession's response (Part 3 §11.1).</summary>
public sealed record AuthSession(uint Handle, byte[] NonceTpm, TpmSe Type, TpmAlgId AuthHash);

/// <summary>TPM2_PolicySecret's response (Part 3 §23.4).</summary>
public sealed record PolicySecretResult(byte[] Timeout, TpmtTicket Ticket);


/// <summary>TPM2_GetCapability's response (Part 3 §30.2).</summary>
public sealed record CapabilityResult(bool MoreData, TpmsCapabilityData Data);
