using System.Text;
using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>
/// Decodes an event's data by its (untrusted) type and PCR (PFP 1.06 §10.4). Unknown types come back as
/// <see cref="RawEventData"/>; malformed data of a known type is a <see cref="TcgEventLogFormatException"/> with the
/// byte offset in the log (or <c>false</c> from <see cref="TryDecode"/>).
/// </summary>
public static class TcgEventDataDecoder
{
    /// <summary>Decodes; throws <see cref="TcgEventLogFormatException"/> when data of a known type is malformed.</summary>
    public static TcgEventData Decode(TcgEvent ev)
    {
        ArgumentNullException.ThrowIfNull(ev);
        int dataOffset = ev.Offset + ev.Size - ev.Data.Length;
        try
        {
            return DecodeCore(ev, dataOffset);
        }
        catch (UefiFormatException e)
        {
            throw new TcgEventLogFormatException(dataOffset + (int)Math.Max(e.Offset, 0), e.Message);
        }
    }

    /// <summary>Non-throwing <see cref="Decode"/>.</summary>
    public static bool TryDecode(TcgEvent ev, out TcgEventData? data, out string? error)
    {
        try
        {
            data = Decode(ev);
            error = null;
            return true;
        }
        catch (TcgEventLogFormatException e)
        {
            data = null;
            error = e.Message;
            return false;
        }
    }

    private static TcgEventData DecodeCore(TcgEvent ev, int dataOffset)
    {
        ReadOnlyMemory<byte> data = ev.Data;
        ReadOnlySpan<byte> span = data.Span;
        switch (ev.Type)
        {
            case TcgEventType.NoAction:
                return DecodeNoAction(ev, dataOffset);
            case TcgEventType.Separator:
                if (span.SequenceEqual("WBCL"u8))
                    return new SeparatorEventData(0, "WBCL");   // Windows boot configuration log separator (PCR12-14)
                if (span.Length != 4)
                    throw new TcgEventLogFormatException(dataOffset, $"EV_SEPARATOR data is {span.Length} bytes, expected 4");
                return new SeparatorEventData(System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(span), null);
            case TcgEventType.EfiAction:
            case TcgEventType.Action:
                return new TextEventData(Encoding.ASCII.GetString(span).TrimEnd('\0'), EventTextEncoding.Ascii);
            case TcgEventType.SCrtmVersion:
                if (span.Length % 2 == 0 && span.Length > 0 && span.IndexOfAnyExcept((byte)0) < 0)
                    return new TextEventData("", EventTextEncoding.Utf16);   // OVMF's empty PcdFirmwareVersionString: L""
                if (LooksUtf16(span))
                    return new TextEventData(Utf16UpToNul(span), EventTextEncoding.Utf16);
                if (span.Length == 16)
                    return new GuidEventData(new Guid(span));
                return LooksAscii(span) ? new TextEventData(Encoding.ASCII.GetString(span).TrimEnd('\0'), EventTextEncoding.Ascii) : new RawEventData(data);
            case TcgEventType.PostCode:
            case TcgEventType.PlatformConfigFlags:
            case TcgEventType.NonhostInfo:
            case TcgEventType.SCrtmContents:
            case TcgEventType.CpuMicrocode:
            case TcgEventType.TableOfDevices:
                if (LooksAscii(span))
                    return new TextEventData(Encoding.ASCII.GetString(span).TrimEnd('\0'), EventTextEncoding.Ascii);
                if (span.Length == 16 && ev.Type is TcgEventType.PostCode or TcgEventType.SCrtmContents)
                    return DecodeBlob(data, dataOffset, withDescription: false);
                return new RawEventData(data);
            case TcgEventType.EfiPlatformFirmwareBlob:
                return DecodeBlob(data, dataOffset, withDescription: false);
            case TcgEventType.EfiPlatformFirmwareBlob2:
                return DecodeBlob(data, dataOffset, withDescription: true);
            case TcgEventType.EfiHandoffTables:
                return DecodeHandoff(data, dataOffset, withDescription: false);
            case TcgEventType.EfiHandoffTables2:
                return DecodeHandoff(data, dataOffset, withDescription: true);
            case TcgEventType.EfiVariableDriverConfig:
            case TcgEventType.EfiVariableBoot:
            case TcgEventType.EfiVariableBoot2:
            case TcgEventType.EfiVariableAuthority:
                return DecodeVariable(data, dataOffset, ev.Type == TcgEventType.EfiVariableAuthority);
            case TcgEventType.EfiBootServicesApplication:
            case TcgEventType.EfiBootServicesDriver:
            case TcgEventType.EfiRuntimeServicesDriver:
                return DecodeImageLoad(data, dataOffset);
            case TcgEventType.EfiGptEvent:
            case TcgEventType.EfiGptEvent2:
                return DecodeGpt(data, dataOffset);
            case TcgEventType.Ipl:
                return DecodeIpl(ev.PcrIndex, span);
            case TcgEventType.EventTag:
                return DecodeTag(ev.PcrIndex, data, dataOffset);
            default:
                return new RawEventData(data);
        }
    }

