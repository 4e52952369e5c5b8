using TrustedLaunch.Testing;

namespace TrustedLaunch.Storage.Tests;

public sealed class FileNonVolatileStoreTests
{
    [Fact]
    public async Task RestoreAsync_NothingPersisted_ReturnsNull()
    {
        var store = new FileNonVolatileStore(Path.Combine(RepositoryPaths.NewTempDirectory(), "state"));
        Assert.Null(await store.RestoreAsync());
    }

    [Fact]
    public async Task PersistAsync_ThenRestore_RoundTripsWithOwnerOnlyModeAndNoTempFiles()
    {
        string dir = RepositoryPaths.NewTempDirectory();
        var store = new FileNonVolatileStore(Path.Combine(dir, "state"));
        await store.PersistAsync(new byte[] { 1, 2, 3 });
        await store.PersistAsync(new byte[] { 4, 5 });
        Assert.Equal(new byte[] { 4, 5 }, await store.RestoreAsync());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.FilePath));
        Assert.Equal(["state"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Fact]
    public async Task PersistAsync_DirectoryMissing_ThrowsStoreException()
    {
        var store = new FileNonVolatileStore(Path.Combine(RepositoryPaths.NewTempDirectory(), "no", "state"));
        await Assert.ThrowsAsync<NonVolatileStoreException>(async () => await store.PersistAsync(new byte[] { 1 }));
    }

    [Fact]
    public async Task EphemeralStore_SeededAndPersisted_ReturnsCopies()
    {
        var store = new EphemeralNonVolatileStore([9, 9]);
        byte[]? first = await store.RestoreAsync();
        first![0] = 0;
        Assert.Equal(new byte[] { 9, 9 }, await store.RestoreAsync());
        await store.PersistAsync(new byte[] { 7 });
        Assert.Equal(1, store.PersistCount);
        Assert.Equal(new byte[] { 7 }, await store.RestoreAsync());
    }
}
