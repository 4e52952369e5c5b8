using System.Buffers.Binary;
using System.Globalization;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.Vmgs.Tests;

/// <summary>
/// The entry point of this test assembly (GenerateProgramFile is off): `dotnet TrustedLaunch.Vmgs.Tests.dll
/// crash-writer FILE KEYFILE` writes numbered 64 KiB vTPM states forever and prints each number once it is
/// durable, so <see cref="VmgsKillTests"/> can SIGKILL it at arbitrary points.
/// </summary>
public static class CrashWriterProgram
{
    public static int Main(string[] args)
    {
        if (args.Length != 3 || args[0] != "crash-writer")
            return 2;
        using var kek = VmgsKeyEncryptionKey.Load(args[2]);
        using var file = VmgsFile.Open(args[1], kek, writable: true);
        byte[]? current = file.ReadEntry(VmgsEntryId.VTpmState);
        ulong counter = current is null ? 0 : BinaryPrimitives.ReadUInt64LittleEndian(current);
        while (true)
        {
            counter++;
            file.WriteEntry(VmgsEntryId.VTpmState, State(counter));
            Console.Out.WriteLine(counter.ToString(CultureInfo.InvariantCulture));
            Console.Out.Flush();
        }
    }

    /// <summary>A 64 KiB state that carries its own number and is otherwise determined by it.</summary>
    public static byte[] State(ulong counter)
    {
        byte[] state = TestKeys.Payload(65_536, (int)(counter % int.MaxValue));
        BinaryPrimitives.WriteUInt64LittleEndian(state, counter);
        return state;
    }
}
