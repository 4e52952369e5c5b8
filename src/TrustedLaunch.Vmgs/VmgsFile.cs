using System.Security.Cryptography;
using TrustedLaunch.HostSystem;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;
using TrustedLaunch.Vmgs.Storage;

namespace TrustedLaunch.Vmgs;

/// <summary>
/// One VM's guest-state file: typed entries, each AES-256-GCM under the VM's data key, committed by writing
/// the inactive header copy. An update never touches bytes the active header points to; it writes the new
/// ciphertext to free space, fsyncs, writes the other header copy with the next sequence and fsyncs
/// (docs/vmgs.md §5). A crash at any point leaves the old or the new entry, never a mix.
/// </summary>
public sealed class VmgsFile : IDisposable
{
    private const int ReadRetries = 3;
    private readonly IBlockStorage _storage;
    private readonly VmgsDataKey? _key;
    private readonly Lock _gate = new();
    private VmgsHeader _active;
    private int _activeSlot;
    private bool _disposed;

    private VmgsFile(IBlockStorage storage, VmgsSlotState active, VmgsDataKey? key)
    {
        _storage = storage;
        _active = active.Header!;
        _activeSlot = active.Slot;
        _key = key;
    }

    /// <summary>The active header (newest valid copy).</summary>
    public VmgsHeader Header
    {
        get
        {
            lock (_gate)
                return _active;
        }
    }

    /// <summary>Which slot (0 or 1) holds the active header.</summary>
    public int ActiveSlot
    {
        get
        {
            lock (_gate)
                return _activeSlot;
        }
    }

    /// <summary>Whether the data key is available (opened with the right KEK).</summary>
    public bool IsUnlocked => _key is not null;

    /// <summary>Whether this instance holds the writer lock.</summary>
    public bool CanWrite => _storage.CanWrite && _key is not null;

    /// <summary>Current size of the underlying storage in bytes.</summary>
    public long StorageLength => _storage.Length;

    /// <summary>Creates a VMGS file at <paramref name="path"/>: built in a temp file, then published by <see cref="DurableFile"/>.</summary>
    /// <exception cref="IOException">The path exists.</exception>
    public static VmgsFile Create(string path, VmgsKeyEncryptionKey kek, Guid? fileId = null)
    {
        ArgumentNullException.ThrowIfNull(kek);
        string full = Path.GetFullPath(path);
        if (File.Exists(full))
            throw new IOException($"{full} already exists; refusing to replace a guest-state file.");
        DurableFile.Publish(full, overwrite: false, temporary => // the file appears complete or not at all
        {
            using var storage = FileBlockStorage.CreateNew(temporary);
            Format(storage, kek, fileId ?? Guid.NewGuid()).Dispose();
        });
        return Open(full, kek, writable: true);
    }

    /// <summary>
    /// Builds a complete new file in memory (<paramref name="populate"/> writes its entries), checks it opens,
    /// then writes it to <paramref name="path"/> as a mode-0600 file through <see cref="DurableFile"/>:
    /// the path gets the whole populated file or nothing, never a half-provisioned one.
    /// </summary>
    public static VmgsHeader CreateWith(string path, VmgsKeyEncryptionKey kek, Action<VmgsFile> populate, Guid? fileId = null)
    {
        ArgumentNullException.ThrowIfNull(populate);
        string full = Path.GetFullPath(path);
        if (File.Exists(full))
            throw new IOException($"{full} already exists; refusing to replace a guest-state file.");
        var memory = new MemoryBlockStorage();
        VmgsHeader header;
        using (VmgsFile file = Format(memory, kek, fileId ?? Guid.NewGuid()))
        {
            populate(file);
            header = file.Header;
        }

        byte[] image = memory.ToArray();
        using (Open(new MemoryBlockStorage(image), kek)) { } // the image must open before it replaces anything
        DurableFile.Write(full, image, overwrite: false, ownerOnly: true);
        return header;
    }

    /// <summary>Formats empty <paramref name="storage"/> (which the returned file then owns) with a fresh data key.</summary>
    public static VmgsFile Create(IBlockStorage storage, VmgsKeyEncryptionKey kek, Guid? fileId = null) =>
        Format(storage, kek, fileId ?? Guid.NewGuid());

