using System.Diagnostics;
using TrustedLaunch.HostAgent.Lifecycle;
using TrustedLaunch.HostAgent.Vms;
using TrustedLaunch.Runtime.GuestState;
using TrustedLaunch.Testing;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;
using Xunit.Abstractions;

namespace TrustedLaunch.HostAgent.Tests.Lifecycle;

/// <summary>
/// Cold migration between two hosts' data folders (each with its own host key): the VMGS keeps its vTPM state byte for byte
/// under the target's key; a move stopped after each durable step, and the real <c>tl host move-vm</c> SIGKILLed at random
/// moments (20 trials), always leaves exactly one usable copy once recovered, holding the VM's vTPM.
/// </summary>
[Collection(LifecycleHost.Collection)]
[IntegrationTest]
public sealed class VmMovesTests(ITestOutputHelper output)
{
    [Fact]
    public void Move_TheTargetHoldsTheSameVTpmUnderItsOwnKey_TheSourceIsGone()
    {
        LifecycleHost from = LifecycleHost.Fresh();
        LifecycleHost to = LifecycleHost.Fresh();
        (VmFolder source, _) = from.NewVm();
        byte[] vtpm = Entry(source.Vmgs, from.HostKeyPath, VmgsEntryId.VTpmState);
        VmFolder target = to.Folder(source.VmId);

        VmMoves.Move(source, from.HostKeyPath, target, to.HostKeyPath);

        Assert.False(source.Exists);
        Assert.True(VmMoves.Usable(target));
        Assert.Equal(vtpm, Entry(target.Vmgs, to.HostKeyPath, VmgsEntryId.VTpmState));
        Assert.Equal(source.VmId.ToString(), VmgsGuestState.Open(target.Vmgs, to.HostKeyPath).VmId);
        Assert.Throws<VmgsGuestStateException>(() => VmgsGuestState.Open(target.Vmgs, from.HostKeyPath)); // re-keyed: the source's key opens nothing
        Assert.Empty(Directory.EnumerateDirectories(from.Options.VmsDirectory)); // the source copy destroyed
    }

    [Theory]
    [InlineData(MoveStep.Verified, "source")]
    [InlineData(MoveStep.TargetInPlace, "source")]
    [InlineData(MoveStep.SourceGone, "target")]
    [InlineData(MoveStep.Done, "target")]
    public void Move_StoppedAfterEachStep_RecoveryLeavesExactlyOneUsableCopy(MoveStep stopAfter, string survivor)
    {
        LifecycleHost from = LifecycleHost.Fresh();
        LifecycleHost to = LifecycleHost.Fresh();
        (VmFolder source, _) = from.NewVm();
        byte[] vtpm = Entry(source.Vmgs, from.HostKeyPath, VmgsEntryId.VTpmState);
        VmFolder target = to.Folder(source.VmId);

        Assert.Throws<OperationCanceledException>(() => VmMoves.Move(source, from.HostKeyPath, target, to.HostKeyPath, step =>
        {
            if (step == stopAfter)
                throw new OperationCanceledException($"stopped after {step}");
        }));
        VmMoves.Recover(source, target);

        AssertOneUsable(from, to, source, target, vtpm, out string which);
        Assert.Equal(survivor, which);
    }

    [Fact]
    public void Move_TlHostMoveVmKilledAtRandomMoments_20Trials_AlwaysExactlyOneUsableCopy()
    {
        var random = new Random(16);
        int sources = 0, targets = 0;
        for (int trial = 0; trial < 20; trial++)
        {
            LifecycleHost from = LifecycleHost.Fresh();
            LifecycleHost to = LifecycleHost.Fresh();
            (VmFolder source, _) = from.NewVm(diskSizeGB: 1);
            // A disk with data in it, so the copy takes a while and the kills land inside the move too, not only around it.
            ToolResult written = ExternalTool.Run("qemu-io", ["-f", "qcow2", "-c", "write -P 0x5a 0 24M", source.Disk]);
            Assert.True(written.ExitCode == 0, written.ToString());
            byte[] vtpm = Entry(source.Vmgs, from.HostKeyPath, VmgsEntryId.VTpmState);
            VmFolder target = to.Folder(source.VmId);

            var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "tl.dll"), "host", "move-vm", "--vm-id", source.VmId.ToString(),
                         "--data", from.Options.DataDirectory, "--to-data", to.Options.DataDirectory })
            {
                psi.ArgumentList.Add(a);
            }

            using Process move = Process.Start(psi)!;
            int delay = random.Next(250, 650); // the whole move takes ~0.5 s here (dotnet start, 24 MiB copied and hashed)
            bool exited = move.WaitForExit(delay);
            if (!exited)
                move.Kill();
            move.WaitForExit();

            VmMoves.Recover(source, target); // what the next move (or agent) does first
            AssertOneUsable(from, to, source, target, vtpm, out string which);
            if (which == "source")
                sources++;
            else
                targets++;
            output.WriteLine($"trial {trial}: {(exited ? $"finished (exit {move.ExitCode})" : $"killed after {delay} ms")} -> the VM is the {which}");
        }

        output.WriteLine($"{sources} times the source stayed, {targets} times the target took over");
    }

    private static void AssertOneUsable(LifecycleHost from, LifecycleHost to, VmFolder source, VmFolder target, byte[] vtpm, out string which)
    {
        bool atSource = VmMoves.Usable(source);
        bool atTarget = VmMoves.Usable(target);
        Assert.True(atSource ^ atTarget, $"usable at source: {atSource}, at target: {atTarget}");
        (VmFolder vm, string key) = atSource ? (source, from.HostKeyPath) : (target, to.HostKeyPath);
        Assert.Equal(vtpm, Entry(vm.Vmgs, key, VmgsEntryId.VTpmState)); // the identity, intact
        Assert.True(File.Exists(vm.Disk));
        Assert.Equal(atSource ? 1 : 0, Directory.EnumerateDirectories(from.Options.VmsDirectory).Count()); // no leftovers, hidden or not
        Assert.Equal(atTarget ? 1 : 0, Directory.Exists(to.Options.VmsDirectory) ? Directory.EnumerateDirectories(to.Options.VmsDirectory).Count() : 0);
        which = atSource ? "source" : "target";
    }

    private static byte[] Entry(string vmgs, string kekPath, VmgsEntryId id)
    {
        using VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Load(kekPath);
        using VmgsFile file = VmgsFile.Open(vmgs, kek, writable: false);
        return file.ReadEntry(id)!;
    }
}
