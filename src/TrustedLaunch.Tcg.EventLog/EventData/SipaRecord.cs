using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>
/// One Windows SIPA record from a WBCL EV_EVENT_TAG (wbcl.h; go-attestation win_events.go; TCGLogTools):
/// <c>{u32 Type; u32 Size; u8 Data[Size]}</c>. Containers (class 0x1) hold nested records.
/// </summary>
public sealed record SipaRecord(uint Type, ReadOnlyMemory<byte> Data, IReadOnlyList<SipaRecord>? Children)
{
    /// <summary>SIPA_TYPE class bits 16..19 (wbcl.h).</summary>
    public const uint ContainerClass = 0x00010000;

    public string Name => SipaNames.Name(Type);

    public bool IsContainer => (Type & 0x000F0000) == ContainerClass;

    /// <summary>Data as a little-endian integer for 1/2/4/8-byte payloads.</summary>
    public ulong? IntegerValue => Data.Length switch
    {
        1 => Data.Span[0],
        2 => BinaryPrimitives.ReadUInt16LittleEndian(Data.Span),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(Data.Span),
        8 => BinaryPrimitives.ReadUInt64LittleEndian(Data.Span),
        _ => null,
    };

    /// <summary>Data as a NUL-terminated UTF-16 string (file paths, authority names).</summary>
    public string Utf16Value
    {
        get
        {
            string s = Encoding.Unicode.GetString(Data.Span[..(Data.Length & ~1)]);
            int nul = s.IndexOf('\0', StringComparison.Ordinal);
            return nul >= 0 ? s[..nul] : s;
        }
    }

    public IEnumerable<SipaRecord> Descendants()
    {
        yield return this;
        if (Children is null)
            yield break;
        foreach (var child in Children)
        {
            foreach (var d in child.Descendants())
                yield return d;
        }
    }

    public string Describe()
    {
        if (Children is not null)
            return $"{Name}{{{string.Join(", ", Children.Select(c => c.Describe()))}}}";
        string value = SipaNames.IsText(Type) ? $"\"{Utf16Value}\"" :
            IntegerValue is ulong v ? v.ToString(CultureInfo.InvariantCulture) :
            Data.Length <= 32 ? Convert.ToHexString(Data.Span) : $"{Data.Length} bytes";
        return $"{Name}={value}";
    }

    /// <summary>Parses a SIPA record sequence; nesting is bounded so hostile input cannot recurse deeply.</summary>
    internal static List<SipaRecord> ParseSequence(ReadOnlyMemory<byte> data, int baseOffset, int depth)
    {
        if (depth > 8)
            throw new TcgEventLogFormatException(baseOffset, "SIPA containers nested deeper than 8 levels");
        var records = new List<SipaRecord>();
        int at = 0;
        ReadOnlySpan<byte> span = data.Span;
        while (at < span.Length)
        {
            if (span.Length - at < 8)
                throw new TcgEventLogFormatException(baseOffset + at, $"SIPA record header truncated: {span.Length - at} bytes left");
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(span[at..]);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(span[(at + 4)..]);
            if (size > (uint)(span.Length - at - 8))
                throw new TcgEventLogFormatException(baseOffset + at + 4, $"SIPA record size {size} exceeds the {span.Length - at - 8} bytes left");
            var body = data.Slice(at + 8, (int)size);
            var children = (type & 0x000F0000) == ContainerClass ? ParseSequence(body, baseOffset + at + 8, depth + 1) : null;
            records.Add(new SipaRecord(type, body, children));
            at += 8 + (int)size;
        }

        return records;
    }
}

/// <summary>SIPA type names (wbcl.h, as listed in the uefi-formats fact sheet §6).</summary>
public static class SipaNames
{
    public const uint BootCounter = 0x00020002;
    public const uint TransferControl = 0x00020003;
    public const uint BitLockerUnlock = 0x00020005;
    public const uint BootDebugging = 0x00040001;
    public const uint OsKernelDebug = 0x00050001;
    public const uint CodeIntegrity = 0x00050002;
    public const uint TestSigning = 0x00050003;
    public const uint DataExecutionPrevention = 0x00050004;
    public const uint SafeMode = 0x00050005;
    public const uint WinPe = 0x00050006;
    public const uint HypervisorLaunchType = 0x0005000A;
    public const uint HypervisorDebug = 0x0005000D;
    public const uint VsmLaunchType = 0x00050012;
    public const uint FilePath = 0x00070001;
    public const uint ImageSize = 0x00070002;
    public const uint HashAlgorithmId = 0x00070003;
    public const uint AuthenticodeHash = 0x00070004;
    public const uint AuthorityIssuer = 0x00070005;
    public const uint AuthoritySerial = 0x00070006;
    public const uint ImageBase = 0x00070007;
    public const uint AuthorityPublisher = 0x00070008;
    public const uint AuthoritySha1Thumbprint = 0x00070009;
    public const uint ImageValidated = 0x0007000A;
    public const uint ElamKeyName = 0x00090001;
    public const uint ElamMeasured = 0x00090004;
    public const uint VbsVsmRequired = 0x000A0001;
    public const uint VbsSecureBootRequired = 0x000A0002;
    public const uint VbsIommuRequired = 0x000A0003;
    public const uint VbsHvciPolicy = 0x000A0007;
    public const uint VbsMicrosoftBootChainRequired = 0x000A0008;
    public const uint LoadedModuleAggregation = 0x40010003;
    public const uint ElamAggregation = 0x40010002;

