using TrustedLaunch.Testing;

namespace TrustedLaunch.Storage.Tests;

public sealed class FileNonVolatileStoreTests
{
    [Fact]
    public void Restore_NothingPersisted_ReturnsNull()
    {
        var store = new FileNonVolatileStore(Path.Combine(RepositoryPaths.NewTempDirectory(), "state"));
        Assert.Null(store.Restore());
    }

    [Fact]
    public void Persist_ThenRestore_RoundTripsWithOwnerOnlyModeAndNoTempFiles()
    {
        string dir = RepositoryPaths.NewTempDirectory();
        var store = new FileNonVolatileStore(Path.Combine(dir, "state"));
        store.Persist(new byte[] { 1, 2, 3 });
        store.Persist(new byte[] { 4, 5 });
        Assert.Equal(new byte[] { 4, 5 }, store.Restore());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.FilePath));
        Assert.Equal(["state"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Fact]
    public void Persist_DirectoryMissing_ThrowsStoreException()
    {
        var store = new FileNonVolatileStore(Path.Combine(RepositoryPaths.NewTempDirectory(), "no", "state"));
        Assert.Throws<NonVolatileStoreException>(() => store.Persist(new byte[] { 1 }));
    }

    [Fact]
    public void EphemeralStore_SeededAndPersisted_ReturnsCopies()
    {
        var store = new EphemeralNonVolatileStore([9, 9]);
        byte[]? first = store.Restore();
        first![0] = 0;
        Assert.Equal(new byte[] { 9, 9 }, store.Restore());
        store.Persist(new byte[] { 7 });
        Assert.Equal(1, store.PersistCount);
        Assert.Equal(new byte[] { 7 }, store.Restore());
    }
}
