using System.Runtime.InteropServices;

namespace TrustedLaunch.Storage;

/// <summary>
/// One blob in one file, replaced atomically: write <c>.NAME.tmp-PID</c>, fsync it, rename over the target,
/// fsync the directory. After a crash at any instant the path holds the complete old or the complete new blob
/// (POSIX rename(2) is atomic; the directory fsync makes the rename itself durable).
/// </summary>
public sealed class FileNonVolatileStore : INonVolatileStore
{
    private readonly Lock _gate = new();

    public FileNonVolatileStore(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FilePath = Path.GetFullPath(path);
    }

    /// <summary>The absolute path of the blob's file.</summary>
    public string FilePath { get; }

    public ValueTask PersistAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
            Persist(data.Span);
        return ValueTask.CompletedTask;
    }

    public ValueTask<byte[]?> RestoreAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            try
            {
                return ValueTask.FromResult<byte[]?>(File.ReadAllBytes(FilePath));
            }
            catch (FileNotFoundException)
            {
                return ValueTask.FromResult<byte[]?>(null);
            }
            catch (DirectoryNotFoundException)
            {
                return ValueTask.FromResult<byte[]?>(null);
            }
        }
    }

    private void Persist(ReadOnlySpan<byte> data)
    {
        string directory = Path.GetDirectoryName(FilePath)!;
        string temporary = Path.Combine(directory, $".{Path.GetFileName(FilePath)}.tmp-{Environment.ProcessId}");
        try
        {
            var options = OwnerOnlyFile.WriteOptions(FileMode.Create);
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(data);
                stream.Flush(flushToDisk: true); // fsync(2) the data before it becomes visible under the real name
            }

            File.Move(temporary, FilePath, overwrite: true); // rename(2): atomic replacement
            DirectorySync.Fsync(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new NonVolatileStoreException($"Could not persist {FilePath}: {e.Message}", e);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp file is harmless; the real file was never touched.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above.
        }
    }
}

/// <summary>fsync(2) on a directory, which .NET has no API for; makes a completed rename durable.</summary>
public static partial class DirectorySync
{
    private const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY (Linux x86-64/arm64)

    public static void Fsync(string directory)
    {
        if (!OperatingSystem.IsLinux())
            return;
        int fd = Open(directory, ReadOnlyDirectory);
        if (fd < 0)
            throw new IOException($"open({directory}) failed: errno {Marshal.GetLastPInvokeError()}.");
        try
        {
            if (FsyncNative(fd) != 0)
                throw new IOException($"fsync({directory}) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncNative(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
