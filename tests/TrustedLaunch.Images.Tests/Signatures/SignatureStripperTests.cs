using TrustedLaunch.Images.Signatures;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Images.Tests.Signatures;

[Collection(GuestImageGroup.Name)]
public sealed class SignatureStripperTests(GuestImageFixture images)
{
    [IntegrationTest]
    [Fact]
    public void StripAuthenticode_SignedShim_SameBytesAsSbattachRemove()
    {
        string dir = RepositoryPaths.NewTempDirectory();
        string shim = Path.Combine(dir, "shim.efi");
        new TrustedLaunch.Images.Disk.EspFileSystem(images.Trusted.RawPath, 2048 * 512).CopyOut("/EFI/BOOT/BOOTX64.EFI", shim);
        byte[] ours = SignatureStripper.StripAuthenticode(File.ReadAllBytes(shim));
        ToolResult sbattach = ExternalTool.Run("sbattach", ["--remove", shim]);
        Assert.True(sbattach.ExitCode == 0, sbattach.ToString());
        byte[] theirs = File.ReadAllBytes(shim);
        // sbattach rewrites the optional header's CheckSum (ignored by firmware and by the Authenticode hash) and keeps
        // some of the old table's bytes as padding; the image itself (everything before the table) must be the same.
        int checksum = BitConverter.ToInt32(theirs, 0x3C) + 24 + 64;
        Assert.True(theirs.Length >= ours.Length);
        theirs = theirs[..ours.Length];
        for (int i = checksum; i < checksum + 4; i++)
            theirs[i] = ours[i];
        // sbattach leaves the certificate-table directory entry pointing at its padding; ours clears it (PE32+: entry 4
        // of the data directories at optional header + 112).
        int securityEntry = checksum - 64 + 112 + (4 * 8);
        Assert.Equal(0UL, BitConverter.ToUInt64(ours, securityEntry));
        for (int i = securityEntry; i < securityEntry + 8; i++)
            theirs[i] = ours[i];
        Assert.Equal(theirs, ours);
        string stripped = Path.Combine(dir, "ours.efi");
        File.WriteAllBytes(stripped, ours);
        ToolResult list = ExternalTool.Run("sbverify", ["--list", stripped]);
        Assert.Contains("No signature table present", list.StandardOutput + list.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void StripAuthenticode_NotPe_Throws()
    {
        Assert.Throws<ImageException>(() => SignatureStripper.StripAuthenticode(new byte[100]));
    }

    [Fact]
    public void StripModuleSignature_Unsigned_Unchanged()
    {
        byte[] module = [1, 2, 3, 4];
        Assert.Equal(module, SignatureStripper.StripModuleSignature(module));
    }
}
