using System.Security.Cryptography;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Storage.Tests;

public sealed class SlottedFileNonVolatileStoreTests
{
    private const int HeaderSize = 4096;
    private readonly string _dir = RepositoryPaths.NewTempDirectory("tl-slots");

    private string PathOf(string name) => Path.Combine(_dir, name);

    private static byte[] Blob(int length, int seed)
    {
        byte[] blob = new byte[length];
        new Random(seed).NextBytes(blob);
        return blob;
    }

    [Fact]
    public void Restore_NothingPersisted_ReturnsNull() =>
        Assert.Null(new SlottedFileNonVolatileStore(PathOf("state")).Restore());

    [Fact]
    public void Persist_ManyTimes_RoundTripsInAFileWhoseSizeNeverChanges()
    {
        var store = new SlottedFileNonVolatileStore(PathOf("state"));
        store.Persist(Blob(70_000, 0));
        long size = new FileInfo(store.FilePath).Length;
        for (int i = 1; i <= 20; i++)
        {
            store.Persist(Blob(70_000 - i, i));
            Assert.Equal(size, new FileInfo(store.FilePath).Length);
        }

        Assert.Equal(Blob(69_980, 20), store.Restore());
        Assert.Equal(Blob(69_980, 20), new SlottedFileNonVolatileStore(store.FilePath).Restore()); // a fresh reader agrees
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.FilePath));
        Assert.Equal(["state"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData(0)]      // the write tore at its first byte: the magic is gone
    [InlineData(30)]     // inside the checksum
    [InlineData(5_000)]  // inside the payload
    public void TornWrite_OfTheNewestRecord_RestoresThePreviousOne(int offsetInRecord)
    {
        var store = new SlottedFileNonVolatileStore(PathOf("state"));
        store.Persist(Blob(10_000, 1));
        store.Persist(Blob(10_000, 2)); // slot 1
        CorruptSlot(store.FilePath, slot: 1, offsetInRecord);

        Assert.Equal(Blob(10_000, 1), new SlottedFileNonVolatileStore(store.FilePath).Restore());
    }

    [Fact]
    public void AfterATornWrite_TheNextWriteGoesToTheTornSlotAndWins()
    {
        var store = new SlottedFileNonVolatileStore(PathOf("state"));
        store.Persist(Blob(1_000, 1));
        store.Persist(Blob(1_000, 2));
        CorruptSlot(store.FilePath, slot: 1, 100);
        var reopened = new SlottedFileNonVolatileStore(store.FilePath);
        Assert.Equal(Blob(1_000, 1), reopened.Restore());

        reopened.Persist(Blob(1_000, 3));

        Assert.Equal(Blob(1_000, 3), new SlottedFileNonVolatileStore(store.FilePath).Restore());
        reopened.Persist(Blob(1_000, 4)); // and the slot that held the survivor is the one written next
        Assert.Equal(Blob(1_000, 4), new SlottedFileNonVolatileStore(store.FilePath).Restore());
    }

    [Fact]
    public void BothSlotsDamaged_RestoreSaysSo()
    {
        var store = new SlottedFileNonVolatileStore(PathOf("state"));
        store.Persist(Blob(500, 1));
        store.Persist(Blob(500, 2));
        CorruptSlot(store.FilePath, 0, 200);
        CorruptSlot(store.FilePath, 1, 200);

        var e = Assert.Throws<NonVolatileStoreException>(() => new SlottedFileNonVolatileStore(store.FilePath).Restore());
        Assert.Contains("tampered with or damaged", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FileCutShort_RestoreSaysTruncated()
    {
        var store = new SlottedFileNonVolatileStore(PathOf("state"));
        store.Persist(Blob(500, 1));
        byte[] file = File.ReadAllBytes(store.FilePath);
        File.WriteAllBytes(store.FilePath, file[..(file.Length / 2)]);

        var e = Assert.Throws<NonVolatileStoreException>(() => new SlottedFileNonVolatileStore(store.FilePath).Restore());
        Assert.Contains("is truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OlderWholeBlobFile_IsReadAndConvertedAtItsNextWrite()
    {
        string path = PathOf("state");
        new FileNonVolatileStore(path).Persist(Blob(3_000, 7));
        var store = new SlottedFileNonVolatileStore(path);

        Assert.Equal(Blob(3_000, 7), store.Restore());
        store.Persist(Blob(3_000, 8));

        Assert.StartsWith("TLSLOTS1", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(path)[..8]), StringComparison.Ordinal);
        Assert.Equal(Blob(3_000, 8), new SlottedFileNonVolatileStore(path).Restore());
    }

    [Fact]
    public void BlobOutgrowingItsSlot_TheFileIsRemadeLargerKeepingTheSequence()
    {
        var store = new SlottedFileNonVolatileStore(PathOf("state"));
        store.Persist(Blob(1_000, 1));
        long small = new FileInfo(store.FilePath).Length;

        store.Persist(Blob(200_000, 2));
        store.Persist(Blob(150_000, 3));

        Assert.True(new FileInfo(store.FilePath).Length > small);
        Assert.Equal(Blob(150_000, 3), new SlottedFileNonVolatileStore(store.FilePath).Restore());
    }

    [Fact]
    public void Persist_FolderMissing_ThrowsStoreException() =>
        Assert.Throws<NonVolatileStoreException>(() => new SlottedFileNonVolatileStore(PathOf(Path.Combine("no", "state"))).Persist(new byte[] { 1 }));

    [Fact]
    public void SealedOnTop_TamperedPayloadInTheOnlyRecord_IsNoIntactRecord()
    {
        // The slot checksum sees a damaged record before the seal would: the store says which failure it is.
        var key = SealingKey.Generate(PathOf("key"));
        var sealedStore = new SealedNonVolatileStore(new SlottedFileNonVolatileStore(PathOf("state")), key, "test");
        sealedStore.Persist(RandomNumberGenerator.GetBytes(100));
        CorruptSlot(PathOf("state"), 0, 80);
        Assert.Throws<NonVolatileStoreException>(() => new SealedNonVolatileStore(new SlottedFileNonVolatileStore(PathOf("state")), key, "test").Restore());
    }

    private static void CorruptSlot(string path, int slot, int offsetInRecord)
    {
        byte[] file = File.ReadAllBytes(path);
        int slotSize = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(8));
        file[HeaderSize + slot * slotSize + offsetInRecord] ^= 0x5A;
        File.WriteAllBytes(path, file);
    }
}