    private static TcgEventData DecodeNoAction(TcgEvent ev, int dataOffset)
    {
        ReadOnlySpan<byte> span = ev.Data.Span;
        if (ev.Index == 0 && TcgSpecIdEvent.HasSignature03(span))
        {
            if (!TcgSpecIdEvent.TryParse(ev.Data, out var specId, out string? error, out int at))
                throw new TcgEventLogFormatException(dataOffset + Math.Max(at, 0), error!);
            return new SpecIdEventData(specId!);
        }

        if (span.Length == 17 && span.StartsWith(TcgEventLog.StartupLocalitySignature))
            return new StartupLocalityEventData(span[16]);
        if (span.StartsWith("SP800-155 Event"u8))
        {
            var sp = TryDecodeSp800155(ev.Data, dataOffset);
            if (sp is not null)
                return sp;
        }

        int nul = span.IndexOf((byte)0);
        int sigLength = nul is > 0 and <= 24 ? nul : Math.Min(span.Length, 16);
        if (sigLength > 0 && LooksAscii(span[..sigLength]))
        {
            int bodyStart = nul is > 0 and <= 24 ? nul + 1 : sigLength;
            return new NoActionEventData(Encoding.ASCII.GetString(span[..sigLength]), ev.Data[bodyStart..]);
        }

        return new RawEventData(ev.Data);
    }

    private static Sp800155EventData? TryDecodeSp800155(ReadOnlyMemory<byte> data, int dataOffset)
    {
        // PFP 1.06 §10.4.5.4 TCG_Sp800_155_PlatformId_Event2/3: Signature[16], PlatformManufacturerId u32,
        // ReferenceManifestGuid, then u8-length-prefixed strings with FirmwareManufacturerId u32 between them.
        try
        {
            var r = new EventDataReader(data.Span, dataOffset);
            string signature = Encoding.ASCII.GetString(r.ReadBytes(16, "signature")).TrimEnd('\0');
            uint platformId = r.ReadUInt32();
            Guid rim = r.ReadGuid();
            string manufacturer = ReadShortString(ref r);
            string model = ReadShortString(ref r);
            string version = ReadShortString(ref r);
            string fwManufacturer = ReadShortString(ref r);
            uint fwId = r.ReadUInt32();
            string fwVersion = ReadShortString(ref r);
            return new Sp800155EventData(signature, platformId, rim, manufacturer, model, version, fwManufacturer, fwId, fwVersion);
        }
        catch (TcgEventLogFormatException)
        {
            return null;
        }
    }

    private static string ReadShortString(ref EventDataReader r)
    {
        byte length = r.ReadByte();
        return Encoding.ASCII.GetString(r.ReadBytes(length, "string")).TrimEnd('\0');
    }

    private static FirmwareBlobEventData DecodeBlob(ReadOnlyMemory<byte> data, int dataOffset, bool withDescription)
    {
        // UEFI_PLATFORM_FIRMWARE_BLOB {u64 base; u64 length}; BLOB2 prefixes {u8 size; desc[size]} (PFP §10.4.2).
        var r = new EventDataReader(data.Span, dataOffset);
        string? description = withDescription ? Encoding.ASCII.GetString(r.ReadBytes(r.ReadByte(), "BlobDescription")).TrimEnd('\0') : null;
        ulong blobBase = r.ReadUInt64();
        ulong length = r.ReadUInt64();
        if (r.Remaining != 0)
            r.Fail($"{r.Remaining} unexpected bytes after the firmware blob");
        return new FirmwareBlobEventData(description, blobBase, length);
    }

