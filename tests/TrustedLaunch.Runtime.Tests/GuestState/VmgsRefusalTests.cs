using TrustedLaunch.Runtime.GuestState;
using TrustedLaunch.Runtime.Tests.Boot;
using TrustedLaunch.Testing;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.Runtime.Tests.GuestState;

/// <summary>A VMGS that cannot be trusted never gets as far as QEMU: <c>tl boot --vmgs</c> says which file and why.</summary>
[Collection(BootGroup.Name)]
[IntegrationTest]
public sealed class VmgsRefusalTests(BootFixture images)
{
    [Theory]
    [InlineData("wrong-key", 1, "does not open with")]
    [InlineData("nvram-flipped", 1, "corrupted or tampered")]
    [InlineData("vtpm-flipped", 1, "corrupted or tampered")]
    [InlineData("truncated", 2, "malformed")]
    [InlineData("missing", 2, "does not exist")]
    [InlineData("in-use", 3, "open for writing")]
    public void TlBoot_DamagedVmgs_RefusesBeforeQemuWithReason(string damage, int exitCode, string expected)
    {
        VmgsVm vm = VmgsVm.Create("microsoft");
        string kek = vm.KekPath;
        VmgsFile? holder = null;
        switch (damage)
        {
            case "wrong-key":
                kek = Path.Combine(vm.Directory, "other.kek");
                VmgsKeyEncryptionKey.Generate(kek).Dispose();
                break;
            case "nvram-flipped":
                FlipEntryByte(vm, VmgsEntryId.UefiNvram);
                break;
            case "vtpm-flipped":
                FlipEntryByte(vm, VmgsEntryId.VTpmState);
                break;
            case "truncated":
                using (var stream = new FileStream(vm.VmgsPath, FileMode.Open))
                    stream.SetLength(100);
                break;
            case "missing":
                File.Delete(vm.VmgsPath);
                break;
            case "in-use":
                using (VmgsKeyEncryptionKey key = VmgsKeyEncryptionKey.Load(vm.KekPath))
                    holder = VmgsFile.Open(vm.VmgsPath, key, writable: true);
                break;
        }

        try
        {
            string disk = images.Trusted.RawPath;
            ToolResult result = VmgsVm.Tl("boot", "--image", disk, "--vmgs", vm.VmgsPath, "--kek-file", kek, "--memory", "512", "--timeout", "30");
            Assert.True(result.ExitCode == exitCode, $"{damage}: {result}");
            Assert.Contains(expected, result.StandardError, StringComparison.Ordinal);
            Assert.DoesNotContain("qemu: starting", result.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            holder?.Dispose();
        }

        if (damage is "in-use")
            Assert.Equal(vm.VmId.ToString(), VmgsGuestState.Open(vm.VmgsPath, vm.KekPath).VmId); // released: opens again
    }

    /// <summary>Flips one ciphertext byte in the middle of <paramref name="entry"/> (AES-GCM must catch it).</summary>
    private static void FlipEntryByte(VmgsVm vm, VmgsEntryId entry)
    {
        long offset;
        using (VmgsKeyEncryptionKey key = VmgsKeyEncryptionKey.Load(vm.KekPath))
        using (VmgsFile file = VmgsFile.Open(vm.VmgsPath, key, writable: false))
        {
            VmgsEntry found = file.Header.Find(entry) ?? throw new InvalidOperationException($"no {entry}");
            offset = found.Offset + (found.Length / 2);
        }

        using var stream = new FileStream(vm.VmgsPath, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        int b = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(b ^ 0x40));
    }
}