    /// <summary>Opens a VMGS file; without a KEK only the header can be inspected.</summary>
    /// <exception cref="VmgsFormatException">The file is malformed.</exception>
    /// <exception cref="VmgsIntegrityException">Checksums fail on both copies, the KEK is wrong, or the header was tampered with.</exception>
    /// <exception cref="VmgsFileInUseException">Opened for writing while another writer holds it.</exception>
    public static VmgsFile Open(string path, VmgsKeyEncryptionKey? kek, bool writable)
    {
        if (writable && kek is null)
            throw new ArgumentException("Writing a VMGS file needs its key-encryption key.", nameof(kek));
        var storage = FileBlockStorage.Open(path, writable);
        try
        {
            return Open(storage, kek);
        }
        catch
        {
            storage.Dispose();
            throw;
        }
    }

    /// <summary>Opens <paramref name="storage"/>, which the returned file then owns.</summary>
    public static VmgsFile Open(IBlockStorage storage, VmgsKeyEncryptionKey? kek)
    {
        ArgumentNullException.ThrowIfNull(storage);
        VmgsSlotState active = VmgsHeaderSlots.SelectActive(VmgsHeaderSlots.ReadBoth(storage));
        active.Header!.EnsureExtentsWithin(storage.Length);
        VmgsDataKey? key = kek is null ? null : VmgsDataKey.Unlock(active.Header, kek);
        return new VmgsFile(storage, active, key);
    }

    private static VmgsFile Format(IBlockStorage storage, VmgsKeyEncryptionKey kek, Guid fileId)
    {
        ArgumentNullException.ThrowIfNull(kek);
        if (storage.Length != 0)
            throw new ArgumentException("Only empty storage can be formatted as a VMGS file.", nameof(storage));
        VmgsDataKey key = VmgsDataKey.Generate(fileId, kek, out byte[] wrapped);
        VmgsHeader header = key.Seal(new VmgsHeader
        {
            Sequence = 1,
            FileId = fileId,
            KekThumbprint = kek.Thumbprint.ToArray(),
            WrappedDataKey = wrapped,
            Entries = [],
        });
        storage.Write(0, VmgsHeaderCodec.Encode(header));
        storage.Write(VmgsLayout.HeaderSlotSize, new byte[VmgsLayout.HeaderSlotSize]); // slot 1: empty until the first update
        storage.Flush();
        return new VmgsFile(storage, new VmgsSlotState(0, header, null), key);
    }

