namespace TrustedLaunch.HostSystem;

/// <summary>Files only their owner may read (mode 0600): state, keys, CA private keys.</summary>
public static class OwnerOnlyFile
{
    /// <summary>Options that create the file with mode 0600 (on Unix).</summary>
    public static FileStreamOptions WriteOptions(FileMode mode)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return options;
    }

    /// <summary>Writes a new mode-0600 file durably (<see cref="DurableFile"/>); never overwrites.</summary>
    /// <exception cref="IOException">The path exists or cannot be written.</exception>
    public static void WriteNew(string path, ReadOnlySpan<byte> content) =>
        DurableFile.Write(path, content, overwrite: false, ownerOnly: true);
}
