using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace TrustedLaunch.Uefi.Format;

/// <summary>
/// Device path → text as edk2's <c>DevicePathToText</c> (MdePkg UefiDevicePathLib, DisplayOnly=FALSE,
/// AllowShortcuts=FALSE) prints it, e.g. <c>PciRoot(0x0)/Pci(0x2,0x0)/HD(1,GPT,…,0x800,0x32000)/\EFI\BOOT\BOOTX64.EFI</c>.
/// edk2's PrintLib prints hex digits upper-case. A node too short for its type, or of an unknown type, is printed
/// in edk2's generic form (<c>HardwarePath(sub,hex)</c>, <c>Path(type,sub,hex)</c>), so any well-framed path has text.
/// </summary>
public static class EfiDevicePathText
{
    /// <summary>Converts a packed device path to text; throws <see cref="UefiFormatException"/> when a node is badly framed.</summary>
    public static string ToText(ReadOnlySpan<byte> devicePath)
    {
        if (!TryToText(devicePath, out string? text, out string? error, out int offset))
            throw new UefiFormatException(error!) { Offset = offset };
        return text!;
    }

    /// <summary>Non-throwing <see cref="ToText"/>: false with the reason and offset when a node is badly framed.</summary>
    public static bool TryToText(ReadOnlySpan<byte> devicePath, out string? text, out string? error, out int errorOffset)
    {
        var sb = new StringBuilder(devicePath.Length);
        var reader = new EfiDevicePathReader(devicePath);
        bool needSlash = false;
        while (true)
        {
            errorOffset = reader.Position;
            if (!reader.TryReadNext(out var node, out error))
                break;
            if (node.IsEndEntire)
                break;
            if (node.IsEndInstance)
            {
                sb.Append(',');   // DevPathToTextEndInstance
                needSlash = false;
                continue;
            }

            if (needSlash)
                sb.Append('/');
            AppendNode(sb, node);
            needSlash = true;
        }

        if (error is not null)
        {
            text = null;
            return false;
        }

        text = sb.ToString();
        errorOffset = -1;
        return true;
    }

    /// <summary>Appends one node's text (no separator).</summary>
    public static void AppendNode(StringBuilder sb, EfiDevicePathNode node)
    {
        ArgumentNullException.ThrowIfNull(sb);
        if (!TryAppendKnown(sb, node))
            AppendGeneric(sb, node);
    }

