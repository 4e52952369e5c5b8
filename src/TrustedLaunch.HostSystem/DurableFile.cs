using System.Runtime.InteropServices;

namespace TrustedLaunch.HostSystem;

/// <summary>
/// The one durability contract for every file TrustedLaunch writes whole (guest state, keys, variable stores,
/// images): the content goes to a temporary file in the target's folder, which is fsynced, renamed onto the
/// target (rename(2) is atomic) and then the folder is fsynced (which makes the rename itself durable). After a
/// crash at any instant the path holds the complete old content, the complete new content, or, when it did not
/// exist, nothing; a leftover temporary is a hidden <c>.NAME.tmp-PID-*</c> file beside it.
/// </summary>
public static class DurableFile
{
    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> under the contract above.</summary>
    /// <param name="overwrite">Replace an existing file; without it an existing file makes this fail and is kept.</param>
    /// <param name="ownerOnly">Create the file with mode 0600 (keys, guest state).</param>
    /// <exception cref="IOException">The path exists (without <paramref name="overwrite"/>) or cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder cannot be written.</exception>
    public static void Write(string path, ReadOnlySpan<byte> content, bool overwrite, bool ownerOnly = false)
    {
        string full = Path.GetFullPath(path);
        string temporary = TemporaryPath(full);
        try
        {
            var options = ownerOnly
                ? OwnerOnlyFile.WriteOptions(FileMode.CreateNew)
                : new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true); // fsync(2) the data before it becomes visible under the real name
            }

            Rename(temporary, full, overwrite);
        }
        finally
        {
            TryDelete(temporary);
        }
    }

    /// <summary>
    /// Publishes a file that other code writes (a block-storage writer, an external tool) under the same contract:
    /// <paramref name="writeTemporary"/> creates and fills the file at the temporary path it is given; it is then
    /// fsynced, renamed onto <paramref name="path"/> and the folder fsynced. The temporary is removed on failure.
    /// </summary>
    /// <exception cref="IOException">The path exists (without <paramref name="overwrite"/>) or cannot be written.</exception>
    public static void Publish(string path, bool overwrite, Action<string> writeTemporary)
    {
        ArgumentNullException.ThrowIfNull(writeTemporary);
        string full = Path.GetFullPath(path);
        string temporary = TemporaryPath(full);
        try
        {
            writeTemporary(temporary);
            using (var handle = File.OpenHandle(temporary, FileMode.Open, FileAccess.Write))
                RandomAccess.FlushToDisk(handle);
            Rename(temporary, full, overwrite);
        }
        finally
        {
            TryDelete(temporary);
        }
    }

    /// <summary>
    /// fdatasync(2): the file's data, and the metadata needed to read it back, reach the disk — not its times. For a
    /// file rewritten in place whose size never changes this is one device flush, where fsync may add a journal commit.
    /// </summary>
    /// <exception cref="IOException">The flush failed (the data may not be durable).</exception>
    public static void FlushData(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (!OperatingSystem.IsLinux())
        {
            RandomAccess.FlushToDisk(handle);
            return;
        }

        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            if (Libc.Fdatasync((int)handle.DangerousGetHandle()) != 0)
                throw new IOException($"fdatasync failed: errno {Marshal.GetLastPInvokeError()}.");
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }

    /// <summary>fsync(2) on a folder, which .NET has no API for: makes a completed rename or create in it durable.</summary>
    /// <exception cref="IOException">The folder cannot be opened or synced.</exception>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
            return;
        int fd = Libc.Open(directory, Libc.OpenReadOnlyDirectory);
        if (fd < 0)
            throw new IOException($"open({directory}) failed: errno {Marshal.GetLastPInvokeError()}.");
        try
        {
            if (Libc.Fsync(fd) != 0)
                throw new IOException($"fsync({directory}) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
        finally
        {
            _ = Libc.Close(fd);
        }
    }

    private static string TemporaryPath(string full) =>
        Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");

    private static void Rename(string temporary, string full, bool overwrite)
    {
        File.Move(temporary, full, overwrite); // rename(2), or link(2)+unlink(2) without overwrite: never a half file
        SyncDirectory(Path.GetDirectoryName(full)!);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temporary is harmless; the target was never touched.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above.
        }
    }
}
