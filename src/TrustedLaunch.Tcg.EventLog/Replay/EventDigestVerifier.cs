using System.Buffers.Binary;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>Whether an event's digest is the hash of its own data, where the spec defines it so.</summary>
public enum EventDigestCheck
{
    /// <summary>The digest is of something not in the log (an image, a firmware volume, a file): nothing to check.</summary>
    NotDefined,

    /// <summary>The digest equals the hash of the data the spec names.</summary>
    Verified,

    /// <summary>The digest differs from the hash of the data: the logged data is not what was measured.</summary>
    Mismatch,

    /// <summary>The log has no digest for the bank, or this machine cannot compute it.</summary>
    NoDigest,
}

/// <summary>
/// Checks event data against its digest for the event types whose digest the spec defines over the data
/// (PFP 1.06 §10.4.1/§10.4.3, grub tpm.c, shim tpm.c). The type used to pick the rule is untrusted, so a
/// <see cref="EventDigestCheck.Verified"/> result says "this data was measured", not "this is that kind of event".
/// </summary>
public static class EventDigestVerifier
{
    /// <summary>Checks <paramref name="ev"/>'s data against its digest in <paramref name="bank"/>, hashing with <paramref name="hash"/> (the BCL by default).</summary>
    public static EventDigestCheck Check(TcgEvent ev, TpmAlgId bank, ITpmDigest? hash = null)
    {
        ArgumentNullException.ThrowIfNull(ev);
        hash ??= BclTpmDigest.Instance;
        if (!ev.TryGetDigest(bank, out var digestMemory) || !TpmHashAlgorithm.IsComputable(bank))
            return EventDigestCheck.NoDigest;
        ReadOnlySpan<byte> digest = digestMemory.Span;
        ReadOnlySpan<byte> data = ev.Data.Span;
        switch (ev.Type)
        {
            case TcgEventType.Separator:
            case TcgEventType.EfiAction:
            case TcgEventType.Action:
            case TcgEventType.SCrtmVersion:
            case TcgEventType.EfiGptEvent:
            case TcgEventType.EfiGptEvent2:
            case TcgEventType.EfiVariableDriverConfig:
            case TcgEventType.EfiVariableBoot2:
            case TcgEventType.CompactHash:
                return Of(HashEquals(hash, bank, data, digest));
            case TcgEventType.EfiVariableAuthority:
                // Whole UEFI_VARIABLE_DATA; very old shims hashed one byte less than they logged (go-attestation #157).
                // That form proves the data only when the structure ends before the unhashed last byte.
                return Of(HashEquals(hash, bank, data, digest) ||
                    (data.Length > 0 && VariableDataOf(data) is { } ad && ad.Start + ad.Length < data.Length && HashEquals(hash, bank, data[..^1], digest)));
            case TcgEventType.EfiVariableBoot:
                // edk2 hashes only VariableData for EV_EFI_VARIABLE_BOOT; other firmware hashes the whole structure.
                return Of(HashEquals(hash, bank, data, digest) || (VariableDataOf(data) is { } vd && HashEquals(hash, bank, data.Slice(vd.Start, vd.Length), digest)));
            case TcgEventType.EventTag when ev.PcrIndex is >= 12 and <= 14:
                // Windows SIPA events: the digest is of the event data.
                return Of(HashEquals(hash, bank, data, digest));
            case TcgEventType.Ipl when ev.PcrIndex == 8 && TcgEventDataDecoder.GrubPrefix(data) is { } grub:
                // grub tpm.c: H(string without prefix and NUL); Red Hat's patches include the NUL.
                ReadOnlySpan<byte> text = data[grub.Prefix.Length..];
                ReadOnlySpan<byte> trimmed = text.TrimEnd((byte)0);
                return Of(HashEquals(hash, bank, trimmed, digest) || (trimmed.Length < text.Length && HashEquals(hash, bank, trimmed.Length + 1 <= text.Length ? text[..(trimmed.Length + 1)] : text, digest)));
            case TcgEventType.Ipl when ev.PcrIndex is 8 or 12:
                // systemd-boot/stub: H(UTF-16 LoadOptions as logged, NUL included); anything else in PCR 8 must hash the same way.
                return Of(HashEquals(hash, bank, data, digest));
            default:
                return EventDigestCheck.NotDefined;
        }
    }

    private static EventDigestCheck Of(bool ok) => ok ? EventDigestCheck.Verified : EventDigestCheck.Mismatch;

    private static bool HashEquals(ITpmDigest hash, TpmAlgId bank, ReadOnlySpan<byte> data, ReadOnlySpan<byte> digest)
    {
        Span<byte> computed = stackalloc byte[64];
        int n = hash.Hash(bank, data, computed);
        return computed[..n].SequenceEqual(digest);
    }

    private static (int Start, int Length)? VariableDataOf(ReadOnlySpan<byte> data)
    {
        if (data.Length < 32)
            return null;
        ulong nameLength = BinaryPrimitives.ReadUInt64LittleEndian(data[16..]);
        ulong dataLength = BinaryPrimitives.ReadUInt64LittleEndian(data[24..]);
        if (nameLength > (ulong)(data.Length - 32) / 2)
            return null;
        int start = 32 + (int)nameLength * 2;
        if (dataLength > (ulong)(data.Length - start))
            return null;
        return (start, (int)dataLength);
    }
}
