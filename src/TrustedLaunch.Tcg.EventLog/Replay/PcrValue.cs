using System.Globalization;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>A PCR value read from a TPM (or published with a log): bank, index and digest.</summary>
public sealed record PcrValue(TpmAlgId Bank, int Index, ReadOnlyMemory<byte> Value)
{
    public string BankName => TpmHashAlgorithm.BankName(Bank) ?? $"0x{(ushort)Bank:X4}";

    public override string ToString() => $"{BankName}[{Index}] {Convert.ToHexString(Value.Span)}";

    /// <summary>
    /// Parses the text format of the corpus and of <c>tl eventlog replay --pcrs</c>: one <c>&lt;bank&gt; &lt;index&gt; &lt;hex&gt;</c>
    /// per line (bank as sysfs names it, e.g. <c>sha256</c>); blank lines and <c>#</c> comments are ignored.
    /// Throws <see cref="FormatException"/> naming the line when malformed.
    /// </summary>
    public static IReadOnlyList<PcrValue> ParseList(string text)
    {
        var values = new List<PcrValue>();
        var seen = new HashSet<(TpmAlgId, int)>();
        int lineNumber = 0;
        foreach (string raw in text.Split('\n'))
        {
            lineNumber++;
            string line = raw.Trim();
            int hash = line.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0)
                line = line[..hash].Trim();
            if (line.Length == 0)
                continue;

            string[] parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 3)
                throw new FormatException($"line {lineNumber}: expected '<bank> <index> <hex>', got '{line}'");
            if (!TpmHashAlgorithm.TryParseBankName(parts[0], out var bank))
                throw new FormatException($"line {lineNumber}: unknown bank '{parts[0]}'");
            if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index >= TcgEventLog.PcrCount)
                throw new FormatException($"line {lineNumber}: PCR index '{parts[1]}' is not 0..{TcgEventLog.PcrCount - 1}");
            byte[] value;
            try
            {
                value = Convert.FromHexString(parts[2].StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? parts[2][2..] : parts[2]);
            }
            catch (FormatException)
            {
                throw new FormatException($"line {lineNumber}: '{parts[2]}' is not hex");
            }

            int expected = TpmHashAlgorithm.DigestSize(bank);
            if (value.Length != expected)
                throw new FormatException($"line {lineNumber}: {parts[0]} PCR value has {value.Length} bytes, expected {expected}");
            if (!seen.Add((bank, index)))
                throw new FormatException($"line {lineNumber}: {parts[0]} PCR {index} is given twice");
            values.Add(new PcrValue(bank, index, value));
        }

        return values;
    }
}
