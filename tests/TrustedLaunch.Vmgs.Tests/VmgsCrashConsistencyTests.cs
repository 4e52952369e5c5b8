using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Storage;

namespace TrustedLaunch.Vmgs.Tests;

/// <summary>Power loss at every write/fsync step of every kind of update: the file opens with old or new.</summary>
public class VmgsCrashConsistencyTests
{
    private static readonly byte[] OldState = TestKeys.Payload(65_536, 1);
    private static readonly byte[] NewState = TestKeys.Payload(65_536, 2);

    public static TheoryData<string> Updates() => ["first write", "replace", "delete", "compact", "replace after torn history"];

    [Theory]
    [MemberData(nameof(Updates))]
    public void Update_PowerLossAtEveryStep_OpensWithOldOrNew(string update)
    {
        using var kek = TestKeys.Random();
        var seed = new MemoryBlockStorage();
        using (var file = VmgsFile.Create(seed, kek))
        {
            file.WriteEntry(VmgsEntryId.UefiNvram, TestKeys.Payload(200_000, 7));
            if (update != "first write")
                file.WriteEntry(VmgsEntryId.VTpmState, OldState);
            if (update == "replace after torn history")
            {
                file.WriteEntry(VmgsEntryId.VTpmState, OldState); // both slots populated, extents interleaved
                file.WriteEntry(VmgsEntryId.UefiNvram, TestKeys.Payload(1000, 8));
            }
        }

        byte[] before = seed.ToArray();
        byte[]? expectedOld = update == "first write" ? null : OldState;
        byte[]? expectedNew = update switch { "delete" => null, "compact" => OldState, _ => NewState };
        int outcomes = 0;
        for (int budget = 0; ; budget++)
        {
            var storage = new CrashingBlockStorage(before, budget);
            using (var file = VmgsFile.Open(storage, kek))
            {
                try
                {
                    switch (update)
                    {
                        case "delete": file.DeleteEntry(VmgsEntryId.VTpmState); break;
                        case "compact": file.Compact(); break;
                        default: file.WriteEntry(VmgsEntryId.VTpmState, NewState); break;
                    }
                }
                catch (SimulatedPowerLossException)
                {
                }
            }

            if (!storage.Crashed)
                break; // the whole update fit in the budget: every step has been interrupted once
            foreach (var (label, image) in storage.AfterCrash())
            {
                using var reopened = VmgsFile.Open(new MemoryBlockStorage(image), kek);
                byte[]? state = reopened.ReadEntry(VmgsEntryId.VTpmState);
                bool ok = (state is null && (expectedOld is null || expectedNew is null)) ||
                          (state is not null && ((expectedOld is not null && state.AsSpan().SequenceEqual(expectedOld)) ||
                                                 (expectedNew is not null && state.AsSpan().SequenceEqual(expectedNew))));
                Assert.True(ok, $"{update}: crash after {budget} steps, {label}: entry is neither old nor new");
                Assert.Equal(TestKeys.Payload(update == "replace after torn history" ? 1000 : 200_000, update == "replace after torn history" ? 8 : 7), reopened.ReadEntry(VmgsEntryId.UefiNvram));
                outcomes++;
            }
        }

        Assert.True(outcomes >= 4, $"only {outcomes} crash outcomes were checked");
    }
}
