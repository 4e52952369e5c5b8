using System.Buffers.Binary;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using TrustedLaunch.HostSystem;

namespace TrustedLaunch.Storage;

/// <summary>
/// One blob in one pre-allocated, mode-0600 file of two slots, rewritten in place with one <c>fdatasync</c> per
/// write: what a vTPM's NV write costs. Each write goes to the slot that does not hold the newest record, with a
/// higher sequence number and a SHA-256 over the record; the file's size never changes, so the data flush is the
/// whole of the durability. After a crash at any instant one slot still holds the previous complete record (a torn
/// write fails its checksum), so a restore returns the complete old or the complete new blob. The header is written
/// only when the file is made or outgrown, whole, through <see cref="DurableFile"/>. A file in the older whole-blob
/// form (<see cref="FileNonVolatileStore"/>) is read as it is and converted at its next write.
/// <code>
/// file    0  "TLSLOTS1"  8  u32 slot size  12  u32 reserved = 0   (then zeros up to 4,096)
/// slot i  at 4,096 + i × slot size:
///         0  "TLREC001"  8  u64 sequence  16  u32 length  20  u32 reserved = 0
///        24  SHA-256 of bytes 0..24 and the payload   56  payload[length]
/// </code>
/// (integers big-endian)
/// </summary>
public sealed class SlottedFileNonVolatileStore : INonVolatileStore
{
    private const int HeaderSize = 4096;
    private const int RecordHeaderSize = 56;
    private const int MinimumSlotSize = 64 * 1024;
    private static ReadOnlySpan<byte> FileMagic => "TLSLOTS1"u8;
    private static ReadOnlySpan<byte> RecordMagic => "TLREC001"u8;

    private readonly Lock _gate = new();
    private Layout? _layout; // what the file holds, once read or written by this instance

    public SlottedFileNonVolatileStore(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FilePath = Path.GetFullPath(path);
    }

    /// <summary>The absolute path of the file.</summary>
    public string FilePath { get; }

