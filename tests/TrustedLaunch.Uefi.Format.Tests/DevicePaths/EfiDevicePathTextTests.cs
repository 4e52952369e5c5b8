using System.Buffers.Binary;
using System.Text;
using TrustedLaunch.Testing;
using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.Uefi.Format.Tests.DevicePaths;

public class EfiDevicePathTextTests
{
    private static byte[] Node(byte type, byte subType, params byte[] data)
    {
        var node = new byte[4 + data.Length];
        node[0] = type;
        node[1] = subType;
        BinaryPrimitives.WriteUInt16LittleEndian(node.AsSpan(2), (ushort)node.Length);
        data.CopyTo(node, 4);
        return node;
    }

    private static readonly byte[] End = [0x7F, 0xFF, 4, 0];

    private static byte[] Path(params byte[][] nodes) => [.. nodes.SelectMany(n => n), .. End];

    private static byte[] Le32(uint v) => BitConverter.GetBytes(v);

    private static byte[] Le64(ulong v) => BitConverter.GetBytes(v);

    [Fact]
    public void ToText_OvmfShimBootPathFromQemuCapture_AsOvmfPrintsIt()
    {
        // The PCR4 shim event of corpus/qemu/ovmf4m-ms-sb-crb (tpm2_eventlog prints these bytes); console.log shows
        // OVMF's own text for the boot option: "PciRoot(0x0)/Pci(0x2,0x0)".
        byte[] path = Convert.FromHexString("02010c00d041030a00000000010106000002040430005c004500460049005c0042004f004f0054005c0042004f004f0054005800360034002e0045004600490000007fff0400");
        Assert.Equal(@"PciRoot(0x0)/Pci(0x2,0x0)/\EFI\BOOT\BOOTX64.EFI", EfiDevicePathText.ToText(path));
    }

