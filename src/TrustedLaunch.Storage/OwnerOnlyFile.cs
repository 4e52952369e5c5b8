namespace TrustedLaunch.Storage;

/// <summary>Options for creating files only their owner may read (mode 0600): state, keys, CA private keys.</summary>
public static class OwnerOnlyFile
{
    public static FileStreamOptions WriteOptions(FileMode mode)
    {
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return options;
    }

    /// <summary>Writes <paramref name="content"/> to a new file with mode 0600 and fsyncs it; never overwrites.</summary>
    public static void WriteNew(string path, ReadOnlySpan<byte> content)
    {
        using var stream = new FileStream(path, WriteOptions(FileMode.CreateNew));
        stream.Write(content);
        stream.Flush(flushToDisk: true);
    }
}
