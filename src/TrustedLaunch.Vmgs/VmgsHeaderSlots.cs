using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Storage;

namespace TrustedLaunch.Vmgs;

/// <summary>What one header slot holds: a valid header, or why not.</summary>
public sealed record VmgsSlotState(int Slot, VmgsHeader? Header, VmgsException? Error);

/// <summary>
/// Reads both header copies and picks the active one: the valid copy with the higher sequence (docs/vmgs.md §5).
/// A torn header write fails its checksum and loses to the intact older copy.
/// </summary>
public static class VmgsHeaderSlots
{
    /// <summary>Decodes both slots without judging them.</summary>
    public static VmgsSlotState[] ReadBoth(IBlockStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        var states = new VmgsSlotState[VmgsLayout.HeaderSlotCount];
        var slot = new byte[VmgsLayout.HeaderSlotSize];
        for (int i = 0; i < states.Length; i++)
        {
            int n = storage.Read((long)i * VmgsLayout.HeaderSlotSize, slot);
            states[i] = VmgsHeaderCodec.TryRead(slot.AsSpan(0, n), out VmgsHeader? header, out VmgsException? error)
                ? new VmgsSlotState(i, header, null)
                : new VmgsSlotState(i, null, error);
        }

        return states;
    }

    /// <summary>The active slot, or the reason the file cannot be opened.</summary>
    public static VmgsSlotState SelectActive(IReadOnlyList<VmgsSlotState> states)
    {
        ArgumentNullException.ThrowIfNull(states);
        VmgsSlotState a = states[0], b = states[1];
        if (a.Header is null && b.Header is null)
        {
            string detail = $"slot 0: {a.Error!.Message} slot 1: {b.Error!.Message}";
            // A slot that has our magic but fails its checksum is a damaged VMGS, not a foreign file.
            if (a.Error is VmgsIntegrityException || b.Error is VmgsIntegrityException)
                throw new VmgsIntegrityException($"Neither header copy is intact ({detail})");
            throw new VmgsFormatException($"Not a usable VMGS file ({detail})");
        }

        if (a.Header is null)
            return b;
        if (b.Header is null)
            return a;
        if (a.Header.FileId != b.Header.FileId)
            throw new VmgsFormatException($"The two header copies belong to different files ({a.Header.FileId} and {b.Header.FileId}).");
        if (a.Header.Sequence == b.Header.Sequence)
            throw new VmgsFormatException($"Both header copies carry sequence {a.Header.Sequence}; a writer never produces that.");
        return a.Header.Sequence > b.Header.Sequence ? a : b;
    }
}
