using System.Buffers.Binary;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;
using TrustedLaunch.Vmgs.Storage;

namespace TrustedLaunch.Vmgs.Tests;

/// <summary>Wrong keys, tampering, swaps between files and rollbacks: what is detected and what is not.</summary>
public class VmgsIntegrityTests
{
    private static byte[] NewFile(VmgsKeyEncryptionKey kek, params (VmgsEntryId Id, byte[] Data)[] entries)
    {
        var storage = new MemoryBlockStorage();
        using var file = VmgsFile.Create(storage, kek);
        foreach (var (id, data) in entries)
            file.WriteEntry(id, data);
        return storage.ToArray();
    }

    private static VmgsFile OpenImage(byte[] image, VmgsKeyEncryptionKey? kek) => VmgsFile.Open(new MemoryBlockStorage(image), kek);

    [Fact]
    public void Open_WrongKek_ThrowsIntegrityNamingBothThumbprintsAndSource()
    {
        using var right = TestKeys.Random("right.kek");
        using var wrong = TestKeys.Random("/etc/wrong.kek");
        byte[] image = NewFile(right, (VmgsEntryId.VTpmState, [1, 2]));
        var e = Assert.Throws<VmgsIntegrityException>(() => OpenImage(image, wrong));
        Assert.Contains("/etc/wrong.kek", e.Message, StringComparison.Ordinal);
        Assert.Contains(right.ThumbprintHex, e.Message, StringComparison.Ordinal);
        Assert.Contains(wrong.ThumbprintHex, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_CiphertextFlip_ReadThrowsIntegrity()
    {
        using var kek = TestKeys.Random();
        byte[] image = NewFile(kek, (VmgsEntryId.VTpmState, TestKeys.Payload(1000, 1)));
        using var probe = OpenImage(image, kek);
        image[probe.Header.Entries[0].Offset + 500] ^= 0x40;
        using var file = OpenImage(image, kek);
        Assert.Throws<VmgsIntegrityException>(() => file.ReadEntry(VmgsEntryId.VTpmState));
    }

    [Fact]
    public void TableEdit_WithFixedChecksumButNoDataKey_FailsHeaderMac()
    {
        using var kek = TestKeys.Random();
        byte[] image = NewFile(kek, (VmgsEntryId.VTpmState, [1]));
        int active = OpenImage(image, null).ActiveSlot * VmgsLayout.HeaderSlotSize;
        image[active + VmgsLayout.HeaderFixedSize + VmgsEntryOffsets.Tag] ^= 1; // an attacker fixes the keyless checksum
        Rechecksum(image, active);
        var e = Assert.Throws<VmgsIntegrityException>(() => OpenImage(image, kek));
        Assert.Contains("MAC", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EntrySwappedFromAnotherVmsFile_IsDetected()
    {
        using var kek = TestKeys.Random(); // the same host KEK for both VMs: the worst case
        byte[] a = NewFile(kek, (VmgsEntryId.VTpmState, TestKeys.Payload(5000, 1)));
        byte[] b = NewFile(kek, (VmgsEntryId.VTpmState, TestKeys.Payload(5000, 2)));
        using var fa = OpenImage(a, kek);
        using var fb = OpenImage(b, kek);
        VmgsEntry ea = fa.Header.Entries[0], eb = fb.Header.Entries[0];
        // Ciphertext only: B's table row now points at A's bytes.
        Array.Copy(a, ea.Offset, b, eb.Offset, ea.Length);
        using var swapped = OpenImage(b, kek);
        Assert.Throws<VmgsIntegrityException>(() => swapped.ReadEntry(VmgsEntryId.VTpmState));
    }

    [Fact]
    public void EntryRowAndBytesSwappedEvenWithValidMac_FailsAesGcmBecauseAadBindsFileId()
    {
        // An insider who holds B's data key and re-MACs B's header still cannot make A's entry authenticate
        // inside B: the AAD carries the file id (and both files have their own data keys besides).
        using var kek = TestKeys.Random();
        byte[] a = NewFile(kek, (VmgsEntryId.VTpmState, TestKeys.Payload(5000, 1)));
        var storageB = new MemoryBlockStorage();
        using var fileB = VmgsFile.Create(storageB, kek);
        fileB.WriteEntry(VmgsEntryId.VTpmState, TestKeys.Payload(5000, 2));
        using var fa = OpenImage(a, kek);
        VmgsEntry ea = fa.Header.Entries[0];
        storageB.Write(ea.Offset, a.AsSpan((int)ea.Offset, ea.AllocatedLength));
        using VmgsDataKey keyB = VmgsDataKey.Unlock(fileB.Header, kek);
        VmgsHeader forged = keyB.Seal(fileB.Header with { Sequence = fileB.Header.Sequence + 1, Entries = [ea] });
        storageB.Write((1 - fileB.ActiveSlot) * (long)VmgsLayout.HeaderSlotSize, VmgsHeaderCodec.Encode(forged));
        using var reopened = OpenImage(storageB.ToArray(), kek);
        Assert.Equal(forged.Sequence, reopened.Header.Sequence);
        Assert.Throws<VmgsIntegrityException>(() => reopened.ReadEntry(VmgsEntryId.VTpmState));
    }

    [Fact]
    public void EntryIdsSwappedWithinOneFileEvenWithValidMac_FailsAesGcm()
    {
        using var kek = TestKeys.Random();
        var storage = new MemoryBlockStorage();
        using var file = VmgsFile.Create(storage, kek);
        file.WriteEntry(VmgsEntryId.UefiNvram, TestKeys.Payload(100, 1));
        file.WriteEntry(VmgsEntryId.VTpmState, TestKeys.Payload(100, 2));
        using VmgsDataKey key = VmgsDataKey.Unlock(file.Header, kek);
        VmgsEntry n = file.Header.Entries[0], t = file.Header.Entries[1];
        VmgsHeader forged = key.Seal(file.Header with
        {
            Sequence = file.Header.Sequence + 1,
            Entries = [n with { Offset = t.Offset, Nonce = t.Nonce, Tag = t.Tag, Generation = t.Generation }, t with { Offset = n.Offset, Nonce = n.Nonce, Tag = n.Tag, Generation = n.Generation }],
        });
        storage.Write((1 - file.ActiveSlot) * (long)VmgsLayout.HeaderSlotSize, VmgsHeaderCodec.Encode(forged));
        using var reopened = OpenImage(storage.ToArray(), kek);
        Assert.Throws<VmgsIntegrityException>(() => reopened.ReadEntry(VmgsEntryId.UefiNvram));
        Assert.Throws<VmgsIntegrityException>(() => reopened.ReadEntry(VmgsEntryId.VTpmState));
    }

    [Fact]
    public void OlderEntrySplicedIntoCurrentFile_IsDetected()
    {
        using var kek = TestKeys.Random();
        var storage = new MemoryBlockStorage();
        using var file = VmgsFile.Create(storage, kek);
        file.WriteEntry(VmgsEntryId.VTpmState, TestKeys.Payload(3000, 1));
        byte[] old = storage.ToArray();
        VmgsEntry oldRow = file.Header.Entries[0];
        file.WriteEntry(VmgsEntryId.UefiNvram, TestKeys.Payload(3000, 9));
        file.WriteEntry(VmgsEntryId.VTpmState, TestKeys.Payload(3000, 2));
        file.WriteEntry(VmgsEntryId.VTpmState, TestKeys.Payload(3000, 3));
        byte[] now = storage.ToArray();
        // Put the old ciphertext back where the current row points, with the current row: GCM fails (generation in AAD).
        VmgsEntry row = file.Header.Find(VmgsEntryId.VTpmState)!.Value;
        Array.Copy(old, oldRow.Offset, now, row.Offset, oldRow.Length);
        using (var a = OpenImage(now, kek))
            Assert.Throws<VmgsIntegrityException>(() => a.ReadEntry(VmgsEntryId.VTpmState));
        // Put the old row in too (old nonce/tag/generation): the keyless checksum can be fixed, the MAC cannot.
        int slot = file.ActiveSlot * VmgsLayout.HeaderSlotSize;
        int rowAt = slot + VmgsLayout.HeaderFixedSize + VmgsLayout.EntrySize; // vTPM is the second row
        BinaryPrimitives.WriteUInt64LittleEndian(now.AsSpan(rowAt + VmgsEntryOffsets.Generation), oldRow.Generation);
        oldRow.Nonce.Span.CopyTo(now.AsSpan(rowAt + VmgsEntryOffsets.Nonce));
        oldRow.Tag.Span.CopyTo(now.AsSpan(rowAt + VmgsEntryOffsets.Tag));
        Rechecksum(now, slot);
        Assert.Throws<VmgsIntegrityException>(() => OpenImage(now, kek));
    }

    [Fact]
    public void WholeFileRolledBackToOlderCopy_IsNotDetected_DocumentedLimit()
    {
        // Without a monotonic counter outside the file nothing can tell an older complete copy from the
        // current one. This test pins that limit so docs/vmgs.md stays honest if it ever changes.
        using var kek = TestKeys.Random();
        var storage = new MemoryBlockStorage();
        using var file = VmgsFile.Create(storage, kek);
        file.WriteEntry(VmgsEntryId.VTpmState, TestKeys.Payload(3000, 1));
        byte[] old = storage.ToArray();
        file.WriteEntry(VmgsEntryId.VTpmState, TestKeys.Payload(3000, 2));
        using var rolledBack = OpenImage(old, kek);
        Assert.Equal(TestKeys.Payload(3000, 1), rolledBack.ReadEntry(VmgsEntryId.VTpmState));
        Assert.True(rolledBack.Header.Sequence < file.Header.Sequence, "the sequence is what an external counter would compare");
    }

    [Fact]
    public void HostileImages_TruncationsAndFlips_ThrowOnlyVmgsExceptions()
    {
        using var kek = TestKeys.Random();
        byte[] image = NewFile(kek, (VmgsEntryId.UefiNvram, TestKeys.Payload(6000, 1)), (VmgsEntryId.VTpmState, TestKeys.Payload(6000, 2)), (VmgsEntryId.VTpmState, TestKeys.Payload(7000, 3)));
        var random = new Random(11);
        var cases = new List<byte[]>();
        for (int length = 0; length < image.Length; length += length < 8400 ? 7 : 509)
            cases.Add(image[..length]);
        for (int i = 0; i < 600; i++)
        {
            byte[] flipped = (byte[])image.Clone();
            flipped[random.Next(i % 2 == 0 ? 8192 + 400 : flipped.Length)] ^= (byte)(1 << random.Next(8));
            cases.Add(flipped);
        }

        foreach (byte[] candidate in cases)
        {
            Exception? e = Record.Exception(() =>
            {
                using var file = OpenImage(candidate, kek);
                _ = file.ReadEntry(VmgsEntryId.UefiNvram);
                _ = file.ReadEntry(VmgsEntryId.VTpmState);
            });
            Assert.True(e is null or VmgsException, $"{candidate.Length} bytes: {e}");
        }
    }

    [Fact]
    public void MalformedVersusCorrupt_AreDistinct()
    {
        using var kek = TestKeys.Random();
        Assert.Throws<VmgsFormatException>(() => OpenImage(new byte[20000], kek));
        Assert.Throws<VmgsFormatException>(() => OpenImage("not a vmgs file at all"u8.ToArray(), kek));
        byte[] image = NewFile(kek);
        image[100] ^= 1; // slot 0 is the only header; slot 1 still empty
        Assert.Throws<VmgsIntegrityException>(() => OpenImage(image, kek));
    }

    private static void Rechecksum(byte[] image, int slotOffset)
    {
        Span<byte> slot = image.AsSpan(slotOffset, VmgsLayout.HeaderSlotSize);
        int covered = BinaryPrimitives.ReadInt32LittleEndian(slot[VmgsHeaderOffsets.CoveredLength..]);
        slot.Slice(VmgsHeaderOffsets.Checksum, 32).Clear();
        byte[] sum = System.Security.Cryptography.SHA256.HashData(slot[..covered]);
        sum.CopyTo(slot[VmgsHeaderOffsets.Checksum..]);
    }
}
