using System.Runtime.InteropServices;

namespace TrustedLaunch.Cli;

/// <summary>
/// The JIT host beside the native <c>tl</c>: <c>tl-server</c>, the apphost of <c>tl.dll</c> (src/TrustedLaunch.Cli,
/// every verb). <see cref="Exec"/> replaces this process with it (execv), so the service keeps this process id,
/// its signals (systemd's SIGTERM), its standard streams and its exit code: the forwarding is invisible.
/// </summary>
internal static partial class ServiceHost
{
    /// <summary>The JIT host's file name, beside this executable.</summary>
    public const string FileName = "tl-server";

    /// <summary>Runs <paramref name="args"/> in <c>tl-server</c>; returns only when it cannot be started (exit 3).</summary>
    public static int Exec(string[] args, TextWriter stderr)
    {
        string host = Path.Combine(AppContext.BaseDirectory, FileName);
        if (!File.Exists(host))
        {
            stderr.WriteLine($"tl: {host} is missing: the service verbs, --help and --version run in it (reinstall tl, or run ./tl from the source tree).");
            return (int)ExitCode.EnvironmentProblem;
        }

        nint[] argv = new nint[args.Length + 2];
        try
        {
            argv[0] = Marshal.StringToCoTaskMemUTF8(host);
            for (int i = 0; i < args.Length; i++)
                argv[i + 1] = Marshal.StringToCoTaskMemUTF8(args[i]);
            Execv(argv[0], argv);
            int errno = Marshal.GetLastPInvokeError();
            stderr.WriteLine($"tl: cannot run {host}: {Marshal.GetPInvokeErrorMessage(errno)}");
            return (int)ExitCode.EnvironmentProblem;
        }
        finally
        {
            foreach (nint p in argv)
                Marshal.FreeCoTaskMem(p);
        }
    }

    [LibraryImport("libc", EntryPoint = "execv", SetLastError = true)]
    private static partial int Execv(nint path, nint[] argv);
}
