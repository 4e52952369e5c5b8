using System.Buffers.Binary;
using System.Text;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Attestation.Tests.Fixtures;

/// <summary>Byte-level edits of a crypto-agile TCG log (TCG_PCR_EVENT2, PFP §10.2.2) for tampering tests.</summary>
public static class EventLogEditor
{
    /// <summary>Index of the first event matching <paramref name="predicate"/>.</summary>
    public static TcgEvent Find(byte[] log, Func<TcgEvent, bool> predicate) =>
        TcgEventLog.Parse(log).Events.First(predicate);

    /// <summary>Rewrites one event's EventType (not covered by any digest).</summary>
    public static byte[] WithEventType(byte[] log, int eventIndex, TcgEventType type)
    {
        byte[] copy = (byte[])log.Clone();
        TcgEvent ev = TcgEventLog.Parse(copy).Events[eventIndex];
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(ev.Offset + 4), (uint)type);
        return copy;
    }

    /// <summary>Flips one bit of the first digest of an event (the log then no longer replays to the TPM's PCRs).</summary>
    public static byte[] WithDigestBitFlipped(byte[] log, int eventIndex)
    {
        byte[] copy = (byte[])log.Clone();
        TcgEvent ev = TcgEventLog.Parse(copy).Events[eventIndex];
        copy[ev.Offset + 12 + 2] ^= 0x01; // PCRIndex, EventType, digest count, then TPMT_HA.hashAlg
        return copy;
    }

    /// <summary>Replaces an event's data with bytes of the same length and recomputes its digest in every bank.</summary>
    public static byte[] WithEventData(byte[] log, int eventIndex, ReadOnlySpan<byte> data)
    {
        byte[] copy = (byte[])log.Clone();
        TcgEvent ev = TcgEventLog.Parse(copy).Events[eventIndex];
        if (data.Length != ev.Data.Length)
            throw new ArgumentException("same length only", nameof(data));
        int dataOffset = ev.Offset + ev.Size - ev.Data.Length;
        data.CopyTo(copy.AsSpan(dataOffset));
        int at = ev.Offset + 12;
        foreach (TcgDigest digest in ev.Digests)
        {
            at += 2;
            TpmHashAlgorithm.Hash(digest.Algorithm, data, copy.AsSpan(at, digest.Value.Length));
            at += digest.Value.Length;
        }

        return copy;
    }

    /// <summary>
    /// The SecureBoot variable's EV_EFI_VARIABLE_DRIVER_CONFIG event (PCR 7) with VariableData set to 0 and digests
    /// recomputed: the PCR 7 measurement OVMF makes for a boot with Secure Boot off.
    /// </summary>
    public static byte[] WithSecureBootDisabled(byte[] log)
    {
        TcgEventLog parsed = TcgEventLog.Parse(log);
        byte[] name = Encoding.Unicode.GetBytes("SecureBoot");
        TcgEvent ev = parsed.Events.First(e => e.PcrIndex == 7 && e.Type == TcgEventType.EfiVariableDriverConfig && e.Data.Span.IndexOf(name) >= 0);
        byte[] data = ev.Data.ToArray();
        if (data[^1] != 1)
            throw new InvalidOperationException("the capture's SecureBoot variable is not 1");
        data[^1] = 0; // UEFI_VARIABLE_DATA: GUID, name length, data length, name, then the one data byte
        return WithEventData(log, ev.Index, data);
    }
}
