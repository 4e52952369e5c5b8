using TrustedLaunch.Vmgs.Format;

namespace TrustedLaunch.Vmgs;

/// <summary>
/// First-fit placement of a new extent. Only the extents of the active header are taken: those of the older
/// copy are free, because the header write that follows overwrites that older copy (docs/vmgs.md §5).
/// </summary>
internal static class VmgsExtentAllocator
{
    public static long Place(IReadOnlyList<VmgsEntry> live, int allocatedLength)
    {
        long candidate = VmgsLayout.DataAreaStart;
        foreach (VmgsEntry entry in live.OrderBy(e => e.Offset))
        {
            if (entry.Offset - candidate >= allocatedLength)
                return candidate;
            candidate = Math.Max(candidate, entry.End);
        }

        return candidate;
    }
}
