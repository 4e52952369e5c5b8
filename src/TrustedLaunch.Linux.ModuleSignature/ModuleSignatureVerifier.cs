using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;

namespace TrustedLaunch.Linux.ModuleSignature;

/// <summary>What the kernel would make of a module's signature (kernel/module/signing.c module_sig_check).</summary>
public enum ModuleSignatureStatus
{
    /// <summary>Signed by a key among the given certificates, and the signature verifies.</summary>
    Valid,

    /// <summary>No appended signature (never signed, or stripped): "Loading of unsigned module is rejected" under enforcement.</summary>
    NotSigned,

    /// <summary>Signed, but by a key not among the given certificates ("module with unavailable key").</summary>
    UnknownKey,

    /// <summary>The signature does not verify (the module was modified, or the signature is corrupt).</summary>
    BadSignature,

    /// <summary>The appended signature or its PKCS#7 is malformed.</summary>
    Malformed,

    /// <summary>The file is compressed (xz, zstd, gzip); the kernel checks the signature of the decompressed module.</summary>
    Compressed,
}

/// <summary>The outcome for one module.</summary>
public sealed record ModuleVerification
{
    public required ModuleSignatureStatus Status { get; init; }

    public required string Message { get; init; }

    /// <summary>Issuer and serial, or subject key identifier, naming the signing key.</summary>
    public string? SignerId { get; init; }

    /// <summary>Subject of the certificate that verified the signature.</summary>
    public string? Signer { get; init; }

    public string? DigestAlgorithm { get; init; }

    public bool IsValid => Status == ModuleSignatureStatus.Valid;
}

/// <summary>Verifies appended module signatures against given certificates, as the kernel does against its keyrings.</summary>
public static class ModuleSignatureVerifier
{
    public static ModuleVerification Verify(ReadOnlyMemory<byte> module, X509Certificate2Collection trusted)
    {
        ArgumentNullException.ThrowIfNull(trusted);
        if (CompressionOf(module.Span) is { } format)
            return new() { Status = ModuleSignatureStatus.Compressed, Message = $"The module is {format}-compressed; decompress it first (the signature covers the decompressed module)." };

        AppendedSignature? appended;
        try
        {
            if (!AppendedSignature.TryRead(module, out appended))
                return new() { Status = ModuleSignatureStatus.NotSigned, Message = "Unsigned module: no appended signature (\"~Module signature appended~\" marker absent)." };
        }
        catch (ModuleSignatureException e)
        {
            return new() { Status = ModuleSignatureStatus.Malformed, Message = e.Message };
        }

        var cms = new SignedCms(new ContentInfo(appended.SignedContent.ToArray()), detached: true);
        try
        {
            cms.Decode(appended.Pkcs7.Span);
        }
        catch (CryptographicException e)
        {
            return new() { Status = ModuleSignatureStatus.Malformed, Message = "The appended PKCS#7 does not parse: " + e.Message };
        }

        if (cms.SignerInfos.Count != 1)
            return new() { Status = ModuleSignatureStatus.Malformed, Message = $"The PKCS#7 has {cms.SignerInfos.Count} signers; the kernel expects one." };
        SignerInfo signer = cms.SignerInfos[0];
        string signerId = Describe(signer.SignerIdentifier);
        string digest = signer.DigestAlgorithm.FriendlyName ?? signer.DigestAlgorithm.Value ?? "unknown";
        X509Certificate2? key = FindKey(signer.SignerIdentifier, trusted);
        if (key is null)
        {
            return new()
            {
                Status = ModuleSignatureStatus.UnknownKey, SignerId = signerId, DigestAlgorithm = digest,
                Message = $"Signed by a key not among the given certificates ({signerId}): the kernel rejects it as \"module with unavailable key\".",
            };
        }

        try
        {
            signer.CheckSignature([key], verifySignatureOnly: true);
        }
        catch (CryptographicException e)
        {
            return new()
            {
                Status = ModuleSignatureStatus.BadSignature, SignerId = signerId, Signer = key.Subject, DigestAlgorithm = digest,
                Message = $"The signature by '{key.Subject}' does not verify: {e.Message}",
            };
        }

        return new()
        {
            Status = ModuleSignatureStatus.Valid, SignerId = signerId, Signer = key.Subject, DigestAlgorithm = digest,
            Message = $"Valid signature by '{key.Subject}' ({digest}).",
        };
    }

    /// <summary>"xz", "zstd" or "gzip" when the bytes start with that format's magic, else null.</summary>
    public static string? CompressionOf(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith((ReadOnlySpan<byte>)[0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]))
            return "xz";
        if (data.StartsWith((ReadOnlySpan<byte>)[0x28, 0xB5, 0x2F, 0xFD]))
            return "zstd";
        if (data.StartsWith((ReadOnlySpan<byte>)[0x1F, 0x8B]))
            return "gzip";
        return null;
    }

    private static X509Certificate2? FindKey(SubjectIdentifier id, X509Certificate2Collection trusted)
    {
        foreach (var cert in trusted)
        {
            switch (id.Type)
            {
                case SubjectIdentifierType.IssuerAndSerialNumber when id.Value is X509IssuerSerial serial:
                    if (string.Equals(cert.Issuer, serial.IssuerName, StringComparison.Ordinal) &&
                        string.Equals(cert.SerialNumber, serial.SerialNumber, StringComparison.OrdinalIgnoreCase))
                    {
                        return cert;
                    }

                    break;
                case SubjectIdentifierType.SubjectKeyIdentifier when id.Value is string ski:
                    foreach (var ext in cert.Extensions)
                    {
                        if (ext is X509SubjectKeyIdentifierExtension s && string.Equals(s.SubjectKeyIdentifier, ski, StringComparison.OrdinalIgnoreCase))
                            return cert;
                    }

                    break;
                default:
                    break;
            }
        }

        return null;
    }

    private static string Describe(SubjectIdentifier id) => id.Value switch
    {
        X509IssuerSerial serial => $"issuer '{serial.IssuerName}', serial {serial.SerialNumber}",
        string ski => $"subject key id {ski}",
        _ => id.Type.ToString(),
    };
}
