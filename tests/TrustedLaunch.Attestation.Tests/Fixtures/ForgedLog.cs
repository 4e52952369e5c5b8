using System.Buffers.Binary;
using System.Text;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Attestation.Tests.Fixtures;

/// <summary>
/// A crypto-agile TCG log (PFP §10.2.2) as a list of records an attacker can edit: relabel an event's type, move it,
/// replace data no digest covers, or append a measurement (what a guest root's TPM2_PCR_Extend after boot adds).
/// Each edit returns a new log; <see cref="ToBytes"/> writes it back with the original Spec ID header.
/// </summary>
public sealed class ForgedLog
{
    private readonly byte[] _header;
    private readonly TpmAlgId[] _banks;
    private readonly Record[] _records;

    private ForgedLog(byte[] header, TpmAlgId[] banks, Record[] records)
    {
        _header = header;
        _banks = banks;
        _records = records;
    }

    /// <summary>One TCG_PCR_EVENT2: what is extended (the digests) and what is only logged (PCR index, type, data).</summary>
    public sealed record Record(uint Pcr, TcgEventType Type, IReadOnlyList<(TpmAlgId Bank, byte[] Digest)> Digests, byte[] Data)
    {
        public string Text => Encoding.ASCII.GetString(Data).TrimEnd('\0');
    }

    public IReadOnlyList<Record> Records => _records;

    public static ForgedLog Parse(byte[] log)
    {
        TcgEventLog parsed = TcgEventLog.Parse(log);
        TcgEvent header = parsed.Events[0];
        var records = parsed.Events.Skip(1).Select(e => new Record(e.PcrIndex, e.Type,
            e.Digests.Select(d => (d.Algorithm, d.Value.ToArray())).ToArray(), e.Data.ToArray())).ToArray();
        return new ForgedLog(log.AsSpan(header.Offset, header.Size).ToArray(), parsed.Algorithms.Select(a => a.Algorithm).ToArray(), records);
    }

    /// <summary>The position of the first record matching <paramref name="predicate"/> (its event index is this + 1).</summary>
    public int Find(Func<Record, bool> predicate) => Array.FindIndex(_records, r => predicate(r)) is int i and >= 0
        ? i
        : throw new InvalidOperationException("no such record in the log");

    /// <summary>The event index (as the verifier reports it) of record <paramref name="position"/>.</summary>
    public static int EventIndex(int position) => position + 1;

    public ForgedLog Relabel(int position, TcgEventType type) => With(position, _records[position] with { Type = type });

    /// <summary>Replaces the data and keeps the digests: an edit of something no digest covers (or a forgery that fails).</summary>
    public ForgedLog WithData(int position, byte[] data) => With(position, _records[position] with { Data = data });

    /// <summary>Replaces a record with a genuine measurement of <paramref name="measured"/> logged as <paramref name="data"/>.</summary>
    public ForgedLog Remeasure(int position, byte[] measured, byte[] data) =>
        With(position, _records[position] with { Digests = Digest(measured), Data = data });

    /// <summary>Moves a record to <paramref name="to"/> (the position it has afterwards).</summary>
    public ForgedLog Move(int from, int to)
    {
        var list = _records.ToList();
        Record moved = list[from];
        list.RemoveAt(from);
        list.Insert(to, moved);
        return new ForgedLog(_header, _banks, list.ToArray());
    }

    /// <summary>Inserts a measurement at <paramref name="position"/>: digests of <paramref name="measured"/> in every bank.</summary>
    public ForgedLog Insert(int position, uint pcr, TcgEventType type, byte[] measured, byte[] data)
    {
        var list = _records.ToList();
        list.Insert(position, new Record(pcr, type, Digest(measured), data));
        return new ForgedLog(_header, _banks, list.ToArray());
    }

    /// <summary>Appends a measurement (an extend after boot, as a guest root can make).</summary>
    public ForgedLog Append(uint pcr, TcgEventType type, byte[] measured, byte[] data) => Insert(_records.Length, pcr, type, measured, data);

    /// <summary>Drops every record of <paramref name="pcr"/>.</summary>
    public ForgedLog Without(uint pcr) => new(_header, _banks, _records.Where(r => r.Pcr != pcr).ToArray());

    public byte[] ToBytes()
    {
        var output = new MemoryStream();
        output.Write(_header);
        Span<byte> word = stackalloc byte[4];
        foreach (Record r in _records)
        {
            Write(output, word, r.Pcr);
            Write(output, word, (uint)r.Type);
            Write(output, word, (uint)r.Digests.Count);
            foreach ((TpmAlgId bank, byte[] digest) in r.Digests)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(word, (ushort)bank);
                output.Write(word[..2]);
                output.Write(digest);
            }

            Write(output, word, (uint)r.Data.Length);
            output.Write(r.Data);
        }

        return output.ToArray();
    }

    /// <summary>GRUB's measurement of a PCR 8 string: the digest covers the text after the prefix (grub tpm.c).</summary>
    public static (byte[] Measured, byte[] Data) Grub(string prefix, string text) =>
        (Encoding.ASCII.GetBytes(text), Encoding.ASCII.GetBytes(prefix + text + "\0"));

    private (TpmAlgId, byte[])[] Digest(byte[] measured) => _banks.Select(b =>
    {
        byte[] digest = new byte[TpmHashAlgorithm.DigestSize(b)];
        TpmHashAlgorithm.Hash(b, measured, digest);
        return (b, digest);
    }).ToArray();

    private ForgedLog With(int position, Record record)
    {
        Record[] copy = (Record[])_records.Clone();
        copy[position] = record;
        return new ForgedLog(_header, _banks, copy);
    }

    private static void Write(Stream output, Span<byte> word, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(word, value);
        output.Write(word);
    }
}
