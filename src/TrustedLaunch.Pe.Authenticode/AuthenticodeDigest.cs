using System.Security.Cryptography;
using TrustedLaunch.Pe.Authenticode.Pe;

namespace TrustedLaunch.Pe.Authenticode;

/// <summary>How the bytes after the last section are treated when the image has no certificate table.</summary>
public enum TrailingDataMode
{
    /// <summary>As edk2 HashPeImage: the file as it is (the firmware's db/dbx hash of an unsigned image).</summary>
    Firmware,

    /// <summary>
    /// As shim's generate_hash, sbsign and efitools: an unsigned file whose size is not a multiple of 8 is hashed as if
    /// zero-padded to 8 bytes, which is what it becomes once signed. Identical to <see cref="Firmware"/> for signed files.
    /// </summary>
    PaddedToEight,
}

/// <summary>The Authenticode image digest (PE/COFF spec Appendix "Calculating the PE Image Hash"), exactly as edk2 computes it.</summary>
public static class AuthenticodeDigest
{
    /// <summary>The digest algorithms the firmware implements for image hashes, strongest first.</summary>
    public static IReadOnlyList<HashAlgorithmName> FirmwareAlgorithms { get; } =
        [HashAlgorithmName.SHA512, HashAlgorithmName.SHA384, HashAlgorithmName.SHA256, HashAlgorithmName.SHA1];

    /// <summary>Computes the digest; throws <see cref="AuthenticodeException"/> where edk2's HashPeImage fails.</summary>
    public static byte[] Compute(PeImage image, HashAlgorithmName algorithm, TrailingDataMode mode = TrailingDataMode.Firmware)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var hash = IncrementalHash.CreateHash(algorithm);
        ReadOnlySpan<byte> file = image.Data.Span;

        // Steps 3-4: the header up to the CheckSum field; step 5: skip the 4-byte CheckSum.
        hash.AppendData(file[..image.CheckSumFieldOffset]);
        int afterCheckSum = image.CheckSumFieldOffset + 4;
        int headerEnd = (int)image.SizeOfHeaders;
        if (image.CertificateDirectoryEntryOffset is int certEntry)
        {
            // Steps 7-9: up to the Certificate Table entry, skip its 8 bytes, then to the end of the headers.
            hash.AppendData(file[afterCheckSum..certEntry]);
            hash.AppendData(file[(certEntry + 8)..headerEnd]);
        }
        else
        {
            // Step 6: NumberOfRvaAndSizes ≤ 4, no Certificate Table entry to skip.
            hash.AppendData(file[afterCheckSum..headerEnd]);
        }

        // Steps 10-15: sections sorted by PointerToRawData (a stable insertion order, as edk2's), empty ones skipped.
        ulong sumOfBytesHashed = image.SizeOfHeaders;
        foreach (var section in SortedByFileOffset(image.Sections))
        {
            if (section.SizeOfRawData == 0)
                continue;
            hash.AppendData(file.Slice((int)section.PointerToRawData, (int)section.SizeOfRawData));
            sumOfBytesHashed += section.SizeOfRawData;
        }

        // Step 16: trailing data, FileSize - CertificateTable.Size - SUM_OF_BYTES_HASHED bytes from SUM_OF_BYTES_HASHED.
        ulong certSize = image.CertificateTable?.Size ?? 0;
        ulong fileSize = (ulong)file.Length;
        ulong padding = mode == TrailingDataMode.PaddedToEight && certSize == 0 && fileSize % 8 != 0 ? 8 - (fileSize % 8) : 0;
        ulong virtualSize = fileSize + padding;
        if (virtualSize > sumOfBytesHashed)
        {
            if (virtualSize > certSize + sumOfBytesHashed)
            {
                ulong end = virtualSize - certSize;
                if (fileSize > sumOfBytesHashed)
                    hash.AppendData(file[(int)sumOfBytesHashed..(int)Math.Min(end, fileSize)]);
                ulong zerosFrom = Math.Max(sumOfBytesHashed, fileSize);
                if (end > zerosFrom)
                    hash.AppendData(new byte[end - zerosFrom]);
            }
            else if (virtualSize < certSize + sumOfBytesHashed)
            {
                throw new AuthenticodeException(AuthenticodeFailure.MalformedImage,
                    $"The certificate table ({certSize} bytes) overlaps the {sumOfBytesHashed} bytes of headers and sections (file {fileSize} bytes).");
            }
        }

        return hash.GetHashAndReset();
    }

    /// <summary>The section headers in ascending PointerToRawData, ties kept in header order (edk2's insertion sort).</summary>
    public static IReadOnlyList<PeSection> SortedByFileOffset(IReadOnlyList<PeSection> sections)
    {
        ArgumentNullException.ThrowIfNull(sections);
        return [.. sections.Select((s, i) => (s, i)).OrderBy(p => p.s.PointerToRawData).ThenBy(p => p.i).Select(p => p.s)];
    }

    /// <summary>The firmware's EFI_CERT_SHA* size for <paramref name="algorithm"/>.</summary>
    public static int DigestSize(HashAlgorithmName algorithm) => algorithm.Name switch
    {
        "SHA1" => 20,
        "SHA256" => 32,
        "SHA384" => 48,
        "SHA512" => 64,
        _ => throw new AuthenticodeException(AuthenticodeFailure.UnsupportedAlgorithm, $"Digest algorithm {algorithm.Name} is not used for image hashes."),
    };
}
