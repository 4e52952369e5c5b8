using TrustedLaunch.Testing;

namespace TrustedLaunch.GuestAgent.Tests;

/// <summary>A system root as a guest shows it (/etc, /proc, /sys files the agent reads), for running the agent on the host.</summary>
public static class GuestRoot
{
    public const string VmId = "0f8c2d4e-6a1b-4c3d-8e9f-a0b1c2d3e4f5";

    public static string Create(string? tcgLog = null, string tainted = "0\n")
    {
        string root = RepositoryPaths.NewTempDirectory("tl-agent-root");
        void Write(string path, string text)
        {
            string full = Path.Combine(root, path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, text);
        }

        Write(GuestSystem.OsReleasePath, "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n");
        Write(GuestSystem.KernelReleasePath, "6.1.0-56-amd64\n");
        Write(GuestSystem.CommandLinePath, "BOOT_IMAGE=/vmlinuz console=ttyS0 quiet panic=-1\n");
        Write(GuestSystem.ProductUuidPath, VmId.ToUpperInvariant() + "\n");
        Write(GuestSystem.TaintedPath, tainted);
        Write(GuestSystem.ModulesPath, "virtio_console 45056 0 - Live 0x0\n");
        Write(GuestSystem.UptimePath, "12.50 3.00\n");
        Write(GuestSystem.ImaAsciiLogPath, File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "KernelLog", "Golden", "ima-debian12-secureboot-on.txt")));
        string tcg = tcgLog ?? Path.Combine(RepositoryPaths.CorpusRoot, "qemu", "ovmf4m-ms-sb-crb", "binary_bios_measurements");
        string tcgTarget = Path.Combine(root, GuestSystem.TcgLogPath.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(tcgTarget)!);
        File.Copy(tcg, tcgTarget);
        return root;
    }
}