    private static HandoffTablesEventData DecodeHandoff(ReadOnlyMemory<byte> data, int dataOffset, bool withDescription)
    {
        // UEFI_HANDOFF_TABLE_POINTERS {u64 count; EFI_CONFIGURATION_TABLE[count]}; POINTERS2 prefixes a description.
        var r = new EventDataReader(data.Span, dataOffset);
        string? description = withDescription ? Encoding.ASCII.GetString(r.ReadBytes(r.ReadByte(), "TableDescription")).TrimEnd('\0') : null;
        ulong count = r.ReadUInt64();
        if (count > (ulong)r.Remaining / 24)
            r.Fail($"NumberOfTables {count} does not fit the {r.Remaining} bytes left");
        var tables = new HandoffTable[count];
        for (int i = 0; i < tables.Length; i++)
            tables[i] = new HandoffTable(r.ReadGuid(), r.ReadUInt64());
        return new HandoffTablesEventData(description, tables);
    }

    private static UefiVariableEventData DecodeVariable(ReadOnlyMemory<byte> data, int dataOffset, bool authority)
    {
        // UEFI_VARIABLE_DATA {GUID VariableName; u64 UnicodeNameLength; u64 VariableDataLength; CHAR16 name[]; u8 data[]} (PFP §10.4.3).
        var r = new EventDataReader(data.Span, dataOffset);
        Guid guid = r.ReadGuid();
        ulong nameLength = r.ReadUInt64();
        ulong dataLength = r.ReadUInt64();
        string name = r.ReadUtf16(nameLength, "UnicodeName");
        int start = r.Position;
        r.ReadBytes(dataLength, "VariableData");
        // Old shims logged stray bytes after the variable data (go-attestation issue #157): kept and reported.
        return new UefiVariableEventData(guid, name, data.Slice(start, (int)dataLength), r.Remaining, authority);
    }

    private static UefiImageLoadEventData DecodeImageLoad(ReadOnlyMemory<byte> data, int dataOffset)
    {
        // UEFI_IMAGE_LOAD_EVENT {u64 location; u64 length; u64 linkTimeAddress; u64 LengthOfDevicePath; DevicePath[]} (PFP §10.4.3).
        var r = new EventDataReader(data.Span, dataOffset);
        ulong location = r.ReadUInt64();
        ulong length = r.ReadUInt64();
        ulong link = r.ReadUInt64();
        ulong pathLength = r.ReadUInt64();
        int start = r.Position;
        r.ReadBytes(pathLength, "DevicePath");
        return new UefiImageLoadEventData(location, length, link, data.Slice(start, (int)pathLength));
    }

    private static UefiGptEventData DecodeGpt(ReadOnlyMemory<byte> data, int dataOffset)
    {
        // UEFI_GPT_DATA {EFI_PARTITION_TABLE_HEADER (92 bytes); u64 NumberOfPartitions; EFI_PARTITION_ENTRY[]} (PFP §10.4.3, UEFI §5.3.2).
        var r = new EventDataReader(data.Span, dataOffset);
        ReadOnlySpan<byte> header = r.ReadBytes(92, "EFI_PARTITION_TABLE_HEADER");
        if (!header.StartsWith("EFI PART"u8))
            r.Fail("GPT header signature is not \"EFI PART\"");
        var disk = new Guid(header.Slice(56, 16));
        uint entrySize = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(header[84..]);
        ulong count = r.ReadUInt64();
        if (entrySize < 128 || entrySize > 4096)
            r.Fail($"SizeOfPartitionEntry {entrySize} is outside 128..4096");
        if (count > (ulong)r.Remaining / entrySize)
            r.Fail($"NumberOfPartitions {count} × {entrySize} bytes exceeds the {r.Remaining} bytes left");
        var partitions = new GptPartition[count];
        for (int i = 0; i < partitions.Length; i++)
        {
            ReadOnlySpan<byte> e = r.ReadBytes(entrySize, "partition entry");
            partitions[i] = new GptPartition(new Guid(e[..16]), new Guid(e.Slice(16, 16)),
                System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(e[32..]),
                System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(e[40..]),
                System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(e[48..]),
                Utf16UpToNul(e.Slice(56, 72)));
        }

        return new UefiGptEventData(disk, partitions);
    }

    private static readonly (string Prefix, IplEventKind Kind)[] GrubPrefixes =
    [
        ("grub_cmd: ", IplEventKind.GrubCommand),
        ("kernel_cmdline: ", IplEventKind.KernelCommandLine),
        ("module_cmdline: ", IplEventKind.ModuleCommandLine),
        ("grub_kernel_cmdline ", IplEventKind.KernelCommandLine),   // Red Hat grub2 patches (RHEL 8)
        ("grub_cmd ", IplEventKind.GrubCommand),
    ];

