using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.Uefi.VariableStore;

/// <summary>
/// Creates EFI_VARIABLE_AUTHENTICATION_2 payloads (UEFI 2.10 §8.2.2) in the shape every edk2 accepts: a detached PKCS#7
/// SignedData with SHA-256, the signer certificate embedded (edk2 Pkcs7Verify finds the signer only among the carried
/// certificates), emitted as a bare SignedData like efitools' sign-efi-sig-list and Microsoft's dbx updates.
/// </summary>
public static class AuthenticatedVariableSigner
{
    /// <summary>
    /// Signs <c>name ‖ guid ‖ attributes ‖ timeStamp ‖ payload</c>. <paramref name="attributes"/> are exactly what will be passed
    /// to SetVariable: include <see cref="EfiVariableAttributes.AppendWrite"/> to append (the usual way to add dbx entries).
    /// </summary>
    /// <param name="signer">The PK (for PK/KEK) or KEK (for db/dbx) certificate with its RSA private key.</param>
    /// <param name="intermediates">Certificates between the signer and the enrolled anchor, carried in the SignedData.</param>
    public static EfiVariableAuthentication2 Sign(VariableKey variable, EfiVariableAttributes attributes, EfiTime timeStamp,
        ReadOnlyMemory<byte> payload, X509Certificate2 signer, IEnumerable<X509Certificate2>? intermediates = null)
    {
        ArgumentNullException.ThrowIfNull(signer);
        if (!signer.HasPrivateKey)
            throw new VariableStoreException($"{signer.Subject}: the signer certificate has no private key.");
        if (!timeStamp.IsValidAuthenticationTime)
            throw new VariableStoreException("The timestamp must be GMT with whole seconds: edk2 rejects a non-zero Pad1, Nanosecond, TimeZone, Daylight or Pad2.");
        using (var rsa = signer.GetRSAPublicKey())
        {
            if (rsa is null)
                throw new VariableStoreException($"{signer.Subject}: edk2 verifies authenticated variables only with RSA keys.");
        }

        byte[] signedBytes = TimeBasedSigningData.Build(variable.Name, variable.VendorGuid, attributes, timeStamp, payload.Span);
        var cms = new SignedCms(new ContentInfo(signedBytes), detached: true);
        var cmsSigner = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, signer)
        {
            DigestAlgorithm = new Oid("2.16.840.1.101.3.4.2.1"),
            // EndCertOnly: a self-signed PK would be dropped by the default ExcludeRoot, and edk2 needs the signer carried.
            IncludeOption = X509IncludeOption.EndCertOnly,
        };
        foreach (var extra in intermediates ?? [])
            cmsSigner.Certificates.Add(extra);
        cms.ComputeSignature(cmsSigner, silent: true);
        byte[] bare = SignedDataEncoding.ToBareSignedData(cms.Encode());
        if (SignedDataEncoding.CheckEdk2Shape(bare) is { } problem)
            throw new VariableStoreException($"The signature would be refused by edk2: {problem}");
        return new EfiVariableAuthentication2(timeStamp, bare, payload);
    }
}