    private static readonly Dictionary<uint, string> Names = new()
    {
        [0x40010001] = "TRUSTBOUNDARY", [ElamAggregation] = "ELAM_AGGREGATION", [LoadedModuleAggregation] = "LOADEDMODULE_AGGREGATION",
        [0xC0010004] = "TRUSTPOINT_AGGREGATION", [0x40010005] = "KSR_AGGREGATION", [0x40010006] = "KSR_SIGNED_MEASUREMENT_AGGREGATION",
        [0x00020001] = "INFORMATION", [BootCounter] = "BOOTCOUNTER", [TransferControl] = "TRANSFER_CONTROL", [0x00020004] = "APPLICATION_RETURN",
        [BitLockerUnlock] = "BITLOCKER_UNLOCK", [0x00020006] = "EVENTCOUNTER", [0x00020007] = "COUNTERID", [0x00020008] = "MORBIT_NOT_CANCELABLE",
        [0x00020009] = "APPLICATION_SVN", [0x0002000A] = "SVN_CHAIN_STATUS", [0x0002000B] = "MORBIT_API_STATUS",
        [BootDebugging] = "BOOTDEBUGGING", [0x00040002] = "BOOT_REVOCATION_LIST",
        [OsKernelDebug] = "OSKERNELDEBUG", [CodeIntegrity] = "CODEINTEGRITY", [TestSigning] = "TESTSIGNING", [DataExecutionPrevention] = "DATAEXECUTIONPREVENTION",
        [SafeMode] = "SAFEMODE", [WinPe] = "WINPE", [0x00050007] = "PHYSICALADDRESSEXTENSION", [0x00050008] = "OSDEVICE", [0x00050009] = "SYSTEMROOT",
        [HypervisorLaunchType] = "HYPERVISOR_LAUNCH_TYPE", [0x0005000B] = "HYPERVISOR_PATH", [0x0005000C] = "HYPERVISOR_IOMMU_POLICY",
        [HypervisorDebug] = "HYPERVISOR_DEBUG", [0x0005000E] = "DRIVER_LOAD_POLICY", [0x0005000F] = "SI_POLICY",
        [0x00050010] = "HYPERVISOR_MMIO_NX_POLICY", [0x00050011] = "HYPERVISOR_MSR_FILTER_POLICY", [VsmLaunchType] = "VSM_LAUNCH_TYPE",
        [0x00050013] = "OS_REVOCATION_LIST", [0x00050014] = "SMT_STATUS", [0x00050020] = "VSM_IDK_INFO", [0x00050021] = "FLIGHTSIGNING",
        [0x00050022] = "PAGEFILE_ENCRYPTION_ENABLED", [0x00050023] = "VSM_IDKS_INFO", [0x00050024] = "HIBERNATION_DISABLED",
        [0x00050025] = "DUMPS_DISABLED", [0x00050026] = "DUMP_ENCRYPTION_ENABLED", [0x00050027] = "DUMP_ENCRYPTION_KEY_DIGEST",
        [0x00050028] = "LSAISO_CONFIG", [0x00050029] = "SBCP_INFO", [0x00050030] = "HYPERVISOR_BOOT_DMA_PROTECTION",
        [0x00060001] = "NOAUTHORITY", [0x00060002] = "AUTHORITYPUBKEY",
        [FilePath] = "FILEPATH", [ImageSize] = "IMAGESIZE", [HashAlgorithmId] = "HASHALGORITHMID", [AuthenticodeHash] = "AUTHENTICODEHASH",
        [AuthorityIssuer] = "AUTHORITYISSUER", [AuthoritySerial] = "AUTHORITYSERIAL", [ImageBase] = "IMAGEBASE", [AuthorityPublisher] = "AUTHORITYPUBLISHER",
        [AuthoritySha1Thumbprint] = "AUTHORITYSHA1THUMBPRINT", [ImageValidated] = "IMAGEVALIDATED", [0x0007000B] = "MODULE_SVN",
        [ElamKeyName] = "ELAM_KEYNAME", [0x00090002] = "ELAM_CONFIGURATION", [0x00090003] = "ELAM_POLICY", [ElamMeasured] = "ELAM_MEASURED",
        [VbsVsmRequired] = "VBS_VSM_REQUIRED", [VbsSecureBootRequired] = "VBS_SECUREBOOT_REQUIRED", [VbsIommuRequired] = "VBS_IOMMU_REQUIRED",
        [0x000A0004] = "VBS_MMIO_NX_REQUIRED", [0x000A0005] = "VBS_MSR_FILTERING_REQUIRED", [0x000A0006] = "VBS_MANDATORY_ENFORCEMENT",
        [VbsHvciPolicy] = "VBS_HVCI_POLICY", [VbsMicrosoftBootChainRequired] = "VBS_MICROSOFT_BOOT_CHAIN_REQUIRED",
        [0x000A0009] = "VBS_DUMP_USES_AMEROOT", [0x000A000A] = "VBS_VSM_NOSECRETS_ENFORCED", [0x000B0001] = "KSR_SIGNATURE",
        [0x80080001] = "QUOTE", [0x80080002] = "QUOTESIGNATURE", [0x80080003] = "AIKID", [0x80080004] = "AIKPUBDIGEST",
    };

    public static string Name(uint type) => Names.TryGetValue(type, out string? name) ? name : $"SIPA_0x{type:X8}";

    /// <summary>Types whose payload is a UTF-16 string.</summary>
    public static bool IsText(uint type) => type is FilePath or AuthorityIssuer or AuthorityPublisher or ElamKeyName or 0x00050009 or 0x0005000B;
}
