using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.Cli.Commands.Vmgs;

/// <summary>The inputs every vmgs command reads the same way: the key file and an entry name.</summary>
internal static class VmgsInputs
{
    public static VmgsKeyEncryptionKey LoadKey(string path) => VmgsKeyEncryptionKey.Load(path);

    public static VmgsEntryId ParseEntry(string name) =>
        VmgsEntryNames.TryParse(name, out VmgsEntryId id)
            ? id
            : throw new CliException(ExitCode.BadInput, $"--entry '{name}' is not an entry name (uefi-nvram, vtpm, identity, or entry-N).");
}
