using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace TrustedLaunch.Linux.ModuleSignature;

/// <summary>
/// A module's appended signature (include/linux/module_signature.h, scripts/sign-file.c):
/// <c>[module][PKCS#7 DER][struct module_signature (12 bytes)]["~Module signature appended~\n"]</c>.
/// </summary>
public sealed record AppendedSignature
{
    /// <summary>The marker that ends a signed module (28 bytes, no NUL).</summary>
    public static ReadOnlySpan<byte> Marker => "~Module signature appended~\n"u8;

    /// <summary>Size of <c>struct module_signature</c>.</summary>
    public const int InfoSize = 12;

    /// <summary><c>PKEY_ID_PKCS7</c>: the only id_type the kernel accepts (kernel/module/signing.c).</summary>
    public const byte IdTypePkcs7 = 2;

    /// <summary>The bytes the signature covers (detached content): the module without signature, info block and marker.</summary>
    public required ReadOnlyMemory<byte> SignedContent { get; init; }

    /// <summary>The PKCS#7 SignedData (DER).</summary>
    public required ReadOnlyMemory<byte> Pkcs7 { get; init; }

    public required byte Algorithm { get; init; }

    public required byte Hash { get; init; }

    public required byte IdType { get; init; }

    /// <summary>True when <paramref name="module"/> ends with the signature marker.</summary>
    public static bool HasMarker(ReadOnlySpan<byte> module) => module.EndsWith(Marker);

    /// <summary>
    /// Reads the appended signature. Returns false (signature null) for an unsigned module; throws
    /// <see cref="ModuleSignatureException"/> when the marker is present but the layout is broken.
    /// </summary>
    public static bool TryRead(ReadOnlyMemory<byte> module, [NotNullWhen(true)] out AppendedSignature? signature)
    {
        signature = null;
        ReadOnlySpan<byte> span = module.Span;
        if (!HasMarker(span))
            return false;
        int infoEnd = span.Length - Marker.Length;
        if (infoEnd < InfoSize)
            throw new ModuleSignatureException($"The module ends with the signature marker but has only {infoEnd} bytes before it; struct module_signature needs {InfoSize}.");
        ReadOnlySpan<byte> info = span.Slice(infoEnd - InfoSize, InfoSize);

        // struct module_signature { u8 algo, hash, id_type, signer_len, key_id_len; u8 __pad[3]; __be32 sig_len; }
        uint sigLength = BinaryPrimitives.ReadUInt32BigEndian(info[8..]);
        int sigEnd = infoEnd - InfoSize;
        if (sigLength == 0 || sigLength > (uint)sigEnd)
            throw new ModuleSignatureException($"sig_len {sigLength} does not fit the {sigEnd} bytes before the signature info block.");
        if (info[2] != IdTypePkcs7)
            throw new ModuleSignatureException($"Signature id_type {info[2]} is not PKEY_ID_PKCS7 (2); the kernel rejects it.");
        if (info[0] != 0 || info[1] != 0 || info[3] != 0 || info[4] != 0 || info[5] != 0 || info[6] != 0 || info[7] != 0)
            throw new ModuleSignatureException("struct module_signature fields other than id_type and sig_len must be 0 for PKCS#7 (mod_check_sig).");
        int sigStart = sigEnd - (int)sigLength;
        signature = new AppendedSignature
        {
            SignedContent = module[..sigStart],
            Pkcs7 = module[sigStart..sigEnd],
            Algorithm = info[0],
            Hash = info[1],
            IdType = info[2],
        };
        return true;
    }
}
