using System.Buffers.Binary;
using System.Text;

namespace TrustedLaunch.Uefi.Format.VariableStore;

/// <summary>
/// A parsed OVMF/edk2 NV flash file: the FV header, the variable-store header, every variable record in flash order
/// (live, in deleted transition, deleted), the free-space state and the FTW working block. The input is hostile: every
/// size is bounds-checked and anything malformed raises <see cref="UefiFormatException"/> with the offending offset.
/// </summary>
public sealed class VariableStoreImage
{
    private VariableStoreImage(ReadOnlyMemory<byte> flash, FirmwareVolumeHeader volume, VariableStoreHeader store, int storeOffset,
        IReadOnlyList<StoredVariable> records, int endOfVariables, bool freeSpaceErased, FaultTolerantWorkingBlock? ftw)
    {
        Flash = flash;
        Volume = volume;
        StoreHeader = store;
        StoreHeaderOffset = storeOffset;
        Records = records;
        EndOfVariables = endOfVariables;
        FreeSpaceErased = freeSpaceErased;
        FaultTolerantWrite = ftw;
    }

    /// <summary>The file as parsed; records slice into it.</summary>
    public ReadOnlyMemory<byte> Flash { get; }

    public FirmwareVolumeHeader Volume { get; }

    public VariableStoreHeader StoreHeader { get; }

    /// <summary>Offset of the VARIABLE_STORE_HEADER (the FV HeaderLength).</summary>
    public int StoreHeaderOffset { get; }

    /// <summary>Offset one past the store: StoreHeaderOffset + StoreHeader.Size.</summary>
    public int StoreEnd => StoreHeaderOffset + (int)StoreHeader.Size;

    /// <summary>Every record in flash order, whatever its state.</summary>
    public IReadOnlyList<StoredVariable> Records { get; }

    /// <summary>Offset just after the last record (aligned), where free space begins.</summary>
    public int EndOfVariables { get; }

    /// <summary>True when every byte from <see cref="EndOfVariables"/> to the store end is 0xFF (else edk2 reclaims at boot).</summary>
    public bool FreeSpaceErased { get; }

    /// <summary>The FTW working block, or null when the file has no room for one where OVMF puts it.</summary>
    public FaultTolerantWorkingBlock? FaultTolerantWrite { get; }

    /// <summary>
    /// The live variables as edk2 FindVariableEx sees them: each Added record, plus an InDeletedTransition record when no
    /// Added record with the same (vendor GUID, name) exists. Flash order; keyed by (GUID, name).
    /// </summary>
    public IReadOnlyList<StoredVariable> LiveVariables
    {
        get
        {
            var added = new HashSet<(Guid, string)>(Records.Where(r => r.State == VariableState.Added).Select(r => (r.VendorGuid, r.Name)));
            var seen = new HashSet<(Guid, string)>();
            var live = new List<StoredVariable>();
            foreach (var r in Records)
            {
                bool isLive = r.State == VariableState.Added
                    || (r.State == VariableState.InDeletedTransition && !added.Contains((r.VendorGuid, r.Name)));
                if (isLive && seen.Add((r.VendorGuid, r.Name)))
                    live.Add(r);
            }

            return live;
        }
    }

    /// <summary>Parses a whole flash file (4 MB or 2 MB OVMF layout, or any FV with an authenticated store).</summary>
    public static VariableStoreImage Parse(ReadOnlyMemory<byte> flash)
    {
        ReadOnlySpan<byte> span = flash.Span;
        var volume = FirmwareVolumeHeader.Read(span);
        if (volume.FileSystemGuid != EfiGuids.SystemNvDataFv)
            throw new UefiFormatException($"Firmware volume FileSystemGuid {volume.FileSystemGuid} is not gEfiSystemNvDataFvGuid.") { Offset = 0x10 };
        if (!volume.ChecksumValid)
            throw new UefiFormatException("Firmware volume header checksum does not sum to zero.") { Offset = 0x32 };

        int storeOffset = volume.HeaderLength;
        if (span.Length - storeOffset < VariableStoreHeader.EncodedSize)
            throw new UefiFormatException("No room for the VARIABLE_STORE_HEADER after the FV header.") { Offset = storeOffset };
        var store = VariableStoreHeader.Read(span[storeOffset..]);
        if (!store.IsAuthenticated)
            throw new UefiFormatException($"Variable store signature {store.Signature} is not gEfiAuthenticatedVariableGuid (OVMF always uses authenticated headers).") { Offset = storeOffset };
        if (store.Format != VariableStoreHeader.Formatted || store.State != VariableStoreHeader.Healthy)
            throw new UefiFormatException($"Variable store is not formatted and healthy (Format 0x{store.Format:X2}, State 0x{store.State:X2}).") { Offset = storeOffset + 20 };
        if (store.Size < VariableStoreHeader.EncodedSize || store.Size > (uint)(span.Length - storeOffset))
            throw new UefiFormatException($"Variable store Size 0x{store.Size:X} does not fit the {span.Length}-byte file.") { Offset = storeOffset + 16 };

        int storeEnd = storeOffset + (int)store.Size;
        var records = new List<StoredVariable>();
        int at = storeOffset + VariableStoreHeader.EncodedSize;
        while (at + StoredVariable.AuthenticatedHeaderSize <= storeEnd
            && BinaryPrimitives.ReadUInt16LittleEndian(span[at..]) == StoredVariable.StartId)
        {
            var record = ReadRecord(flash, at, storeEnd);
            records.Add(record);
            int next = at + StoredVariable.AuthenticatedHeaderSize + (record.Name.Length + 1) * 2 + record.Data.Length;
            at = AlignUp4(next);
            // A variable ending exactly at the store end leaves no room for another header.
            if (at > storeEnd)
                at = storeEnd;
        }

        bool erased = span[at..storeEnd].IndexOfAnyExcept((byte)0xFF) < 0;

        FaultTolerantWorkingBlock? ftw = null;
        var layout = NvFlashLayout.ForFileSize(span.Length);
        if (layout is not null && layout.VariableRegionSize == storeEnd)
            ftw = FaultTolerantWorkingBlock.Read(span, layout.FtwWorkingOffset, layout.FtwWorkingSize);

        return new VariableStoreImage(flash, volume, store, storeOffset, records, at, erased, ftw);
    }