    private static bool TryAppendKnown(StringBuilder sb, EfiDevicePathNode node)
    {
        ReadOnlySpan<byte> d = node.Data;
        var inv = CultureInfo.InvariantCulture;
        switch (node.Type, node.SubType)
        {
            case (EfiDevicePathType.Hardware, 0x01) when d.Length >= 2:   // HW_PCI_DP: Function, Device
                sb.Append(inv, $"Pci(0x{d[1]:X},0x{d[0]:X})");
                return true;
            case (EfiDevicePathType.Hardware, 0x02) when d.Length >= 1:   // HW_PCCARD_DP
                sb.Append(inv, $"PcCard(0x{d[0]:X})");
                return true;
            case (EfiDevicePathType.Hardware, 0x03) when d.Length >= 20:  // HW_MEMMAP_DP
                sb.Append(inv, $"MemoryMapped(0x{U32(d):X},0x{U64(d[4..]):X},0x{U64(d[12..]):X})");
                return true;
            case (EfiDevicePathType.Hardware, 0x04) when d.Length >= 16:  // HW_VENDOR_DP
                AppendVendor(sb, "Hw", d);
                return true;
            case (EfiDevicePathType.Hardware, 0x05) when d.Length >= 4:   // HW_CONTROLLER_DP
                sb.Append(inv, $"Ctrl(0x{U32(d):X})");
                return true;
            case (EfiDevicePathType.Hardware, 0x06) when d.Length >= 9:   // HW_BMC_DP
                sb.Append(inv, $"BMC(0x{d[0]:X},0x{U64(d[1..]):X})");
                return true;
            case (EfiDevicePathType.Acpi, 0x01) when d.Length >= 8:       // ACPI_DP: HID, UID
                AppendAcpi(sb, U32(d), U32(d[4..]));
                return true;
            case (EfiDevicePathType.Acpi, 0x03) when d.Length >= 4:       // ACPI_ADR_DP
                sb.Append("AcpiAdr(");
                for (int i = 0; i + 4 <= d.Length; i += 4)
                    sb.Append(inv, $"{(i == 0 ? "" : ",")}0x{U32(d[i..]):X}");
                sb.Append(')');
                return true;
            case (EfiDevicePathType.Messaging, 0x01) when d.Length >= 4:  // MSG_ATAPI_DP
                sb.Append(inv, $"Ata({(d[0] == 0 ? "Primary" : "Secondary")},{(d[1] == 0 ? "Master" : "Slave")},0x{U16(d[2..]):X})");
                return true;
            case (EfiDevicePathType.Messaging, 0x02) when d.Length >= 4:  // MSG_SCSI_DP
                sb.Append(inv, $"Scsi(0x{U16(d):X},0x{U16(d[2..]):X})");
                return true;
            case (EfiDevicePathType.Messaging, 0x05) when d.Length >= 2:  // MSG_USB_DP
                sb.Append(inv, $"USB(0x{d[0]:X},0x{d[1]:X})");
                return true;
            case (EfiDevicePathType.Messaging, 0x0A) when d.Length >= 16: // MSG_VENDOR_DP
                AppendVendor(sb, "Msg", d);
                return true;
            case (EfiDevicePathType.Messaging, 0x0B) when d.Length >= 33: // MSG_MAC_ADDR_DP: MAC[32], IfType
                int hw = d[32] is 0 or 1 ? 6 : 32;
                sb.Append("MAC(");
                foreach (byte b in d[..hw])
                    sb.Append(inv, $"{b:X2}");
                sb.Append(inv, $",0x{d[32]:X})");
                return true;
            case (EfiDevicePathType.Messaging, 0x0C) when d.Length >= 15: // MSG_IPv4_DP
                AppendIPv4(sb, d);
                return true;
            case (EfiDevicePathType.Messaging, 0x0F) when d.Length >= 7:  // MSG_USB_CLASS_DP
                sb.Append(inv, $"UsbClass(0x{U16(d):X},0x{U16(d[2..]):X},0x{d[4]:X},0x{d[5]:X},0x{d[6]:X})");
                return true;
            case (EfiDevicePathType.Messaging, 0x11) when d.Length >= 1:  // MSG_DEVICE_LOGICAL_UNIT_DP
                sb.Append(inv, $"Unit(0x{d[0]:X})");
                return true;
            case (EfiDevicePathType.Messaging, 0x12) when d.Length >= 6:  // MSG_SATA_DP
                sb.Append(inv, $"Sata(0x{U16(d):X},0x{U16(d[2..]):X},0x{U16(d[4..]):X})");
                return true;
            case (EfiDevicePathType.Messaging, 0x14) when d.Length >= 2:  // MSG_VLAN_DP
                sb.Append(inv, $"Vlan({U16(d)})");
                return true;
            case (EfiDevicePathType.Messaging, 0x17) when d.Length >= 12: // MSG_NVME_NAMESPACE_DP: NSID, EUI-64 printed high byte first
                sb.Append(inv, $"NVMe(0x{U32(d):X},{d[11]:X2}-{d[10]:X2}-{d[9]:X2}-{d[8]:X2}-{d[7]:X2}-{d[6]:X2}-{d[5]:X2}-{d[4]:X2})");
                return true;
            case (EfiDevicePathType.Messaging, 0x18):                     // MSG_URI_DP
                sb.Append("Uri(").Append(Encoding.ASCII.GetString(d)).Append(')');
                return true;
            case (EfiDevicePathType.Messaging, 0x1A) when d.Length >= 1:  // MSG_SD_DP
                sb.Append(inv, $"SD(0x{d[0]:X})");
                return true;
            case (EfiDevicePathType.Messaging, 0x1D) when d.Length >= 1:  // MSG_EMMC_DP
                sb.Append(inv, $"eMMC(0x{d[0]:X})");
                return true;
            case (EfiDevicePathType.Media, 0x01) when d.Length >= 38:     // MEDIA_HARDDRIVE_DP
                AppendHardDrive(sb, d);
                return true;
            case (EfiDevicePathType.Media, 0x02) when d.Length >= 20:     // MEDIA_CDROM_DP
                sb.Append(inv, $"CDROM(0x{U32(d):X},0x{U64(d[4..]):X},0x{U64(d[12..]):X})");
                return true;
            case (EfiDevicePathType.Media, 0x03) when d.Length >= 16:     // MEDIA_VENDOR_DP
                AppendVendor(sb, "Media", d);
                return true;
            case (EfiDevicePathType.Media, 0x04):                         // MEDIA_FILEPATH_DP: CHAR16 path, NUL-terminated
                sb.Append(Utf16UpToNul(d));
                return true;
            case (EfiDevicePathType.Media, 0x05) when d.Length >= 16:     // MEDIA_PROTOCOL_DP
                sb.Append("Media(").Append(GuidText(d)).Append(')');
                return true;
            case (EfiDevicePathType.Media, 0x06) when d.Length >= 16:     // MEDIA_PIWG_FW_FILE_DP
                sb.Append("FvFile(").Append(GuidText(d)).Append(')');
                return true;
            case (EfiDevicePathType.Media, 0x07) when d.Length >= 16:     // MEDIA_PIWG_FW_VOL_DP
                sb.Append("Fv(").Append(GuidText(d)).Append(')');
                return true;
            case (EfiDevicePathType.Media, 0x08) when d.Length >= 20:     // MEDIA_RELATIVE_OFFSET_RANGE_DP: Reserved u32, start, end
                sb.Append(inv, $"Offset(0x{U64(d[4..]):X},0x{U64(d[12..]):X})");
                return true;
            case (EfiDevicePathType.Bbs, 0x01) when d.Length >= 4:        // BBS_BBS_DP: DeviceType, StatusFlag, String
                string type = U16(d) switch
                {
                    1 => "Floppy", 2 => "HD", 3 => "CDROM", 4 => "PCMCIA", 5 => "USB", 6 => "Network",
                    _ => string.Create(inv, $"0x{U16(d):X}"),
                };
                sb.Append(inv, $"BBS({type},{AsciiUpToNul(d[4..])},0x{U16(d[2..]):X})");
                return true;
            default:
                return false;
        }
    }