    [Fact]
    public void ToText_BootOptionFromQemuCapture_MatchesOvmfConsole()
    {
        // Boot0001 is measured into PCR1 (EV_EFI_VARIABLE_BOOT, data = EFI_LOAD_OPTION); OVMF printed its path in console.log.
        string folder = System.IO.Path.Combine(RepositoryPaths.CorpusRoot, "qemu", "ovmf4m-ms-sb-crb");
        string console = File.ReadAllText(System.IO.Path.Combine(folder, "console.log"));
        byte[] log = File.ReadAllBytes(System.IO.Path.Combine(folder, "binary_bios_measurements"));
        byte[] name = Encoding.Unicode.GetBytes("Boot0001");
        int at = log.AsSpan().IndexOf(name);
        Assert.True(at > 0);
        ReadOnlySpan<byte> option = log.AsSpan(at + name.Length);
        ushort pathLength = BinaryPrimitives.ReadUInt16LittleEndian(option[4..]);
        int descEnd = 6;
        while (BinaryPrimitives.ReadUInt16LittleEndian(option[descEnd..]) != 0)
            descEnd += 2;
        string description = Encoding.Unicode.GetString(option[6..descEnd]);
        string text = EfiDevicePathText.ToText(option.Slice(descEnd + 2, pathLength));
        Assert.Contains($"Boot0001 \"{description}\" from {text}\n", console.Replace("\r", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void ToText_HardDriveGptAndFile_EdkFormat()
    {
        var guid = new Guid("F7D3DB23-1C2B-4A15-9F3F-B8A5F4E2C0AA");
        byte[] hd = [.. Le32(1), .. Le64(0x800), .. Le64(0x100000), .. guid.ToByteArray(), 0x02, 0x02];
        byte[] file = [.. Encoding.Unicode.GetBytes(@"\EFI\debian\shimx64.efi"), 0, 0];
        var path = Path(Node(2, 1, [.. Le32(0x0A0341D0), .. Le32(0)]), Node(1, 1, 0, 4), Node(3, 0x12, 0, 0, 0xFF, 0xFF, 0, 0), Node(4, 1, hd), Node(4, 4, file));
        Assert.Equal(@"PciRoot(0x0)/Pci(0x4,0x0)/Sata(0x0,0xFFFF,0x0)/HD(1,GPT,F7D3DB23-1C2B-4A15-9F3F-B8A5F4E2C0AA,0x800,0x100000)/\EFI\debian\shimx64.efi",
            EfiDevicePathText.ToText(path));
    }

    [Fact]
    public void ToText_FirmwareVolumeFileAndOffsets_EdkFormat()
    {
        var fv = new Guid("7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1");
        var file = new Guid("462CAA21-7614-4503-836E-8AB6F4662331");
        var path = Path(Node(4, 7, fv.ToByteArray()), Node(4, 6, file.ToByteArray()), Node(4, 8, [.. Le32(0), .. Le64(0x10), .. Le64(0x2F)]));
        Assert.Equal("Fv(7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1)/FvFile(462CAA21-7614-4503-836E-8AB6F4662331)/Offset(0x10,0x2F)", EfiDevicePathText.ToText(path));
    }

    [Fact]
    public void ToText_NvmeScsiUsbMacIpv4Vendor_EdkFormat()
    {
        byte[] nvme = [.. Le32(1), 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08];
        byte[] mac = new byte[33];
        new byte[] { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }.CopyTo(mac, 0);
        mac[32] = 1;
        byte[] ipv4 = [10, 0, 2, 15, 10, 0, 2, 2, 0, 0, 0x45, 0, 17, 0, 0, 10, 0, 2, 2, 255, 255, 255, 0];
        var vendor = new Guid("93E34C7E-B50E-11DF-9223-2443DFD72085");
        Assert.Equal("NVMe(0x1,08-07-06-05-04-03-02-01)", EfiDevicePathText.ToText(Path(Node(3, 0x17, nvme))));
        Assert.Equal("Scsi(0x0,0x1)", EfiDevicePathText.ToText(Path(Node(3, 2, 0, 0, 1, 0))));
        Assert.Equal("USB(0x1,0x0)", EfiDevicePathText.ToText(Path(Node(3, 5, 1, 0))));
        Assert.Equal("MAC(525400123456,0x1)", EfiDevicePathText.ToText(Path(Node(3, 11, mac))));
        Assert.Equal("IPv4(10.0.2.2,UDP,DHCP,10.0.2.15,10.0.2.2,255.255.255.0)", EfiDevicePathText.ToText(Path(Node(3, 12, ipv4))));
        Assert.Equal("VenHw(93E34C7E-B50E-11DF-9223-2443DFD72085,00)", EfiDevicePathText.ToText(Path(Node(1, 4, [.. vendor.ToByteArray(), 0]))));
    }

    [Fact]
    public void ToText_UnknownNodes_GenericFormWithHex()
    {
        Assert.Equal("Path(9,3,ABCD)", EfiDevicePathText.ToText(Path(Node(9, 3, 0xAB, 0xCD))));
        Assert.Equal("Msg(99,01)", EfiDevicePathText.ToText(Path(Node(3, 99, 1))));
        // A PCI node too short for its type falls back to the generic form instead of reading past it.
        Assert.Equal("HardwarePath(1,07)", EfiDevicePathText.ToText(Path(Node(1, 1, 7))));
    }

    [Fact]
    public void ToText_MultiInstance_CommaSeparated()
    {
        byte[] endInstance = [0x7F, 0x01, 4, 0];
        byte[] path = [.. Node(3, 5, 1, 0), .. endInstance, .. Node(3, 5, 2, 0), .. End];
        Assert.Equal("USB(0x1,0x0),USB(0x2,0x0)", EfiDevicePathText.ToText(path));
    }

    [Theory]
    [InlineData("0101")]            // header truncated
    [InlineData("01010300")]        // length 3 < 4
    [InlineData("0101ff00000000")]  // length beyond the buffer
    public void ToText_BadFraming_TypedErrorWithOffset(string hex)
    {
        var e = Assert.Throws<UefiFormatException>(() => EfiDevicePathText.ToText(Convert.FromHexString(hex)));
        Assert.Equal(0, e.Offset);
        Assert.False(EfiDevicePathText.TryToText(Convert.FromHexString(hex), out _, out string? error, out _));
        Assert.NotNull(error);
    }

    [Fact]
    public void Reader_RandomBytes_NeverThrowsAnythingButTyped()
    {
        var random = new Random(7);
        for (int i = 0; i < 5000; i++)
        {
            byte[] bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);
            _ = EfiDevicePathText.TryToText(bytes, out _, out _, out _);
        }
    }
}