    /// <summary>Splits a GRUB PCR8 string into kind, prefix and text; null when it has no known prefix.</summary>
    public static (IplEventKind Kind, string Prefix)? GrubPrefix(ReadOnlySpan<byte> data)
    {
        foreach (var (prefix, kind) in GrubPrefixes)
        {
            if (data.StartsWith(Encoding.ASCII.GetBytes(prefix)))
                return (kind, prefix);
        }

        return null;
    }

    private static IplEventData DecodeIpl(uint pcr, ReadOnlySpan<byte> span)
    {
        if (LooksAscii(span))
        {
            string text = Encoding.ASCII.GetString(span).TrimEnd('\0');
            if (pcr == 8 && GrubPrefix(span) is { } grub)
                return new IplEventData(grub.Kind, text[grub.Prefix.Length..], grub.Prefix, EventTextEncoding.Ascii);
            IplEventKind kind = pcr switch
            {
                9 => IplEventKind.GrubFile,
                14 => IplEventKind.ShimVariable,
                _ => IplEventKind.Other,
            };
            return new IplEventData(kind, text, null, EventTextEncoding.Ascii);
        }

        if (LooksUtf16(span))
        {
            // systemd-boot / systemd-stub measure the kernel command line as UTF-16 (PCR12, older releases PCR8).
            return new IplEventData(pcr is 8 or 12 ? IplEventKind.LoadOptions : IplEventKind.Other, Utf16UpToNul(span), null, EventTextEncoding.Utf16);
        }

        return new IplEventData(IplEventKind.Other, Convert.ToHexString(span), null, EventTextEncoding.Ascii);
    }

    private static TaggedEventData DecodeTag(uint pcr, ReadOnlyMemory<byte> data, int dataOffset)
    {
        if (pcr is >= 11 and <= 14)
        {
            // Windows WBCL: the event data is a SIPA record sequence (its first record doubles as the tagged-event header).
            try
            {
                var sipa = SipaRecord.ParseSequence(data, dataOffset, 0);
                if (sipa.Count > 0)
                    return new TaggedEventData(sipa[0].Type, data, sipa);
            }
            catch (TcgEventLogFormatException)
            {
                // Not SIPA: fall through to the plain TCG_PCClientTaggedEvent layout.
            }
        }

        // TCG_PCClientTaggedEvent {u32 taggedEventID; u32 taggedEventDataSize; u8 data[]} (PFP §10.4.2).
        var r = new EventDataReader(data.Span, dataOffset);
        uint id = r.ReadUInt32();
        uint size = r.ReadUInt32();
        int start = r.Position;
        r.ReadBytes(size, "taggedEventData");
        return new TaggedEventData(id, data.Slice(start, (int)size), null);
    }

    internal static bool LooksAscii(ReadOnlySpan<byte> span)
    {
        if (span.IsEmpty)
            return false;
        int end = span.Length;
        while (end > 0 && span[end - 1] == 0)
            end--;
        if (end == 0)
            return false;
        foreach (byte b in span[..end])
        {
            if (b is not (>= 0x20 and < 0x7F) and not (byte)'\n' and not (byte)'\t' and not (byte)'\r')
                return false;
        }

        return true;
    }

    internal static bool LooksUtf16(ReadOnlySpan<byte> span)
    {
        if (span.Length < 4 || span.Length % 2 != 0)
            return false;
        int chars = 0;
        for (int i = 0; i + 1 < span.Length; i += 2)
        {
            char c = (char)(span[i] | (span[i + 1] << 8));
            if (c == '\0')
                return chars > 0 && span[(i + 2)..].IndexOfAnyExcept((byte)0) < 0;
            if (char.IsControl(c) && c is not '\n' and not '\t' and not '\r')
                return false;
            if (span[i + 1] != 0 && c < 0x100)
                return false;
            chars++;
        }

        return chars > 0 && span[1] == 0;
    }

    internal static string Utf16UpToNul(ReadOnlySpan<byte> span)
    {
        string s = Encoding.Unicode.GetString(span[..(span.Length & ~1)]);
        int nul = s.IndexOf('\0', StringComparison.Ordinal);
        return nul >= 0 ? s[..nul] : s;
    }
}
