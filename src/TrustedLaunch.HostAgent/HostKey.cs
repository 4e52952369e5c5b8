using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.HostAgent;

/// <summary>
/// The host's key-encryption key: one per host, created once (mode 0600, in a mode-0700 folder of its own under
/// <c>TL_HOME/host</c>), never in a VM folder, never sent anywhere. It unwraps the data key of every VMGS made on this host,
/// so a VM's folder alone — its disk and VMGS — reveals nothing without it.
/// </summary>
public static class HostKey
{
    public const string FileName = "host.kek";

    /// <summary>The key's path under <paramref name="hostDirectory"/>, creating the folder and the key when absent.</summary>
    public static string Ensure(string hostDirectory)
    {
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(hostDirectory);
        else
            Directory.CreateDirectory(hostDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string path = Path.Combine(hostDirectory, FileName);
        if (!File.Exists(path))
        {
            try
            {
                VmgsKeyEncryptionKey.Generate(path).Dispose();
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another agent of this host made it at the same moment: use theirs.
            }
        }

        VmgsKeyEncryptionKey.Load(path).Dispose(); // fails now on a key others can read, not at the first VM
        return path;
    }
}
