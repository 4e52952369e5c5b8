using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Transport;

/// <summary>
/// A typed TPM 2.0 client over any <see cref="ITpmTransport"/>: one method per command (TPM 2.0 Library Part 3),
/// typed results, and <see cref="TpmResponseException"/> carrying the decoded <see cref="TpmRc"/> on failure.
/// Not thread-safe: a TPM executes one command at a time, and so does a client.
/// </summary>
public sealed partial class TpmClient : IDisposable
{
    private readonly ITpmTransport _transport;
    private readonly bool _ownsTransport;

    public TpmClient(ITpmTransport transport, bool ownsTransport = true)
    {
        _transport = transport ?? throw new ArgumentNullException(nameof(transport));
        _ownsTransport = ownsTransport;
    }

    /// <summary>How often a command answered with TPM_RC_RETRY, TPM_RC_YIELDED or TPM_RC_TESTING is re-sent.</summary>
    public int MaxRetries { get; init; } = 8;

    public ITpmTransport Transport => _transport;

    /// <summary>Sends a built command, retrying warnings that ask for it, and decodes the response.</summary>
    public TpmResponse Execute(TpmCommandBuilder command, int responseHandles = 0)
    {
        ArgumentNullException.ThrowIfNull(command);
        byte[] bytes = command.Build();
        for (int attempt = 0; ; attempt++)
        {
            byte[] response = _transport.Execute(bytes);
            try
            {
                return TpmResponse.Decode(response, command.Code, responseHandles, command.HasSessions);
            }
            catch (TpmResponseException e) when (attempt < MaxRetries && IsRetryable(e.ResponseCode))
            {
                // libtpms answers TPM_RC_RETRY once after Startup when NV must be written first (vtpm.md §1.3).
                Thread.Sleep(Math.Min(50, 1 << attempt));
            }
        }
    }

    private static bool IsRetryable(TpmRc rc) => rc == TpmRc.Retry || rc == TpmRc.Yielded || rc == TpmRc.Testing;

    /// <summary>TPM2_Startup (Part 3 §9.3).</summary>
    public void Startup(TpmSu type = TpmSu.Clear)
    {
        var c = new TpmCommandBuilder(TpmCc.Startup);
        c.Parameters.WriteUInt16((ushort)type);
        Execute(c);
    }

    /// <summary>TPM2_Shutdown (Part 3 §9.4).</summary>
    public void Shutdown(TpmSu type = TpmSu.Clear)
    {
        var c = new TpmCommandBuilder(TpmCc.Shutdown);
        c.Parameters.WriteUInt16((ushort)type);
        Execute(c);
    }

    /// <summary>TPM2_SelfTest (Part 3 §10.2).</summary>
    public void SelfTest(bool fullTest = true)
    {
        var c = new TpmCommandBuilder(TpmCc.SelfTest);
        c.Parameters.WriteYesNo(fullTest);
        Execute(c);
    }

    /// <summary>TPM2_GetTestResult (Part 3 §10.4): vendor data and the self-test verdict.</summary>
    public (byte[] OutData, TpmRc TestResult) GetTestResult()
    {
        var r = Execute(new TpmCommandBuilder(TpmCc.GetTestResult)).ParameterReader();
        return (r.ReadSized().ToArray(), new TpmRc(r.ReadUInt32()));
    }

    /// <summary>TPM2_GetRandom (Part 3 §16.1); the TPM may return fewer bytes than asked (at most its largest digest).</summary>
    public byte[] GetRandom(ushort bytesRequested)
    {
        var c = new TpmCommandBuilder(TpmCc.GetRandom);
        c.Parameters.WriteUInt16(bytesRequested);
        var r = Execute(c).ParameterReader();
        return r.ReadSized().ToArray();
    }

    /// <summary>TPM2_ReadClock (Part 3 §29.1).</summary>
    public TpmsTimeInfo ReadClock()
    {
        var r = Execute(new TpmCommandBuilder(TpmCc.ReadClock)).ParameterReader();
        return TpmsTimeInfo.Read(ref r);
    }

    /// <summary>TPM2_GetCapability (Part 3 §30.2).</summary>
    public CapabilityResult GetCapability(TpmCap capability, uint property, uint propertyCount)
    {
        var c = new TpmCommandBuilder(TpmCc.GetCapability);
        c.Parameters.WriteUInt32((uint)capability);
        c.Parameters.WriteUInt32(property);
        c.Parameters.WriteUInt32(propertyCount);
        var r = Execute(c).ParameterReader();
        bool more = r.ReadYesNo();
        return new CapabilityResult(more, TpmsCapabilityData.Read(ref r));
    }

    /// <summary>The active PCR banks and their allocated PCRs (TPM_CAP_PCRS).</summary>
    public TpmlPcrSelection GetPcrBanks() => GetCapability(TpmCap.Pcrs, 0, 1).Data.Pcrs;

    /// <summary>Every TPM property from <paramref name="first"/> on, following moreData.</summary>
    public IReadOnlyDictionary<uint, uint> GetTpmProperties(uint first = TpmPt.Fixed)
    {
        var result = new SortedDictionary<uint, uint>();
        uint next = first;
        while (true)
        {
            var page = GetCapability(TpmCap.TpmProperties, next, 64);
            foreach (var (p, v) in page.Data.Properties)
                result[p] = v;
            if (!page.MoreData || page.Data.Properties.Count == 0)
                return result;
            next = page.Data.Properties[^1].Property + 1;
        }
    }

    /// <summary>Every handle of the type in <paramref name="first"/>'s top octet, from <paramref name="first"/> on.</summary>
    public IReadOnlyList<uint> GetHandles(uint first)
    {
        var result = new List<uint>();
        uint next = first;
        while (true)
        {
            var page = GetCapability(TpmCap.Handles, next, 64);
            result.AddRange(page.Data.Handles);
            if (!page.MoreData || page.Data.Handles.Count == 0)
                return result;
            next = page.Data.Handles[^1] + 1;
        }
    }

    /// <summary>TPM2_HierarchyChangeAuth (Part 3 §24.8).</summary>
    public void HierarchyChangeAuth(uint hierarchy, ReadOnlySpan<byte> newAuth, TpmAuthorization? currentAuth = null)
    {
        var c = new TpmCommandBuilder(TpmCc.HierarchyChangeAuth).Handle(hierarchy, currentAuth ?? TpmAuthorization.EmptyPassword);
        c.Parameters.WriteSized(newAuth);
        Execute(c);
    }

    /// <summary>TPM2_Clear (Part 3 §24.6) with lockout or platform authorization.</summary>
    public void Clear(uint authHandle = TpmHandles.Lockout, TpmAuthorization? auth = null)
    {
        Execute(new TpmCommandBuilder(TpmCc.Clear).Handle(authHandle, auth ?? TpmAuthorization.EmptyPassword));
    }

    public void Dispose()
    {
        if (_ownsTransport)
            _transport.Dispose();
    }
}
