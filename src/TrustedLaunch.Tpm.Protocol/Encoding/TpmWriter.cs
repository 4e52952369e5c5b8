using System.Buffers.Binary;

namespace TrustedLaunch.Tpm.Protocol;

/// <summary>
/// Marshals TPM 2.0 structures big-endian into a growable buffer. Nested <c>TPM2B_*</c> whose size precedes
/// a structure (TPM2B_PUBLIC, TPM2B_SENSITIVE_CREATE, TPM2B_NV_PUBLIC) use <see cref="BeginSized"/>/<see cref="EndSized"/>.
/// </summary>
public sealed class TpmWriter
{
    private byte[] _buffer;
    private int _length;

    public TpmWriter(int initialCapacity = 256) => _buffer = new byte[Math.Max(16, initialCapacity)];

    /// <summary>Bytes written so far.</summary>
    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public byte[] ToArray() => WrittenSpan.ToArray();

    public void WriteByte(byte value) => Grow(1)[0] = value;

    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Grow(2), value);

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Grow(4), value);

    public void WriteUInt64(ulong value) => BinaryPrimitives.WriteUInt64BigEndian(Grow(8), value);

    public void WriteAlgId(TpmAlgId alg) => WriteUInt16((ushort)alg);

    public void WriteYesNo(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteBytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Grow(bytes.Length));

    /// <summary>Writes a <c>TPM2B_*</c>: UINT16 size then the bytes (Part 2 §10.4).</summary>
    public void WriteSized(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > ushort.MaxValue)
            throw new ArgumentException($"A TPM2B holds at most 65535 bytes, not {bytes.Length}.", nameof(bytes));
        WriteUInt16((ushort)bytes.Length);
        WriteBytes(bytes);
    }

    /// <summary>Reserves a UINT16 size field; returns the mark to pass to <see cref="EndSized"/>.</summary>
    public int BeginSized()
    {
        WriteUInt16(0);
        return _length;
    }

    /// <summary>Back-fills the size reserved by <see cref="BeginSized"/> with the bytes written since.</summary>
    public void EndSized(int mark)
    {
        int size = _length - mark;
        if (size > ushort.MaxValue)
            throw new InvalidOperationException($"A TPM2B holds at most 65535 bytes, not {size}.");
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(mark - 2), (ushort)size);
    }

    /// <summary>Overwrites a UINT32 at <paramref name="offset"/> (command size, authorization size).</summary>
    public void PatchUInt32(int offset, uint value) => BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(offset, 4), value);

    private Span<byte> Grow(int count)
    {
        if (_length + count > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        Span<byte> span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}