    /// <summary>Decrypts an entry; null when the file has no such entry.</summary>
    /// <exception cref="VmgsIntegrityException">The ciphertext or its table row was altered, or moved from another file or generation.</exception>
    public byte[]? ReadEntry(VmgsEntryId id)
    {
        VmgsDataKey key = RequireKey();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            for (int attempt = 0; ; attempt++)
            {
                VmgsEntry? found = _active.Find(id);
                if (found is not { } entry)
                    return null;
                var ciphertext = new byte[entry.Length];
                int n = _storage.Read(entry.Offset, ciphertext);
                var plaintext = new byte[entry.Length];
                byte[] aad = VmgsEntryAad.Build(_active.FileId, id, entry.Generation, entry.Length);
                if (n == entry.Length && key.TryDecrypt(aad, entry, ciphertext, plaintext))
                    return plaintext;
                CryptographicOperations.ZeroMemory(plaintext);
                // A reader racing another process's writer may hold a header whose extents were just reused;
                // a newer header means "read again", an unchanged one means the bytes really are bad.
                if (_storage.CanWrite || attempt == ReadRetries || !RefreshCore())
                {
                    throw new VmgsIntegrityException(
                        $"Entry {VmgsEntryNames.ToName(id)} (generation {entry.Generation}) failed AES-GCM authentication: " +
                        "its ciphertext was corrupted or replaced, or its table row was moved from another file or an older copy.");
                }
            }
        }
    }

    /// <summary>Replaces (or adds) an entry atomically; durable when this returns.</summary>
    public void WriteEntry(VmgsEntryId id, ReadOnlySpan<byte> data)
    {
        if ((uint)id == 0)
            throw new ArgumentException("Entry id 0 is reserved.", nameof(id));
        if (data.Length > VmgsLayout.MaxEntryLength)
            throw new ArgumentException($"An entry holds at most {VmgsLayout.MaxEntryLength} bytes.", nameof(data));
        VmgsDataKey key = RequireWriter();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ulong generation = _active.Sequence + 1;
            int allocated = VmgsEntry.AllocationFor(data.Length);
            long offset = VmgsExtentAllocator.Place(_active.Entries, allocated);
            var block = new byte[allocated]; // ciphertext padded with zeros to whole blocks
            byte[] aad = VmgsEntryAad.Build(_active.FileId, id, generation, data.Length);
            key.Encrypt(aad, data, block.AsSpan(0, data.Length), out byte[] nonce, out byte[] tag);
            _storage.Write(offset, block);
            _storage.Flush(); // the data must be durable before any header points at it
            var entry = new VmgsEntry
            {
                Id = id, Generation = generation, Offset = offset, Length = data.Length,
                AllocatedLength = allocated, Nonce = nonce, Tag = tag,
            };
            Commit([.. _active.Entries.Where(e => e.Id != id), entry]);
        }
    }

    /// <summary>Removes an entry; false when there was none.</summary>
    public bool DeleteEntry(VmgsEntryId id)
    {
        RequireWriter();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_active.Find(id) is null)
                return false;
            Commit([.. _active.Entries.Where(e => e.Id != id)]);
            return true;
        }
    }

    /// <summary>
    /// Moves entries down into holes (each move is an ordinary crash-safe update), commits the table into both
    /// header copies, then truncates the file after the last extent. Returns the bytes reclaimed.
    /// </summary>
    public long Compact()
    {
        RequireWriter();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            long before = _storage.Length;
            foreach (VmgsEntry entry in _active.Entries.OrderByDescending(e => e.Offset).ToArray())
            {
                VmgsEntry current = _active.Find(entry.Id)!.Value;
                var others = _active.Entries.Where(e => e.Id != entry.Id).ToArray();
                if (VmgsExtentAllocator.Place(others, current.AllocatedLength) >= current.Offset)
                    continue;
                byte[] plaintext = ReadEntry(entry.Id)!;
                WriteEntry(entry.Id, plaintext); // lands below: the hole is free w.r.t. the active table
                CryptographicOperations.ZeroMemory(plaintext);
            }

            // Two commits put the compacted table into both slots; only then is nothing past its end referenced.
            Commit([.. _active.Entries]);
            Commit([.. _active.Entries]);
            long end = _active.ExtentEnd;
            if (end < before)
            {
                _storage.SetLength(end);
                _storage.Flush();
            }

            return before - _storage.Length;
        }
    }

    /// <summary>Re-reads the headers (a reader following another process's writer). True when a newer header was found.</summary>
    public bool Refresh()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return RefreshCore();
        }
    }

    private bool RefreshCore()
    {
        VmgsSlotState state = VmgsHeaderSlots.SelectActive(VmgsHeaderSlots.ReadBoth(_storage));
        VmgsHeader header = state.Header!;
        if (header.FileId != _active.FileId)
            throw new VmgsIntegrityException($"The file was replaced by another VMGS file ({header.FileId}, was {_active.FileId}).");
        if (header.Sequence <= _active.Sequence)
            return false;
        if (_key is not null && !CryptographicOperations.FixedTimeEquals(_key.ComputeMac(header), header.HeaderMac.Span))
            throw new VmgsIntegrityException($"The header MAC does not verify (sequence {header.Sequence}).");
        _active = header;
        _activeSlot = state.Slot;
        return true;
    }

    private void Commit(VmgsEntry[] entries)
    {
        Array.Sort(entries, (x, y) => ((uint)x.Id).CompareTo((uint)y.Id));
        VmgsHeader next = _key!.Seal(_active with { Sequence = _active.Sequence + 1, Entries = entries });
        int target = 1 - _activeSlot;
        _storage.Write((long)target * VmgsLayout.HeaderSlotSize, VmgsHeaderCodec.Encode(next));
        _storage.Flush(); // the commit point: once durable, the new header outranks the old
        _active = next;
        _activeSlot = target;
    }

    private VmgsDataKey RequireKey() =>
        _key ?? throw new InvalidOperationException("This VMGS file was opened without its key-encryption key; entries cannot be read.");

    private VmgsDataKey RequireWriter()
    {
        VmgsDataKey key = RequireKey();
        if (!_storage.CanWrite)
            throw new InvalidOperationException("This VMGS file was opened read-only.");
        return key;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            _key?.Dispose();
            _storage.Dispose();
        }
    }
}