    private static void AppendAcpi(StringBuilder sb, uint hid, uint uid)
    {
        var inv = CultureInfo.InvariantCulture;
        // PNP_EISA_ID_CONST 0x41D0 in the low 16 bits; EISA_ID_TO_NUM is the high 16 bits.
        if ((hid & 0xFFFF) == 0x41D0)
        {
            uint num = hid >> 16;
            string text = num switch
            {
                0x0A03 => $"PciRoot(0x{uid:X})",
                0x0A08 => $"PcieRoot(0x{uid:X})",
                0x0604 => $"Floppy(0x{uid:X})",
                0x0301 => $"Keyboard(0x{uid:X})",
                0x0501 => $"Serial(0x{uid:X})",
                0x0401 => $"ParallelPort(0x{uid:X})",
                _ => string.Create(inv, $"Acpi(PNP{num:X4},0x{uid:X})"),
            };
            sb.Append(text);
        }
        else
        {
            sb.Append(inv, $"Acpi(0x{hid:X8},0x{uid:X})");
        }
    }

    private static void AppendHardDrive(StringBuilder sb, ReadOnlySpan<byte> d)
    {
        // HARDDRIVE_DEVICE_PATH: PartitionNumber u32, PartitionStart u64, PartitionSize u64, Signature[16], MBRType u8, SignatureType u8.
        var inv = CultureInfo.InvariantCulture;
        uint number = U32(d);
        byte signatureType = d[37];
        switch (signatureType)
        {
            case 1:
                sb.Append(inv, $"HD({number},MBR,0x{U32(d[20..]):X8},");
                break;
            case 2:
                sb.Append(inv, $"HD({number},GPT,{GuidText(d[20..])},");
                break;
            default:
                sb.Append(inv, $"HD({number},{signatureType},0,");
                break;
        }

        sb.Append(inv, $"0x{U64(d[4..]):X},0x{U64(d[12..]):X})");
    }

