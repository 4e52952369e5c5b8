namespace TrustedLaunch.Tpm.Protocol;

/// <summary><c>TPMS_CLOCK_INFO</c> (TPM 2.0 Library Part 2 §10.11.1).</summary>
public readonly record struct TpmsClockInfo(ulong Clock, uint ResetCount, uint RestartCount, bool Safe)
{
    public const int Size = 17;

    public void Write(TpmWriter writer)
    {
        writer.WriteUInt64(Clock);
        writer.WriteUInt32(ResetCount);
        writer.WriteUInt32(RestartCount);
        writer.WriteYesNo(Safe);
    }

    public static TpmsClockInfo Read(ref TpmReader reader) =>
        new(reader.ReadUInt64(), reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadYesNo());
}

/// <summary><c>TPMS_TIME_INFO</c> (Part 2 §10.11.6): time since the last TPM_Init plus the clock.</summary>
public readonly record struct TpmsTimeInfo(ulong Time, TpmsClockInfo ClockInfo)
{
    public void Write(TpmWriter writer)
    {
        writer.WriteUInt64(Time);
        ClockInfo.Write(writer);
    }

    public static TpmsTimeInfo Read(ref TpmReader reader) => new(reader.ReadUInt64(), TpmsClockInfo.Read(ref reader));
}
