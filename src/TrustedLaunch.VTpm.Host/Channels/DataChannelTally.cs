using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.VTpm.Host.Channels;

/// <summary>
/// What one data connection carried: TPM commands by command code, bytes each way, and the time spent executing them
/// (libtpms plus the durable state writes it asked for). Logged when the connection ends, so a boot's TPM traffic can be
/// set against the boot time (docs/benchmarks.md): the vTPM's own share is this time, the rest is the guest and QEMU.
/// </summary>
internal sealed class DataChannelTally
{
    private readonly SortedDictionary<uint, (int Count, TimeSpan Time)> _byCode = [];

    public int Commands { get; private set; }

    public long BytesIn { get; private set; }

    public long BytesOut { get; private set; }

    public TimeSpan ExecuteTime { get; private set; }

    /// <summary>Counts one command of <paramref name="command"/>'s code that took <paramref name="elapsed"/> to answer.</summary>
    public void Add(ReadOnlySpan<byte> command, int responseLength, TimeSpan elapsed)
    {
        uint code = command.Length >= 10 ? BinaryPrimitives.ReadUInt32BigEndian(command[6..]) : 0;
        Commands++;
        BytesIn += command.Length;
        BytesOut += responseLength;
        ExecuteTime += elapsed;
        (int count, TimeSpan time) = _byCode.GetValueOrDefault(code);
        _byCode[code] = (count + 1, time + elapsed);
    }

    /// <summary>One log line: the totals, the state writes and each command code with its count and time.</summary>
    public string Describe(int stateWrites, TimeSpan stateWriteTime)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"data channel: {Commands} commands, {BytesIn} bytes in, {BytesOut} bytes out, {Milliseconds(ExecuteTime)} ms executing; " +
            $"{stateWrites} state writes ({Milliseconds(stateWriteTime)} ms); by command:");
        foreach (var (code, (count, time)) in _byCode)
            text.Append(CultureInfo.InvariantCulture, $" {Name(code)}={count}/{Milliseconds(time)}ms");
        return text.ToString();
    }

    /// <summary>One command: its name, the PCR a PCR_Extend names, sizes, the response code and the time it took.</summary>
    public static string DescribeOne(ReadOnlySpan<byte> command, ReadOnlySpan<byte> response, TimeSpan elapsed)
    {
        uint code = command.Length >= 10 ? BinaryPrimitives.ReadUInt32BigEndian(command[6..]) : 0;
        uint rc = response.Length >= 10 ? BinaryPrimitives.ReadUInt32BigEndian(response[6..]) : 0;
        string pcr = code == (uint)TpmCc.PCR_Extend && command.Length >= 14
            ? string.Create(CultureInfo.InvariantCulture, $" PCR {BinaryPrimitives.ReadUInt32BigEndian(command[10..])}")
            : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{Name(code)}{pcr} ({command.Length} bytes) -> rc 0x{rc:X} ({response.Length} bytes) in {elapsed.TotalMilliseconds:0.000} ms");
    }

    private static string Name(uint code) =>
        Enum.IsDefined((TpmCc)code) ? ((TpmCc)code).ToString() : string.Create(CultureInfo.InvariantCulture, $"0x{code:X8}");

    private static string Milliseconds(TimeSpan time) => time.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture);
}
