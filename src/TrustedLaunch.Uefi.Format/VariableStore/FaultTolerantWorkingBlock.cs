using System.Buffers.Binary;

namespace TrustedLaunch.Uefi.Format.VariableStore;

/// <summary>What the fault-tolerant-write working block says about the flash file.</summary>
public enum FaultTolerantWriteState
{
    /// <summary>No valid working-block header (signature, CRC or valid bit wrong); edk2 reinitialises it at boot.</summary>
    NotInitialised,

    /// <summary>A valid header and no write in progress: safe to rewrite the variable store offline.</summary>
    Idle,

    /// <summary>The last write header is allocated but not complete: edk2 would replay it from the spare area at boot.</summary>
    WritePending,
}

/// <summary>
/// <c>EFI_FAULT_TOLERANT_WORKING_BLOCK_HEADER</c> and its write queue (MdeModulePkg/Include/Guid/SystemNvDataGuid.h,
/// Universal/FaultTolerantWriteDxe/FaultTolerantWrite.h).
/// </summary>
public sealed record FaultTolerantWorkingBlock
{
    /// <summary>Signature GUID, UINT32 Crc, UINT8 flags, UINT8 Reserved3[3], UINT64 WriteQueueSize.</summary>
    public const int HeaderSize = 32;

    /// <summary>Size of the working block in OVMF's layout (one 4 KiB block).</summary>
    public const int OvmfSize = 0x1000;

    // EFI_FAULT_TOLERANT_WRITE_HEADER is not packed: UINT8 flags, EFI_GUID CallerId at 4 (4-aligned),
    // UINT64 NumberOfWrites at 24 and PrivateDataSize at 32 (8-aligned), 40 bytes in all.
    private const int WriteHeaderSize = 40;

    // EFI_FAULT_TOLERANT_WRITE_RECORD: UINT8 flags, then EFI_LBA, Offset, Length, RelativeOffset at 8/16/24/32: 40 bytes.
    private const int WriteRecordSize = 40;

    /// <summary>Offset of the header in the flash file.</summary>
    public required int Offset { get; init; }

    public required FaultTolerantWriteState State { get; init; }

    /// <summary>Why the header is not valid, or which write is pending; null when idle.</summary>
    public string? Detail { get; init; }

    public uint Crc { get; init; }

    public ulong WriteQueueSize { get; init; }

    /// <summary>Completed write headers in the queue (normal after the firmware reclaimed the store).</summary>
    public int CompletedWrites { get; init; }

    /// <summary>Parses the working block at <paramref name="offset"/> of <paramref name="flash"/>, <paramref name="size"/> bytes long.</summary>
    public static FaultTolerantWorkingBlock Read(ReadOnlySpan<byte> flash, int offset, int size)
    {
        if (offset < 0 || size < HeaderSize || (long)offset + size > flash.Length)
            throw new UefiFormatException($"FTW working block at 0x{offset:X} (+0x{size:X}) lies outside the {flash.Length}-byte file.") { Offset = offset };
        ReadOnlySpan<byte> block = flash.Slice(offset, size);
        ReadOnlySpan<byte> header = block[..HeaderSize];
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(header[16..]);
        ulong queueSize = BinaryPrimitives.ReadUInt64LittleEndian(header[24..]);

        if (new Guid(header[..16]) != EfiGuids.FtwWorkingBlockSignature)
            return NotInitialised(offset, crc, queueSize, "no working-block signature");
        if (crc != ComputeCrc(header))
            return NotInitialised(offset, crc, queueSize, $"CRC 0x{crc:X8} does not match 0x{ComputeCrc(header):X8}");

        // Bit 0 WorkingBlockValid, bit 1 WorkingBlockInvalid; a flag is set when its bit is 0 (FTW_VALID_STATE = 0).
        byte flags = header[20];
        if ((flags & 0x01) != 0 || (flags & 0x02) == 0)
            return NotInitialised(offset, crc, queueSize, $"working block flags 0x{flags:X2} are not 'valid'");

        // FaultTolerantWrite.c FtwGetLastWriteHeader: skip complete headers; the first incomplete one is the last write.
        long at = HeaderSize;
        int completed = 0;
        long queueEnd = Math.Min((long)size, HeaderSize + (long)Math.Min(queueSize, (ulong)size));
        while (at + WriteHeaderSize <= queueEnd)
        {
            ReadOnlySpan<byte> write = block.Slice((int)at, WriteHeaderSize);
            byte writeFlags = write[0];
            bool headerAllocated = (writeFlags & 0x01) == 0;
            bool complete = (writeFlags & 0x04) == 0;
            if (!complete)
            {
                if (headerAllocated)
                {
                    return new FaultTolerantWorkingBlock
                    {
                        Offset = offset, State = FaultTolerantWriteState.WritePending, Crc = crc, WriteQueueSize = queueSize, CompletedWrites = completed,
                        Detail = $"write header at 0x{offset + at:X} (caller {new Guid(write.Slice(4, 16))}) is allocated but not complete",
                    };
                }

                break;
            }

            ulong writes = BinaryPrimitives.ReadUInt64LittleEndian(write[24..]);
            ulong privateSize = BinaryPrimitives.ReadUInt64LittleEndian(write[32..]);
            // FTW_WRITE_TOTAL_SIZE; guarded so that hostile counts cannot overflow.
            if (writes > (ulong)size || privateSize > (ulong)size)
                break;
            at += WriteHeaderSize + (long)(writes * (WriteRecordSize + privateSize));
            completed++;
        }

        return new FaultTolerantWorkingBlock { Offset = offset, State = FaultTolerantWriteState.Idle, Crc = crc, WriteQueueSize = queueSize, CompletedWrites = completed };
    }

    /// <summary>
    /// Writes a pristine working block (header with a valid CRC, empty 0xFF queue) of <paramref name="destination"/>'s size,
    /// byte-identical to the one in Debian's OVMF_VARS images.
    /// </summary>
    public static void WritePristine(Span<byte> destination)
    {
        if (destination.Length < HeaderSize)
            throw new ArgumentException($"Destination holds {destination.Length} bytes, {HeaderSize} needed.", nameof(destination));
        destination.Fill(0xFF);
        Span<byte> header = destination[..HeaderSize];
        EfiGuids.FtwWorkingBlockSignature.TryWriteBytes(header);
        BinaryPrimitives.WriteUInt64LittleEndian(header[24..], (ulong)(destination.Length - HeaderSize));
        header[20] = 0xFE; // WorkingBlockValid set (bit 0 cleared), WorkingBlockInvalid clear (bit 1 still 1)
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], ComputeCrc(header));
    }

    /// <summary>
    /// UpdateWorkingBlock.c: CRC-32 over the 32-byte header with Crc = 0xFFFFFFFF and the flag byte = 0xFF (the values
    /// those fields had when the CRC was computed, before the valid bit was cleared).
    /// </summary>
    public static uint ComputeCrc(ReadOnlySpan<byte> header)
    {
        Span<byte> copy = stackalloc byte[HeaderSize];
        header[..HeaderSize].CopyTo(copy);
        BinaryPrimitives.WriteUInt32LittleEndian(copy[16..], 0xFFFFFFFF);
        copy[20] = 0xFF;
        return System.IO.Hashing.Crc32.HashToUInt32(copy);
    }

    private static FaultTolerantWorkingBlock NotInitialised(int offset, uint crc, ulong queueSize, string detail) => new()
    {
        Offset = offset, State = FaultTolerantWriteState.NotInitialised, Crc = crc, WriteQueueSize = queueSize, Detail = detail,
    };
}