    private static void AppendVendor(StringBuilder sb, string kind, ReadOnlySpan<byte> d)
    {
        sb.Append("Ven").Append(kind).Append('(').Append(GuidText(d));
        if (d.Length > 16)
            sb.Append(',').Append(Convert.ToHexString(d[16..]));
        sb.Append(')');
    }

    private static void AppendIPv4(StringBuilder sb, ReadOnlySpan<byte> d)
    {
        // IPv4_DEVICE_PATH: Local[4], Remote[4], LocalPort, RemotePort, Protocol u16, StaticIp u8, (Gateway[4], Subnet[4]).
        var inv = CultureInfo.InvariantCulture;
        ushort protocol = U16(d[12..]);
        string proto = protocol switch { 6 => "TCP", 17 => "UDP", _ => string.Create(inv, $"0x{protocol:X}") };
        sb.Append(inv, $"IPv4({d[4]}.{d[5]}.{d[6]}.{d[7]},{proto},{(d[14] != 0 ? "Static" : "DHCP")},{d[0]}.{d[1]}.{d[2]}.{d[3]}");
        if (d.Length >= 23)
            sb.Append(inv, $",{d[15]}.{d[16]}.{d[17]}.{d[18]},{d[19]}.{d[20]}.{d[21]}.{d[22]}");
        sb.Append(')');
    }

    private static void AppendGeneric(StringBuilder sb, EfiDevicePathNode node)
    {
        // DevPathToTextNodeGeneric: a known type name with the sub-type, else Path(type,sub); then the data as hex.
        string? name = node.Type switch
        {
            EfiDevicePathType.Hardware => "HardwarePath",
            EfiDevicePathType.Acpi => "AcpiPath",
            EfiDevicePathType.Messaging => "Msg",
            EfiDevicePathType.Media => "MediaPath",
            EfiDevicePathType.Bbs => "BbsPath",
            _ => null,
        };
        if (name is null)
            sb.Append(CultureInfo.InvariantCulture, $"Path({(byte)node.Type},{node.SubType}");
        else
            sb.Append(CultureInfo.InvariantCulture, $"{name}({node.SubType}");
        if (!node.Data.IsEmpty)
            sb.Append(',').Append(Convert.ToHexString(node.Data));
        sb.Append(')');
    }

    /// <summary>EFI_GUID as edk2's <c>%g</c> prints it: upper-case, 8-4-4-4-12.</summary>
    public static string GuidText(ReadOnlySpan<byte> efiGuid) => new Guid(efiGuid[..16]).ToString("D").ToUpperInvariant();

    private static string Utf16UpToNul(ReadOnlySpan<byte> d)
    {
        int chars = d.Length / 2;
        var sb = new StringBuilder(chars);
        for (int i = 0; i < chars; i++)
        {
            char c = (char)BinaryPrimitives.ReadUInt16LittleEndian(d[(i * 2)..]);
            if (c == '\0')
                break;
            sb.Append(c);
        }

        return sb.ToString();
    }

    private static string AsciiUpToNul(ReadOnlySpan<byte> d)
    {
        int nul = d.IndexOf((byte)0);
        return Encoding.ASCII.GetString(nul >= 0 ? d[..nul] : d);
    }

    private static ushort U16(ReadOnlySpan<byte> d) => BinaryPrimitives.ReadUInt16LittleEndian(d);

    private static uint U32(ReadOnlySpan<byte> d) => BinaryPrimitives.ReadUInt32LittleEndian(d);

    private static ulong U64(ReadOnlySpan<byte> d) => BinaryPrimitives.ReadUInt64LittleEndian(d);
}
