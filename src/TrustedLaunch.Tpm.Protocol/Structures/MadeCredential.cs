namespace TrustedLaunch.Tpm.Protocol;

/// <summary>A credential made for ActivateCredential: TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET contents.</summary>
public sealed record MadeCredential(byte[] CredentialBlob, byte[] Secret);
