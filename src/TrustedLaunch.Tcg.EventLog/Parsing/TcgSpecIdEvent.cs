using System.Buffers.Binary;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>One entry of the Spec ID event's algorithm list: a bank and the digest size the log uses for it.</summary>
public readonly record struct TcgAlgorithmSize(TpmAlgId Algorithm, int DigestSize);

/// <summary>
/// <c>TCG_EfiSpecIDEvent</c> (PFP 1.06 §10.4.5.1): the first event of a crypto-agile log. It lists the digest
/// algorithms and sizes every later <c>TCG_PCR_EVENT2</c> may carry; digests cannot be skipped without it.
/// </summary>
public sealed record TcgSpecIdEvent(
    uint PlatformClass,
    byte SpecVersionMinor,
    byte SpecVersionMajor,
    byte SpecErrata,
    byte UintnSize,
    IReadOnlyList<TcgAlgorithmSize> Algorithms,
    ReadOnlyMemory<byte> VendorInfo)
{
    /// <summary>The 16-byte signature of a crypto-agile log's first event, NUL included.</summary>
    public static ReadOnlySpan<byte> Signature03 => "Spec ID Event03\0"u8;

    /// <summary>The TPM 1.2 (SHA-1 only) Spec ID signature; such logs have no algorithm list.</summary>
    public static ReadOnlySpan<byte> Signature02 => "Spec ID Event02\0"u8;

    /// <summary>Fixed part before the algorithm list: signature[16], platformClass, 4 version bytes, count.</summary>
    public const int FixedSize = 28;

    /// <summary>Upper bound on the algorithm count: the TPM_ALG_ID space holds far fewer hashes than this.</summary>
    public const int MaxAlgorithms = 32;

    /// <summary>True when <paramref name="eventData"/> starts with the <c>Spec ID Event03</c> signature.</summary>
    public static bool HasSignature03(ReadOnlySpan<byte> eventData) => eventData.StartsWith(Signature03);

    /// <summary>Parses the event data of a Spec ID event; on failure returns false with the reason and its offset in the data.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> eventData, out TcgSpecIdEvent? specId, out string? error, out int errorOffset)
    {
        specId = null;
        ReadOnlySpan<byte> data = eventData.Span;
        errorOffset = 0;
        if (data.Length < FixedSize)
        {
            error = $"Spec ID event data is {data.Length} bytes, at least {FixedSize} needed";
            return false;
        }

        if (!HasSignature03(data))
        {
            error = "Spec ID event signature is not \"Spec ID Event03\"";
            return false;
        }

        // PFP §10.4.5.1: platformClass u32, specVersionMinor, specVersionMajor, specErrata, uintnSize, numberOfAlgorithms u32.
        uint platformClass = BinaryPrimitives.ReadUInt32LittleEndian(data[16..]);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(data[24..]);
        errorOffset = 24;
        if (count == 0 || count > MaxAlgorithms)
        {
            error = $"Spec ID event lists {count} algorithms (1..{MaxAlgorithms} allowed)";
            return false;
        }

        int listEnd = FixedSize + ((int)count * 4);
        if (data.Length < listEnd + 1)
        {
            error = $"Spec ID event lists {count} algorithms but holds only {data.Length} bytes";
            return false;
        }

        var algorithms = new TcgAlgorithmSize[count];
        for (int i = 0; i < count; i++)
        {
            int at = FixedSize + (i * 4);
            var alg = (TpmAlgId)BinaryPrimitives.ReadUInt16LittleEndian(data[at..]);
            ushort size = BinaryPrimitives.ReadUInt16LittleEndian(data[(at + 2)..]);
            errorOffset = at;
            int known = TpmHashAlgorithm.DigestSize(alg);
            if (size == 0 || size > 128 || (known != 0 && known != size))
            {
                error = $"Spec ID event gives algorithm 0x{(ushort)alg:X4} digest size {size}" + (known != 0 ? $", expected {known}" : "");
                return false;
            }

            for (int j = 0; j < i; j++)
            {
                if (algorithms[j].Algorithm == alg)
                {
                    error = $"Spec ID event lists algorithm 0x{(ushort)alg:X4} twice";
                    return false;
                }
            }

            algorithms[i] = new TcgAlgorithmSize(alg, size);
        }

        byte vendorInfoSize = data[listEnd];
        errorOffset = listEnd;
        if (data.Length - (listEnd + 1) < vendorInfoSize)
        {
            error = $"Spec ID event vendorInfoSize {vendorInfoSize} exceeds the {data.Length - (listEnd + 1)} bytes left in the event";
            return false;
        }

        if (data.Length != listEnd + 1 + vendorInfoSize)
        {
            error = $"Spec ID event has {data.Length - (listEnd + 1 + vendorInfoSize)} bytes after vendorInfo";
            return false;
        }

        specId = new TcgSpecIdEvent(platformClass, data[20], data[21], data[22], data[23], algorithms,
            eventData.Slice(listEnd + 1, vendorInfoSize));
        error = null;
        errorOffset = -1;
        return true;
    }
}
