namespace TrustedLaunch.Vmgs.Format;

/// <summary>
/// One header copy: identity, sequence, key metadata and the file table (docs/vmgs.md §2). Immutable; a write
/// produces a new header with a higher <see cref="Sequence"/> that goes into the other slot.
/// </summary>
public sealed record VmgsHeader
{
    /// <summary>Bigger is newer; the opener uses the valid copy with the highest sequence.</summary>
    public required ulong Sequence { get; init; }

    /// <summary>Random identity of this guest-state file, bound into every entry's AAD.</summary>
    public required Guid FileId { get; init; }

    public VmgsKeyWrapAlgorithm KeyWrapAlgorithm { get; init; } = VmgsKeyWrapAlgorithm.Aes256KeyWrapPadded;

    public VmgsEntryCipher EntryCipher { get; init; } = VmgsEntryCipher.Aes256Gcm;

    /// <summary>Identifies the key-encryption key that wrapped the data key (16 bytes), so a wrong key is named.</summary>
    public required ReadOnlyMemory<byte> KekThumbprint { get; init; }

    /// <summary>The per-VM data key wrapped with the KEK (RFC 5649, 40 bytes).</summary>
    public required ReadOnlyMemory<byte> WrappedDataKey { get; init; }

    /// <summary>HMAC-SHA256 over the covered header bytes, keyed from the data key; verified only with the key.</summary>
    public ReadOnlyMemory<byte> HeaderMac { get; init; } = new byte[VmgsLayout.HeaderMacLength];

    /// <summary>The file table, ordered by id.</summary>
    public required IReadOnlyList<VmgsEntry> Entries { get; init; }

    /// <summary>Bytes covered by the checksum: fixed part plus the file table.</summary>
    public int CoveredLength => VmgsLayout.HeaderFixedSize + (Entries.Count * VmgsLayout.EntrySize);

    /// <summary>The entry with <paramref name="id"/>, or null.</summary>
    public VmgsEntry? Find(VmgsEntryId id)
    {
        foreach (VmgsEntry entry in Entries)
        {
            if (entry.Id == id)
                return entry;
        }

        return null;
    }

    /// <summary>End of the highest extent (at least the data area start): the file must be at least this long.</summary>
    public long ExtentEnd
    {
        get
        {
            long end = VmgsLayout.DataAreaStart;
            foreach (VmgsEntry entry in Entries)
                end = Math.Max(end, entry.End);
            return end;
        }
    }

    /// <summary>Throws <see cref="VmgsFormatException"/> when an extent lies beyond <paramref name="fileLength"/>.</summary>
    public void EnsureExtentsWithin(long fileLength)
    {
        foreach (VmgsEntry entry in Entries)
        {
            if (entry.Offset + entry.Length > fileLength)
                throw new VmgsFormatException($"Entry {VmgsEntryNames.ToName(entry.Id)} ends at byte {entry.Offset + entry.Length} but the file is {fileLength} bytes long (truncated).");
        }
    }
}
