using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TrustedLaunch.Linux.ModuleSignature;

/// <summary>The compressed kernel inside an x86 bzImage (vmlinuz), located through its setup header.</summary>
public sealed record KernelPayload(string Format, ReadOnlyMemory<byte> Data);

/// <summary>
/// Finds the kernel's built-in certificates (the system certificate list behind <c>.builtin_trusted_keys</c>, which
/// holds the module-signing key) in a bzImage, like the kernel's <c>scripts/extract-cert</c> but from the shipped image.
/// </summary>
public static class KernelImage
{
    // Documentation/arch/x86/boot.rst: the real-mode header fields of boot protocol 2.08+.
    private const int SetupSectsOffset = 0x1F1;
    private const int HeaderMagicOffset = 0x202;
    private const int PayloadOffsetOffset = 0x248;
    private const int PayloadLengthOffset = 0x24C;

    /// <summary>Locates the compressed kernel (xz, zstd, gzip, lzma, …) of a bzImage; throws when the image is not one.</summary>
    public static KernelPayload FindPayload(ReadOnlyMemory<byte> bzImage)
    {
        ReadOnlySpan<byte> image = bzImage.Span;
        if (image.Length < PayloadLengthOffset + 4 || !image.Slice(HeaderMagicOffset, 4).SequenceEqual("HdrS"u8))
            throw new ModuleSignatureException("Not an x86 bzImage: no \"HdrS\" setup header at 0x202.");
        int setupSects = image[SetupSectsOffset] == 0 ? 4 : image[SetupSectsOffset];
        uint payloadOffset = BinaryPrimitives.ReadUInt32LittleEndian(image[PayloadOffsetOffset..]);
        uint payloadLength = BinaryPrimitives.ReadUInt32LittleEndian(image[PayloadLengthOffset..]);
        ulong start = ((ulong)setupSects + 1) * 512 + payloadOffset;
        if (payloadLength == 0 || start + payloadLength > (ulong)image.Length)
            throw new ModuleSignatureException($"The bzImage payload [0x{start:X}, +0x{payloadLength:X}) lies outside the {image.Length}-byte file.");
        var payload = bzImage.Slice((int)start, (int)payloadLength);
        string format = ModuleSignatureVerifier.CompressionOf(payload.Span)
            ?? (payload.Span.StartsWith((ReadOnlySpan<byte>)[0x5D, 0x00]) ? "lzma" : payload.Span.StartsWith((ReadOnlySpan<byte>)[0x02, 0x21, 0x4C, 0x18]) ? "lz4" : "unknown");
        return new KernelPayload(format, payload);
    }

    /// <summary>
    /// Every X.509 certificate found in a decompressed kernel: DER SEQUENCEs with two-byte lengths whose TBSCertificate
    /// starts with an explicit v3 version (<c>30 82 .. .. 30 82 .. .. A0 03 02 01 02</c>) and that parse.
    /// </summary>
    public static IReadOnlyList<X509Certificate2> FindCertificates(ReadOnlySpan<byte> vmlinux)
    {
        ReadOnlySpan<byte> pattern = [0xA0, 0x03, 0x02, 0x01, 0x02];
        var found = new List<X509Certificate2>();
        int from = 0;
        while (from < vmlinux.Length)
        {
            int hit = vmlinux[from..].IndexOf(pattern);
            if (hit < 0)
                break;
            int at = from + hit - 8;
            from += hit + 1;
            if (at < 0 || vmlinux[at] != 0x30 || vmlinux[at + 1] != 0x82 || vmlinux[at + 4] != 0x30 || vmlinux[at + 5] != 0x82)
                continue;
            int length = 4 + BinaryPrimitives.ReadUInt16BigEndian(vmlinux[(at + 2)..]);
            if (at + length > vmlinux.Length)
                continue;
            try
            {
                var certificate = X509CertificateLoader.LoadCertificate(vmlinux.Slice(at, length));
                if (!found.Any(c => c.RawData.AsSpan().SequenceEqual(certificate.RawData)))
                    found.Add(certificate);
            }
            catch (CryptographicException)
            {
                // Not a certificate after all: the pattern also occurs by chance in code and data.
            }
        }

        return found;
    }
}