    public void Persist(ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            try
            {
                Layout? layout = _layout ?? ReadLayout();
                if (layout is { SlotSize: > 0 } current && data.Length <= current.SlotSize - RecordHeaderSize)
                    _layout = WriteInPlace(current, data);
                else
                    _layout = Create(data, layout?.Sequence ?? 0);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _layout = null; // read the file again before the next write
                throw new NonVolatileStoreException($"Could not persist {FilePath}: {e.Message}", e);
            }
        }
    }

    public byte[]? Restore()
    {
        lock (_gate)
        {
            byte[] file;
            try
            {
                file = File.ReadAllBytes(FilePath);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return null;
            }

            if (!IsSlotted(file))
            {
                _layout = new Layout(0, 0, -1); // the older whole-blob form: the next write converts it
                return file;
            }

            Layout layout = Inspect(file);
            _layout = layout;
            if (layout.NewestSlot < 0)
                throw new NonVolatileStoreException($"{FilePath} was tampered with or damaged: neither of its two slots holds an intact record (SHA-256 mismatch).");
            ReadOnlySpan<byte> record = Slot(file, layout.SlotSize, layout.NewestSlot);
            return record.Slice(RecordHeaderSize, (int)BinaryPrimitives.ReadUInt32BigEndian(record[16..])).ToArray();
        }
    }

    private Layout? ReadLayout()
    {
        try
        {
            byte[] file = File.ReadAllBytes(FilePath);
            return IsSlotted(file) ? Inspect(file) : new Layout(0, 0, -1);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    // The slot not holding the newest record gets the next one; one data flush makes it durable.
    private Layout WriteInPlace(Layout layout, ReadOnlySpan<byte> data)
    {
        int target = layout.NewestSlot == 0 ? 1 : 0;
        ulong sequence = layout.Sequence + 1;
        byte[] record = Record(sequence, data);
        using SafeFileHandle handle = File.OpenHandle(FilePath, FileMode.Open, FileAccess.Write);
        RandomAccess.Write(handle, record, HeaderSize + (long)target * layout.SlotSize);
        DurableFile.FlushData(handle);
        return new Layout(layout.SlotSize, sequence, target);
    }

    // A new file (or a larger one): header, the record in slot 0, slot 1 empty; written whole, then renamed in.
    private Layout Create(ReadOnlySpan<byte> data, ulong previousSequence)
    {
        int slotSize = SlotSizeFor(data.Length);
        byte[] file = new byte[HeaderSize + 2 * slotSize];
        FileMagic.CopyTo(file);
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(8), (uint)slotSize);
        ulong sequence = previousSequence + 1;
        Record(sequence, data).CopyTo(file, HeaderSize);
        DurableFile.Write(FilePath, file, overwrite: true, ownerOnly: true);
        return new Layout(slotSize, sequence, 0);
    }

    // Room to grow: the state of a vTPM grows as NV indices and persistent objects are added.
    private static int SlotSizeFor(int length)
    {
        long wanted = Math.Max(MinimumSlotSize, 2L * (length + RecordHeaderSize));
        if (wanted > int.MaxValue / 4)
            throw new IOException($"A blob of {length} bytes is too large for a slotted file.");
        return (int)((wanted + HeaderSize - 1) / HeaderSize * HeaderSize);
    }

    private static byte[] Record(ulong sequence, ReadOnlySpan<byte> data)
    {
        byte[] record = new byte[RecordHeaderSize + data.Length];
        RecordMagic.CopyTo(record);
        BinaryPrimitives.WriteUInt64BigEndian(record.AsSpan(8), sequence);
        BinaryPrimitives.WriteUInt32BigEndian(record.AsSpan(16), (uint)data.Length);
        data.CopyTo(record.AsSpan(RecordHeaderSize));
        Checksum(record.AsSpan(0, 24), data, record.AsSpan(24, 32));
        return record;
    }

    private static void Checksum(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(header);
        hash.AppendData(payload);
        hash.GetHashAndReset(destination);
    }

    private static bool IsSlotted(ReadOnlySpan<byte> file) => file.Length >= HeaderSize && file.StartsWith(FileMagic);

    // Both slots checked; the intact one with the higher sequence is the newest (-1: neither is intact).
    private Layout Inspect(byte[] file)
    {
        uint slotSize = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(8));
        ulong expected = HeaderSize + 2UL * slotSize;
        if (slotSize < RecordHeaderSize || expected != (ulong)file.Length)
        {
            string what = (ulong)file.Length < expected ? "is truncated" : "was tampered with";
            throw new NonVolatileStoreException($"{FilePath} {what}: {file.Length} bytes where its header says {expected} (two slots of {slotSize}).");
        }

        int newest = -1;
        ulong newestSequence = 0;
        for (int i = 0; i < 2; i++)
        {
            if (Intact(Slot(file, (int)slotSize, i), out ulong sequence) && (newest < 0 || sequence > newestSequence))
                (newest, newestSequence) = (i, sequence);
        }

        return new Layout((int)slotSize, newestSequence, newest);
    }

    private static ReadOnlySpan<byte> Slot(byte[] file, int slotSize, int index) => file.AsSpan(HeaderSize + index * slotSize, slotSize);

    private static bool Intact(ReadOnlySpan<byte> slot, out ulong sequence)
    {
        sequence = 0;
        if (!slot.StartsWith(RecordMagic))
            return false;
        uint length = BinaryPrimitives.ReadUInt32BigEndian(slot[16..]);
        if (length > (uint)(slot.Length - RecordHeaderSize))
            return false;
        Span<byte> expected = stackalloc byte[32];
        Checksum(slot[..24], slot.Slice(RecordHeaderSize, (int)length), expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, slot.Slice(24, 32)))
            return false;
        sequence = BinaryPrimitives.ReadUInt64BigEndian(slot[8..]);
        return true;
    }

    /// <param name="SlotSize">0 for a file in the older whole-blob form (rewritten slotted at the next write).</param>
    /// <param name="Sequence">The newest record's sequence number.</param>
    /// <param name="NewestSlot">The slot holding it, or -1.</param>
    private sealed record Layout(int SlotSize, ulong Sequence, int NewestSlot);
}
