namespace TrustedLaunch.Tpm.Protocol;

/// <summary><c>TPMS_CAPABILITY_DATA</c> (TPM 2.0 Library Part 2 §10.10.2) with the list its selector implies.</summary>
public sealed record TpmsCapabilityData(TpmCap Capability)
{
    /// <summary>Upper bound on list lengths from hostile input (MAX_CAP_BUFFER 1024 / smallest element 2).</summary>
    private const int MaxListCount = 512;

    public IReadOnlyList<(TpmAlgId Alg, TpmaAlgorithm Attributes)> Algorithms { get; init; } = [];
    public IReadOnlyList<uint> Handles { get; init; } = [];
    /// <summary><c>TPMA_CC</c> values; the command index is the low 16 bits.</summary>
    public IReadOnlyList<uint> Commands { get; init; } = [];
    public TpmlPcrSelection Pcrs { get; init; } = TpmlPcrSelection.Empty;
    public IReadOnlyList<(uint Property, uint Value)> Properties { get; init; } = [];
    public IReadOnlyList<TpmEccCurve> EccCurves { get; init; } = [];

    public static TpmsCapabilityData Read(ref TpmReader reader)
    {
        int at = reader.Position;
        var cap = (TpmCap)reader.ReadUInt32();
        switch (cap)
        {
            case TpmCap.Algs:
            {
                int n = reader.ReadCount(MaxListCount, "TPML_ALG_PROPERTY");
                var list = new (TpmAlgId, TpmaAlgorithm)[n];
                for (int i = 0; i < n; i++)
                    list[i] = (reader.ReadAlgId(), (TpmaAlgorithm)reader.ReadUInt32());
                return new TpmsCapabilityData(cap) { Algorithms = list };
            }
            case TpmCap.Handles:
                return new TpmsCapabilityData(cap) { Handles = ReadUInt32List(ref reader, "TPML_HANDLE") };
            case TpmCap.Commands:
                return new TpmsCapabilityData(cap) { Commands = ReadUInt32List(ref reader, "TPML_CCA") };
            case TpmCap.PpCommands or TpmCap.AuditCommands:
                return new TpmsCapabilityData(cap) { Commands = ReadUInt32List(ref reader, "TPML_CC") };
            case TpmCap.Pcrs:
                return new TpmsCapabilityData(cap) { Pcrs = TpmlPcrSelection.Read(ref reader) };
            case TpmCap.TpmProperties:
            {
                int n = reader.ReadCount(MaxListCount, "TPML_TAGGED_TPM_PROPERTY");
                var list = new (uint, uint)[n];
                for (int i = 0; i < n; i++)
                    list[i] = (reader.ReadUInt32(), reader.ReadUInt32());
                return new TpmsCapabilityData(cap) { Properties = list };
            }
            case TpmCap.EccCurves:
            {
                int n = reader.ReadCount(MaxListCount, "TPML_ECC_CURVE");
                var list = new TpmEccCurve[n];
                for (int i = 0; i < n; i++)
                    list[i] = (TpmEccCurve)reader.ReadUInt16();
                return new TpmsCapabilityData(cap) { EccCurves = list };
            }
            default:
                throw TpmReader.Malformed($"Capability 0x{(uint)cap:X8} is not decoded by this library.", at);
        }
    }

    private static uint[] ReadUInt32List(ref TpmReader reader, string what)
    {
        int n = reader.ReadCount(MaxListCount, what);
        var list = new uint[n];
        for (int i = 0; i < n; i++)
            list[i] = reader.ReadUInt32();
        return list;
    }
}

/// <summary>Well-known <c>TPM_PT</c> property tags (Part 2 §6.13).</summary>
public static class TpmPt
{
    public const uint Fixed = 0x100;
    public const uint FamilyIndicator = Fixed + 0;
    public const uint Level = Fixed + 1;
    public const uint Revision = Fixed + 2;
    public const uint DayOfYear = Fixed + 3;
    public const uint Year = Fixed + 4;
    public const uint Manufacturer = Fixed + 5;
    public const uint VendorString1 = Fixed + 6;
    public const uint VendorString2 = Fixed + 7;
    public const uint VendorString3 = Fixed + 8;
    public const uint VendorString4 = Fixed + 9;
    public const uint VendorTpmType = Fixed + 10;
    public const uint FirmwareVersion1 = Fixed + 11;
    public const uint FirmwareVersion2 = Fixed + 12;
    public const uint InputBuffer = Fixed + 13;
    public const uint HrTransientMin = Fixed + 14;
    public const uint HrPersistentMin = Fixed + 15;
    public const uint HrLoadedMin = Fixed + 16;
    public const uint ActiveSessionsMax = Fixed + 17;
    public const uint PcrCount = Fixed + 18;
    public const uint PcrSelectMin = Fixed + 19;
    public const uint ContextGapMax = Fixed + 20;
    public const uint NvCountersMax = Fixed + 22;
    public const uint NvIndexMax = Fixed + 23;
    public const uint Memory = Fixed + 24;
    public const uint ClockUpdate = Fixed + 25;
    public const uint ContextHash = Fixed + 26;
    public const uint ContextSym = Fixed + 27;
    public const uint ContextSymSize = Fixed + 28;
    public const uint OrderlyCount = Fixed + 29;
    public const uint MaxCommandSize = Fixed + 30;
    public const uint MaxResponseSize = Fixed + 31;
    public const uint MaxDigest = Fixed + 32;
    public const uint MaxObjectContext = Fixed + 33;
    public const uint MaxSessionContext = Fixed + 34;
    public const uint PsFamilyIndicator = Fixed + 35;
    public const uint PsLevel = Fixed + 36;
    public const uint PsRevision = Fixed + 37;
    public const uint PsDayOfYear = Fixed + 38;
    public const uint PsYear = Fixed + 39;
    public const uint SplitMax = Fixed + 40;
    public const uint TotalCommands = Fixed + 41;
    public const uint LibraryCommands = Fixed + 42;
    public const uint VendorCommands = Fixed + 43;
    public const uint NvBufferMax = Fixed + 44;
    public const uint Modes = Fixed + 45;
    public const uint MaxCapBuffer = Fixed + 46;
    public const uint Var = 0x200;
    public const uint Permanent = Var + 0;
    public const uint StartupClear = Var + 1;
}
