using System.Globalization;

namespace TrustedLaunch.Tpm.Protocol;

/// <summary>
/// A <c>TPM_RC</c> response code decoded per TPM 2.0 Library Part 2 §6.6: format-zero codes (errors, warnings,
/// vendor and TPM 1.2 codes) and format-one codes that name the parameter, handle or session at fault.
/// </summary>
public readonly record struct TpmRc(uint Value)
{
    public const uint Success = 0;

    // Part 2 §6.6.3: RC_VER1 = 0x100, RC_FMT1 = 0x080, RC_WARN = 0x900.
    private const uint Ver1 = 0x100;
    private const uint Fmt1 = 0x080;
    private const uint Warn = 0x900;

    public static readonly TpmRc Initialize = new(Ver1 + 0x000);
    public static readonly TpmRc Failure = new(Ver1 + 0x001);
    public static readonly TpmRc NvDefined = new(Ver1 + 0x04C);
    public static readonly TpmRc Handle = new(Fmt1 + 0x00B);
    public static readonly TpmRc Retry = new(Warn + 0x022);
    public static readonly TpmRc Yielded = new(Warn + 0x008);
    public static readonly TpmRc Testing = new(Warn + 0x00A);

    public bool IsSuccess => Value == Success;

    /// <summary>Bits 23:16 name the TSS layer that produced a code; 0 means the TPM itself.</summary>
    public byte Layer => (byte)(Value >> 16);

    /// <summary>Format one (bit 7 set): the code carries a parameter, handle or session number.</summary>
    public bool IsFormatOne => Layer == 0 && (Value & Fmt1) != 0;

    /// <summary>Format zero with bit 8 clear is a TPM 1.2 code (swtpm's control channel uses these).</summary>
    public bool IsTpm12 => Layer == 0 && !IsFormatOne && (Value & Ver1) == 0 && Value != 0;

    /// <summary>Format zero, bit 10 (T): defined by the TPM vendor, not the TCG.</summary>
    public bool IsVendor => Layer == 0 && !IsFormatOne && (Value & 0x400) != 0;

    /// <summary>Format zero, bit 11 (S): a warning — the command may succeed if retried.</summary>
    public bool IsWarning => Layer == 0 && !IsFormatOne && (Value & 0x800) != 0 && (Value & Ver1) != 0;

    /// <summary>The code without its parameter/handle/session number (format one) or layer.</summary>
    public uint BaseCode => IsFormatOne ? (Value & 0x3F) | Fmt1 : Value & 0xFFF;

    /// <summary>Format one, P bit set: the 1-based parameter number at fault, else 0.</summary>
    public int ParameterNumber => IsFormatOne && (Value & 0x40) != 0 ? (int)((Value >> 8) & 0xF) : 0;

    /// <summary>Format one, P clear and N ≤ 7: the 1-based handle number at fault, else 0.</summary>
    public int HandleNumber => IsFormatOne && (Value & 0x40) == 0 && (Value & 0x800) == 0 ? (int)((Value >> 8) & 0x7) : 0;

    /// <summary>Format one, P clear and N ≥ 8: the 1-based session number at fault, else 0.</summary>
    public int SessionNumber => IsFormatOne && (Value & 0x40) == 0 && (Value & 0x800) != 0 ? (int)((Value >> 8) & 0x7) : 0;

    /// <summary>The TCG name, e.g. <c>TPM_RC_AUTH_FAIL</c>; <c>TPM_RC_0x…</c> for codes the spec does not define.</summary>
    public string Name => Value == Success ? "TPM_RC_SUCCESS" : TpmRcNames.Lookup(this);

    /// <summary>A human-readable rendering: name, what it is about, and the raw value.</summary>
    public string Describe()
    {
        string where = ParameterNumber > 0 ? $" (parameter {ParameterNumber})"
            : HandleNumber > 0 ? $" (handle {HandleNumber})"
            : SessionNumber > 0 ? $" (session {SessionNumber})"
            : "";
        return string.Create(CultureInfo.InvariantCulture, $"{Name}{where} [0x{Value:X3}]");
    }

    public override string ToString() => Describe();
}
