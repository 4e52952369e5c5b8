using System.IO.Compression;
using System.Text;
using TrustedLaunch.Images.Agent;
using TrustedLaunch.Images.Signatures;

namespace TrustedLaunch.Images.Initramfs;

/// <summary>Builds the guest's gzip-compressed newc initramfs from an unpacked busybox-static and linux-image.</summary>
internal static class GuestInitramfs
{
    /// <summary>
    /// Signed Debian modules the init loads, dependencies first (they are modular in Debian's kernel config): the
    /// virtio-serial port, the NIC (virtio_net, which pulls in net_failover and failover), the power button.
    /// </summary>
    public static readonly string[] RequiredModules = ["virtio_pci", "virtio_console", "virtio_net", "evdev", "button"];

    public const string UnsignedModule = "ttyprintk";

    /// <summary>
    /// Writes the archive to <paramref name="output"/>; <paramref name="agent"/> is added as /usr/bin/tl-guest-agent with the
    /// host's copies of the shared libraries it links (<paramref name="agentLibraries"/>, from ldd) at the same paths.
    /// </summary>
    public static void Build(string packageRoot, string kernelVersion, string? agent, Stream output, IReadOnlyList<SharedLibrary>? agentLibraries = null)
    {
        string moduleRoot = Path.Combine(packageRoot, "lib", "modules", kernelVersion, "kernel");
        Dictionary<string, string> modules = IndexModules(moduleRoot);
        IReadOnlyList<string> order = ResolveLoadOrder(RequiredModules, name => File.ReadAllBytes(Find(modules, name)));

        using var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true);
        var cpio = new CpioNewcWriter(gzip);
        foreach (string dir in new[] { "/bin", "/dev", "/proc", "/sys", "/etc", "/etc/acpi", "/etc/acpi/PWRF", "/lib", "/lib/modules",
                     "/lib/modules/unsigned", "/usr", "/usr/bin", "/run", "/tmp", "/var", "/var/log" })
        {
            cpio.AddDirectory(dir);
        }

        cpio.AddCharDevice("/dev/console", 5, 1); // so init has a console before devtmpfs is mounted
        cpio.AddFile("/bin/busybox", File.ReadAllBytes(Path.Combine(packageRoot, "bin", "busybox")), 0x1ED);
        cpio.AddSymlink("/bin/sh", "busybox");
        cpio.AddFile("/init", Encoding.UTF8.GetBytes(GuestInit.Script.ReplaceLineEndings("\n") + "\n"), 0x1ED);
        cpio.AddFile("/etc/acpi/PWRF/00000080", Encoding.UTF8.GetBytes(GuestInit.PowerButton.ReplaceLineEndings("\n") + "\n"), 0x1ED);
        cpio.AddFile("/etc/udhcpc.script", Encoding.UTF8.GetBytes(GuestInit.DhcpScript.ReplaceLineEndings("\n") + "\n"), 0x1ED);
        cpio.AddFile("/etc/os-release", Encoding.UTF8.GetBytes(GuestInit.OsRelease.ReplaceLineEndings("\n") + "\n"));
        foreach (string name in order)
            cpio.AddFile($"/lib/modules/{name}.ko", File.ReadAllBytes(Find(modules, name)));
        cpio.AddFile("/lib/modules/load-order", Encoding.UTF8.GetBytes(string.Join('\n', order) + "\n"));
        cpio.AddFile($"/lib/modules/unsigned/{UnsignedModule}.ko",
            SignatureStripper.StripModuleSignature(File.ReadAllBytes(Find(modules, UnsignedModule))));
        if (agent is not null)
        {
            cpio.AddFile(GuestInit.AgentPath, File.ReadAllBytes(agent), 0x1ED);
            var directories = new HashSet<string>(StringComparer.Ordinal) { "/", "/lib", "/usr", "/usr/bin" };
            foreach (SharedLibrary library in agentLibraries ?? [])
            {
                AddParents(cpio, directories, library.GuestPath);
                cpio.AddFile(library.GuestPath, File.ReadAllBytes(library.HostPath), 0x1ED); // ReadAllBytes follows the host's symlinks
            }
        }

        cpio.Finish();
    }

    private static void AddParents(CpioNewcWriter cpio, HashSet<string> added, string path)
    {
        string? parent = Path.GetDirectoryName(path);
        if (parent is null || added.Contains(parent))
            return;
        AddParents(cpio, added, parent);
        cpio.AddDirectory(parent);
        added.Add(parent);
    }

    /// <summary>Load order for <paramref name="wanted"/>: each module after everything its .modinfo depends on.</summary>
    public static IReadOnlyList<string> ResolveLoadOrder(IEnumerable<string> wanted, Func<string, byte[]> readModule)
    {
        var order = new List<string>();
        var visiting = new HashSet<string>(StringComparer.Ordinal);
        void Visit(string name)
        {
            name = Normalize(name);
            if (order.Contains(name))
                return;
            if (!visiting.Add(name))
                throw new ImageException($"Kernel module dependency cycle at {name}.");
            foreach (string dependency in KernelModuleInfo.ReadDependencies(readModule(name)))
                Visit(dependency);
            order.Add(name);
        }

        foreach (string name in wanted)
            Visit(name);
        return order;
    }

    private static Dictionary<string, string> IndexModules(string moduleRoot)
    {
        if (!Directory.Exists(moduleRoot))
            throw new ImageException($"No kernel modules under {moduleRoot}.");
        var index = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string path in Directory.EnumerateFiles(moduleRoot, "*.ko", SearchOption.AllDirectories))
            index.TryAdd(Normalize(Path.GetFileNameWithoutExtension(path)), path);
        return index;
    }

    private static string Find(Dictionary<string, string> modules, string name) =>
        modules.TryGetValue(Normalize(name), out string? path) ? path : throw new ImageException($"Kernel module {name} is not in the linux-image package.");

    // The kernel treats '-' and '_' in module names alike (kernel/params.c parameqn).
    private static string Normalize(string name) => name.Replace('-', '_');
}
