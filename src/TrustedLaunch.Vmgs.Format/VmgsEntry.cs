namespace TrustedLaunch.Vmgs.Format;

/// <summary>
/// One row of the file table: where an entry's ciphertext lives and what authenticates it
/// (docs/vmgs.md §3). <see cref="Generation"/> is the header sequence that committed this version.
/// </summary>
public readonly record struct VmgsEntry
{
    public required VmgsEntryId Id { get; init; }

    /// <summary>Sequence number of the header that first committed this version of the entry.</summary>
    public required ulong Generation { get; init; }

    /// <summary>Byte offset of the ciphertext in the file; a multiple of <see cref="VmgsLayout.BlockSize"/>.</summary>
    public required long Offset { get; init; }

    /// <summary>Plaintext length, equal to the ciphertext length (GCM is a stream mode).</summary>
    public required int Length { get; init; }

    /// <summary>Bytes reserved for the entry at <see cref="Offset"/>; a block multiple, at least <see cref="Length"/>.</summary>
    public required int AllocatedLength { get; init; }

    /// <summary>The 12-byte AES-GCM nonce.</summary>
    public required ReadOnlyMemory<byte> Nonce { get; init; }

    /// <summary>The 16-byte AES-GCM tag.</summary>
    public required ReadOnlyMemory<byte> Tag { get; init; }

    /// <summary>First byte after the allocated extent.</summary>
    public long End => Offset + AllocatedLength;

    /// <summary>Rounds a payload length up to whole blocks (at least one, so every entry has a distinct extent).</summary>
    public static int AllocationFor(int length)
    {
        if ((uint)length > VmgsLayout.MaxEntryLength)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"An entry holds at most {VmgsLayout.MaxEntryLength} bytes.");
        int blocks = Math.Max(1, (length + VmgsLayout.BlockSize - 1) / VmgsLayout.BlockSize);
        return blocks * VmgsLayout.BlockSize;
    }
}
