namespace TrustedLaunch.Tpm.Protocol;

/// <summary>
/// Assembles one TPM 2.0 command (Part 1 §18.2, Part 3 §5): header (tag, commandSize, commandCode), handle area,
/// authorization area when any handle needs authorization, then the parameter area written by the caller.
/// </summary>
public sealed class TpmCommandBuilder
{
    private readonly TpmCc _code;
    private readonly List<uint> _handles = new(3);
    private readonly List<TpmAuthorization> _authorizations = new(2);

    public TpmCommandBuilder(TpmCc code) => _code = code;

    public TpmCc Code => _code;

    /// <summary>The parameter area; write parameters in the order Part 3 lists them.</summary>
    public TpmWriter Parameters { get; } = new(128);

    public TpmCommandBuilder Handle(uint handle)
    {
        _handles.Add(handle);
        return this;
    }

    /// <summary>A handle that requires authorization, with the session that authorizes it (same order as the handles).</summary>
    public TpmCommandBuilder Handle(uint handle, TpmAuthorization authorization)
    {
        _handles.Add(handle);
        _authorizations.Add(authorization);
        return this;
    }

    public bool HasSessions => _authorizations.Count > 0;

    public byte[] Build()
    {
        var w = new TpmWriter(32 + Parameters.Length + (_authorizations.Count * 16));
        w.WriteUInt16((ushort)(HasSessions ? TpmSt.Sessions : TpmSt.NoSessions));
        w.WriteUInt32(0); // commandSize, patched below
        w.WriteUInt32((uint)_code);
        foreach (uint h in _handles)
            w.WriteUInt32(h);
        if (HasSessions)
        {
            int sizeAt = w.Length;
            w.WriteUInt32(0); // authorizationSize (Part 1 §18.7), patched below
            foreach (var a in _authorizations)
                a.Write(w);
            w.PatchUInt32(sizeAt, (uint)(w.Length - sizeAt - 4));
        }

        w.WriteBytes(Parameters.WrittenSpan);
        w.PatchUInt32(2, (uint)w.Length);
        return w.ToArray();
    }
}

/// <summary>
/// A decoded TPM 2.0 response (Part 1 §18.8): the handle area and the parameter area, with the authorization area
/// split off using parameterSize when the command carried sessions.
/// </summary>
public readonly struct TpmResponse
{
    public const int HeaderSize = 10;

    private readonly byte[] _bytes;
    private readonly int _parametersStart;
    private readonly int _parametersLength;

    private TpmResponse(byte[] bytes, uint[] handles, int parametersStart, int parametersLength)
    {
        _bytes = bytes;
        Handles = handles;
        _parametersStart = parametersStart;
        _parametersLength = parametersLength;
    }

    public IReadOnlyList<uint> Handles { get; }

    public ReadOnlySpan<byte> Parameters => _bytes.AsSpan(_parametersStart, _parametersLength);

    /// <summary>A reader positioned at the first response parameter.</summary>
    public TpmReader ParameterReader() => new(Parameters);

    /// <summary>Reads only the header: tag, responseSize, responseCode.</summary>
    public static (TpmSt Tag, uint Size, TpmRc Code) ReadHeader(ReadOnlySpan<byte> response)
    {
        var r = new TpmReader(response);
        return ((TpmSt)r.ReadUInt16(), r.ReadUInt32(), new TpmRc(r.ReadUInt32()));
    }

    /// <summary>
    /// Decodes <paramref name="response"/> to <paramref name="command"/>; throws <see cref="TpmResponseException"/>
    /// for a non-success code and <see cref="TpmFormatException"/> when the framing is inconsistent.
    /// </summary>
    public static TpmResponse Decode(byte[] response, TpmCc command, int handleCount, bool withSessions)
    {
        var r = new TpmReader(response);
        var tag = (TpmSt)r.ReadUInt16();
        uint size = r.ReadUInt32();
        var rc = new TpmRc(r.ReadUInt32());
        if (size != response.Length)
            throw TpmReader.Malformed($"Response size field {size} does not match the {response.Length} bytes received.", 2);
        if (!rc.IsSuccess)
        {
            if (tag != TpmSt.NoSessions && tag != TpmSt.RspCommand)
                throw TpmReader.Malformed($"Error response carries tag 0x{(ushort)tag:X4}; Part 1 §18.4 requires TPM_ST_NO_SESSIONS.", 0);
            throw new TpmResponseException(rc, command);
        }

        TpmSt expected = withSessions ? TpmSt.Sessions : TpmSt.NoSessions;
        if (tag != expected)
            throw TpmReader.Malformed($"Response tag 0x{(ushort)tag:X4}, expected 0x{(ushort)expected:X4}.", 0);
        var handles = new uint[handleCount];
        for (int i = 0; i < handleCount; i++)
            handles[i] = r.ReadUInt32();
        if (!withSessions)
            return new TpmResponse(response, handles, r.Position, r.Remaining);

        int sizeAt = r.Position;
        uint parameterSize = r.ReadUInt32(); // Part 1 §18.8: parameterSize precedes parameters when tag is TPM_ST_SESSIONS
        if (parameterSize > (uint)r.Remaining)
            throw TpmReader.Malformed($"parameterSize {parameterSize} exceeds the {r.Remaining} bytes left.", sizeAt);
        int start = r.Position;
        r.ReadBytes((int)parameterSize);
        // The authorization area follows: one TPMS_AUTH_RESPONSE (nonceTPM, sessionAttributes, hmac) per session.
        while (!r.IsEmpty)
        {
            r.ReadSized();
            r.ReadByte();
            r.ReadSized();
        }

        return new TpmResponse(response, handles, start, (int)parameterSize);
    }
}
