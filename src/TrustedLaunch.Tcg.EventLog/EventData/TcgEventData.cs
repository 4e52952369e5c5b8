using System.Globalization;
using System.Text;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>
/// Decoded event data (see <see cref="TcgEventDataDecoder"/>). The decoding follows the untrusted event type;
/// only events that replayed (and whose digest matches their data where the spec defines it) may be believed.
/// </summary>
public abstract record TcgEventData
{
    /// <summary>One-line human description.</summary>
    public abstract string Describe();

    internal static string Printable(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (c == '\n')
                sb.Append("\\n");
            else if (c == '\t')
                sb.Append("\\t");
            else if (char.IsControl(c))
                sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}");
            else
                sb.Append(c);
        }

        return sb.ToString();
    }
}

/// <summary>Data of an event type this library does not interpret (kept as bytes, never an error).</summary>
public sealed record RawEventData(ReadOnlyMemory<byte> Bytes) : TcgEventData
{
    public override string Describe() => Bytes.Length == 0 ? "(no data)" :
        Bytes.Length <= 32 ? Convert.ToHexString(Bytes.Span) : $"{Convert.ToHexString(Bytes.Span[..32])}… ({Bytes.Length} bytes)";
}

/// <summary>How a text event was encoded.</summary>
public enum EventTextEncoding
{
    Ascii,
    Utf16,
}

/// <summary>EV_EFI_ACTION, EV_ACTION, EV_S_CRTM_VERSION, EV_POST_CODE descriptions and other plain strings (PFP §10.4.1).</summary>
public sealed record TextEventData(string Text, EventTextEncoding Encoding) : TcgEventData
{
    public override string Describe() => $"\"{Printable(Text)}\"";
}

/// <summary>EV_S_CRTM_VERSION that holds a GUID instead of a string (some physical platforms).</summary>
public sealed record GuidEventData(Guid Value) : TcgEventData
{
    public override string Describe() => Value.ToString("D");
}

/// <summary>EV_SEPARATOR (PFP §10.4.1): 0x00000000 normally, 0xFFFFFFFF (or 1 for TPM 1.2 logs) when firmware hit an error.</summary>
public sealed record SeparatorEventData(uint Value, string? Text) : TcgEventData
{
    /// <summary>An error separator: firmware measured 0xFFFFFFFF (or 1) to say the pre-OS state is not trustworthy.</summary>
    public bool IsError => Text is null && Value != 0;

    public override string Describe() => Text is not null ? $"\"{Text}\"" : IsError ? $"error separator 0x{Value:X8}" : "0x00000000";
}

/// <summary>The Spec ID Event03 header of an agile log.</summary>
public sealed record SpecIdEventData(TcgSpecIdEvent SpecId) : TcgEventData
{
    public override string Describe() =>
        $"Spec ID Event03, PFP {SpecId.SpecVersionMajor}.{SpecId.SpecVersionMinor} errata {SpecId.SpecErrata}, banks " +
        string.Join(",", SpecId.Algorithms.Select(a => Tpm.Protocol.TpmHashAlgorithm.BankName(a.Algorithm) ?? $"0x{(ushort)a.Algorithm:X4}"));
}

/// <summary>StartupLocality (PFP §10.4.5.3): PCR0 starts at 0…0‖locality.</summary>
public sealed record StartupLocalityEventData(byte Locality) : TcgEventData
{
    public override string Describe() => $"StartupLocality {Locality}";
}

/// <summary>Another EV_NO_ACTION with a signature (e.g. "SP800-155 Event3", "NvIndexInstance"): not extended.</summary>
public sealed record NoActionEventData(string Signature, ReadOnlyMemory<byte> Body) : TcgEventData
{
    public override string Describe() => $"\"{Printable(Signature)}\" ({Body.Length} bytes)";
}

/// <summary>
/// SP 800-155 reference-manifest event (PFP 1.06 §10.4.5.6, "SP800-155 Event3"): platform manufacturer, reference
/// manifest GUID and locators. Not extended; identifies which firmware reference measurements apply.
/// </summary>
public sealed record Sp800155EventData(string Signature, uint PlatformManufacturerId, Guid ReferenceManifestGuid, string PlatformManufacturerStr,
    string PlatformModel, string PlatformVersion, string FirmwareManufacturerStr, uint FirmwareManufacturerId, string FirmwareVersion) : TcgEventData
{
    public override string Describe() =>
        $"{Signature}: {Printable(PlatformManufacturerStr)} {Printable(PlatformModel)} {Printable(PlatformVersion)}, firmware {Printable(FirmwareManufacturerStr)} {Printable(FirmwareVersion)}, RIM {ReferenceManifestGuid}";
}

/// <summary>UEFI_PLATFORM_FIRMWARE_BLOB / BLOB2 (PFP §10.4.2): where a firmware volume lay in memory.</summary>
public sealed record FirmwareBlobEventData(string? Description, ulong Base, ulong Length) : TcgEventData
{
    public override string Describe() =>
        (Description is null ? "" : $"{Printable(Description)} ") + $"base 0x{Base:X} length 0x{Length:X}";
}

/// <summary>UEFI_HANDOFF_TABLE_POINTERS / POINTERS2 (PFP §10.4.2): configuration tables (SMBIOS, ACPI) handed to the OS.</summary>
public sealed record HandoffTablesEventData(string? Description, IReadOnlyList<HandoffTable> Tables) : TcgEventData
{
    public override string Describe() =>
        (Description is null ? "" : $"{Printable(Description)}: ") + string.Join(", ", Tables.Select(t => $"{t.VendorGuid} @0x{t.Address:X}"));
}

/// <summary>One EFI_CONFIGURATION_TABLE entry.</summary>
public readonly record struct HandoffTable(Guid VendorGuid, ulong Address);