    private static StoredVariable ReadRecord(ReadOnlyMemory<byte> flash, int at, int storeEnd)
    {
        ReadOnlySpan<byte> h = flash.Span.Slice(at, StoredVariable.AuthenticatedHeaderSize);
        byte state = h[2];
        uint nameSize = BinaryPrimitives.ReadUInt32LittleEndian(h[36..]);
        uint dataSize = BinaryPrimitives.ReadUInt32LittleEndian(h[40..]);
        long nameStart = at + StoredVariable.AuthenticatedHeaderSize;
        // Overflow-safe: both sizes are UINT32, summed in 64 bits against the store end.
        if (nameStart + (long)nameSize + dataSize > storeEnd)
            throw new UefiFormatException($"Variable at 0x{at:X} (NameSize {nameSize}, DataSize {dataSize}) runs past the store end 0x{storeEnd:X}.") { Offset = at };
        if (nameSize < 2 || nameSize % 2 != 0)
            throw new UefiFormatException($"Variable at 0x{at:X} has NameSize {nameSize}; a NUL-terminated UTF-16 name needs an even size of at least 2.") { Offset = at + 36 };

        ReadOnlySpan<byte> nameBytes = flash.Span.Slice((int)nameStart, (int)nameSize);
        if (BinaryPrimitives.ReadUInt16LittleEndian(nameBytes[^2..]) != 0)
            throw new UefiFormatException($"Variable name at 0x{nameStart:X} is not NUL-terminated.") { Offset = nameStart };
        string name = DecodeName(nameBytes[..^2], nameStart);

        return new StoredVariable
        {
            Offset = at,
            RawState = state,
            State = StoredVariable.Classify(state),
            Attributes = (EfiVariableAttributes)BinaryPrimitives.ReadUInt32LittleEndian(h[4..]),
            MonotonicCount = BinaryPrimitives.ReadUInt64LittleEndian(h[8..]),
            TimeStamp = EfiTime.Read(h[16..]),
            PubKeyIndex = BinaryPrimitives.ReadUInt32LittleEndian(h[32..]),
            VendorGuid = new Guid(h.Slice(44, 16)),
            Name = name,
            Data = flash.Slice((int)(nameStart + nameSize), (int)dataSize),
        };
    }

    private static string DecodeName(ReadOnlySpan<byte> utf16, long offset)
    {
        var chars = new char[utf16.Length / 2];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)BinaryPrimitives.ReadUInt16LittleEndian(utf16[(2 * i)..]);
            if (chars[i] == '\0')
                throw new UefiFormatException($"Variable name at 0x{offset:X} has an embedded NUL.") { Offset = offset + (2 * i) };
        }

        return new string(chars);
    }

    internal static int AlignUp4(int value) => (value + 3) & ~3;

    internal static int EncodedNameSize(string name) => (name.Length + 1) * 2;

    internal static void WriteName(string name, Span<byte> destination)
    {
        for (int i = 0; i < name.Length; i++)
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(2 * i)..], name[i]);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[(2 * name.Length)..], 0);
    }

    /// <summary>A readable one-line description, for diagnostics.</summary>
    public override string ToString() => new StringBuilder()
        .Append("NV store: ").Append(Flash.Length).Append(" bytes, ").Append(Records.Count).Append(" records, ")
        .Append(LiveVariables.Count).Append(" live").ToString();
}
