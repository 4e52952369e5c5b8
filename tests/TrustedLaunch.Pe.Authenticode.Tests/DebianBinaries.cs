using TrustedLaunch.Testing.Qemu;

namespace TrustedLaunch.Pe.Authenticode.Tests;

/// <summary>The Debian 12 signed EFI binaries every test here runs against, by short name.</summary>
internal static class DebianBinaries
{
    public static TheoryData<string> Names => new() { "shim", "mm", "fb", "grub", "kernel" };

    public static string PathOf(string name) => name switch
    {
        "shim" => DebianBootChain.Shim,
        "mm" => DebianBootChain.MokManager,
        "fb" => DebianBootChain.Fallback,
        "grub" => DebianBootChain.Grub,
        "kernel" => DebianBootChain.Kernel,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown binary"),
    };
}
