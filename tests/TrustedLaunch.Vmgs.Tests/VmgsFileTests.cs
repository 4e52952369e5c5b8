using TrustedLaunch.Testing;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;
using TrustedLaunch.Vmgs.Storage;

namespace TrustedLaunch.Vmgs.Tests;

public class VmgsFileTests
{
    [Fact]
    public void WriteEntry_ThenReopen_ReadsSameBytes()
    {
        string dir = RepositoryPaths.NewTempDirectory("vmgs");
        string path = Path.Combine(dir, "vm.vmgs");
        using var kek = TestKeys.Random();
        byte[] nvram = TestKeys.Payload(540_672, 1), vtpm = TestKeys.Payload(65_536, 2);
        using (var file = VmgsFile.Create(path, kek))
        {
            file.WriteEntry(VmgsEntryId.UefiNvram, nvram);
            file.WriteEntry(VmgsEntryId.VTpmState, vtpm);
            file.WriteEntry(VmgsEntryId.VTpmState, vtpm); // replace: lands elsewhere, old extent freed later
        }

        using var reopened = VmgsFile.Open(path, kek, writable: false);
        Assert.Equal(nvram, reopened.ReadEntry(VmgsEntryId.UefiNvram));
        Assert.Equal(vtpm, reopened.ReadEntry(VmgsEntryId.VTpmState));
        Assert.Null(reopened.ReadEntry(VmgsEntryId.VmIdentity));
        Assert.Equal(4ul, reopened.Header.Sequence);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void WriteEntry_NeverOverwritesTheLiveExtent()
    {
        using var kek = TestKeys.Random();
        using var file = VmgsFile.Create(new MemoryBlockStorage(), kek);
        for (int i = 0; i < 20; i++)
        {
            VmgsEntry? before = file.Header.Find(VmgsEntryId.VTpmState);
            file.WriteEntry(VmgsEntryId.VTpmState, TestKeys.Payload(65_536 + (i * 1000), i));
            VmgsEntry after = file.Header.Find(VmgsEntryId.VTpmState)!.Value;
            if (before is { } b)
                Assert.True(after.End <= b.Offset || after.Offset >= b.End, $"write {i} overlapped the live extent");
        }

        Assert.True(file.StorageLength <= VmgsLayout.DataAreaStart + (3 * 90_112), $"file grew to {file.StorageLength}");
    }

    [Fact]
    public void DeleteEntry_RemovesItDurably()
    {
        var storage = new MemoryBlockStorage();
        using var kek = TestKeys.Random();
        using var file = VmgsFile.Create(storage, kek);
        file.WriteEntry(VmgsEntryId.VmIdentity, "{}"u8);
        Assert.True(file.DeleteEntry(VmgsEntryId.VmIdentity));
        Assert.False(file.DeleteEntry(VmgsEntryId.VmIdentity));
        using var reopened = VmgsFile.Open(new MemoryBlockStorage(storage.ToArray()), kek);
        Assert.Empty(reopened.Header.Entries);
    }

    [Fact]
    public void UnknownEntryId_IsStoredAndListed()
    {
        var storage = new MemoryBlockStorage();
        using var kek = TestKeys.Random();
        using (var file = VmgsFile.Create(storage, kek))
            file.WriteEntry((VmgsEntryId)900, [1, 2, 3]);
        using var reopened = VmgsFile.Open(new MemoryBlockStorage(storage.ToArray()), kek);
        Assert.Equal((VmgsEntryId)900, Assert.Single(reopened.Header.Entries).Id);
        Assert.Equal([1, 2, 3], reopened.ReadEntry((VmgsEntryId)900));
    }

    [Fact]
    public void Compact_ShrinksFileAndKeepsData()
    {
        var storage = new MemoryBlockStorage();
        using var kek = TestKeys.Random();
        using var file = VmgsFile.Create(storage, kek);
        file.WriteEntry(VmgsEntryId.UefiNvram, TestKeys.Payload(1_000_000, 1));
        file.WriteEntry(VmgsEntryId.VTpmState, TestKeys.Payload(65_536, 2));
        file.WriteEntry(VmgsEntryId.UefiNvram, TestKeys.Payload(4_000, 3)); // small now: a big hole below the vTPM
        long before = storage.Length;
        long reclaimed = file.Compact();
        Assert.True(reclaimed > 900_000, $"reclaimed {reclaimed} of {before}");
        Assert.Equal(file.Header.ExtentEnd, storage.Length);
        using var reopened = VmgsFile.Open(new MemoryBlockStorage(storage.ToArray()), kek);
        Assert.Equal(TestKeys.Payload(4_000, 3), reopened.ReadEntry(VmgsEntryId.UefiNvram));
        Assert.Equal(TestKeys.Payload(65_536, 2), reopened.ReadEntry(VmgsEntryId.VTpmState));
    }

    [Fact]
    public void Open_WithoutKey_ShowsHeaderButRefusesToRead()
    {
        var storage = new MemoryBlockStorage();
        using var kek = TestKeys.Random();
        using (var file = VmgsFile.Create(storage, kek))
            file.WriteEntry(VmgsEntryId.VTpmState, [9]);
        using var locked = VmgsFile.Open(new MemoryBlockStorage(storage.ToArray()), kek: null);
        Assert.False(locked.IsUnlocked);
        Assert.Single(locked.Header.Entries);
        Assert.Throws<InvalidOperationException>(() => locked.ReadEntry(VmgsEntryId.VTpmState));
    }

    [Fact]
    public void SecondWriter_SameProcess_IsRefusedButReadersWork()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory("vmgs"), "vm.vmgs");
        using var kek = TestKeys.Random();
        using var writer = VmgsFile.Create(path, kek);
        writer.WriteEntry(VmgsEntryId.VTpmState, [1]);
        Assert.Throws<VmgsFileInUseException>(() => VmgsFile.Open(path, kek, writable: true));
        using var reader = VmgsFile.Open(path, kek, writable: false);
        Assert.Equal([1], reader.ReadEntry(VmgsEntryId.VTpmState));
        writer.WriteEntry(VmgsEntryId.VTpmState, [2]);
        Assert.Equal([1], reader.ReadEntry(VmgsEntryId.VTpmState)); // a snapshot until refreshed
        Assert.True(reader.Refresh());
        Assert.Equal([2], reader.ReadEntry(VmgsEntryId.VTpmState));
        for (int i = 3; i < 10; i++)
            writer.WriteEntry(VmgsEntryId.VTpmState, [(byte)i]); // reuses the extents the reader's view points at
        Assert.Equal([9], reader.ReadEntry(VmgsEntryId.VTpmState)); // integrity failure → refresh → retry
    }

    [Fact]
    public void WriterLock_IsReleasedOnDispose()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory("vmgs"), "vm.vmgs");
        using var kek = TestKeys.Random();
        VmgsFile.Create(path, kek).Dispose();
        using var again = VmgsFile.Open(path, kek, writable: true);
        Assert.True(again.CanWrite);
    }

    [Fact]
    public void Create_ExistingPath_Refuses()
    {
        string path = Path.Combine(RepositoryPaths.NewTempDirectory("vmgs"), "vm.vmgs");
        File.WriteAllText(path, "keep me");
        using var kek = TestKeys.Random();
        Assert.Throws<IOException>(() => VmgsFile.Create(path, kek));
        Assert.Equal("keep me", File.ReadAllText(path));
    }

    [Fact]
    public void KeyFile_SharedFormatWithSealingKey_LoadsAndRejectsOpenModes()
    {
        string dir = RepositoryPaths.NewTempDirectory("vmgs");
        string path = Path.Combine(dir, "host.kek");
        using var generated = VmgsKeyEncryptionKey.Generate(path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        using var loaded = VmgsKeyEncryptionKey.Load(path);
        Assert.Equal(generated.ThumbprintHex, loaded.ThumbprintHex);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        Assert.Throws<TrustedLaunch.Storage.SealingKeyException>(() => VmgsKeyEncryptionKey.Load(path));
    }
}
