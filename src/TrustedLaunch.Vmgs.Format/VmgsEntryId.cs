namespace TrustedLaunch.Vmgs.Format;

/// <summary>
/// What an entry of a VMGS file holds. The values are on disk (u32 LE in the file table, docs/vmgs.md §3) and
/// never change meaning. C# enums are open, so an id written by a newer build stays representable and is kept.
/// </summary>
public enum VmgsEntryId : uint
{
    /// <summary>The OVMF variable-store flash image (the VM's UEFI NVRAM).</summary>
    UefiNvram = 1,

    /// <summary>The vTPM's persistent state, as <c>tl-vtpm</c> persists it through <c>INonVolatileStore</c>.</summary>
    VTpmState = 2,

    /// <summary>UTF-8 JSON describing the VM: id, creation time, template, vTPM identity summary.</summary>
    VmIdentity = 3,
}

/// <summary>Names used by the CLI and documentation for entry ids.</summary>
public static class VmgsEntryNames
{
    /// <summary>The short name (<c>uefi-nvram</c>, <c>vtpm</c>, <c>identity</c>) or <c>entry-N</c> for an unknown id.</summary>
    public static string ToName(VmgsEntryId id) => id switch
    {
        VmgsEntryId.UefiNvram => "uefi-nvram",
        VmgsEntryId.VTpmState => "vtpm",
        VmgsEntryId.VmIdentity => "identity",
        _ => $"entry-{(uint)id}",
    };

    /// <summary>Parses a short name or <c>entry-N</c>.</summary>
    public static bool TryParse(string name, out VmgsEntryId id)
    {
        ArgumentNullException.ThrowIfNull(name);
        switch (name)
        {
            case "uefi-nvram":
                id = VmgsEntryId.UefiNvram;
                return true;
            case "vtpm":
                id = VmgsEntryId.VTpmState;
                return true;
            case "identity":
                id = VmgsEntryId.VmIdentity;
                return true;
        }

        if (name.StartsWith("entry-", StringComparison.Ordinal) &&
            uint.TryParse(name.AsSpan(6), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint raw) && raw != 0)
        {
            id = (VmgsEntryId)raw;
            return true;
        }

        id = default;
        return false;
    }
}
