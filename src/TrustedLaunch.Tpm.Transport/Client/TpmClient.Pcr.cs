using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Transport;

public sealed partial class TpmClient
{
    /// <summary>TPM2_PCR_Read (Part 3 §22.4): one call; the TPM returns at most 8 digests.</summary>
    public PcrReadResult PcrRead(TpmlPcrSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        var c = new TpmCommandBuilder(TpmCc.PCR_Read);
        selection.Write(c.Parameters);
        var r = Execute(c).ParameterReader();
        uint counter = r.ReadUInt32();
        var selected = TpmlPcrSelection.Read(ref r);
        var digests = TpmlDigest.Read(ref r);
        if (digests.Count != selected.PcrCount)
            throw TpmReader.Malformed($"PCR_Read returned {digests.Count} digests for {selected.PcrCount} selected PCRs.", r.Position);
        return new PcrReadResult(counter, selected, digests);
    }

    /// <summary>Reads every PCR in <paramref name="selection"/>, issuing as many PCR_Read calls as needed.</summary>
    public IReadOnlyDictionary<(TpmAlgId Hash, int Index), byte[]> ReadPcrs(TpmlPcrSelection selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        var values = new Dictionary<(TpmAlgId, int), byte[]>();
        var pending = selection.Pcrs().ToList();
        while (pending.Count > 0)
        {
            var ask = new TpmlPcrSelection(pending.GroupBy(p => p.Hash)
                .Select(g => new TpmsPcrSelection(g.Key, g.Select(p => p.Index).ToArray())).ToArray());
            var got = PcrRead(ask);
            var pcrs = got.Selection.Pcrs().ToList();
            if (pcrs.Count == 0)
                throw new TpmResponseException($"PCR_Read returned nothing for {ask}; the bank may not be allocated.");
            for (int i = 0; i < pcrs.Count; i++)
                values[pcrs[i]] = got.Digests[i];
            pending.RemoveAll(values.ContainsKey);
        }

        return values;
    }

    /// <summary>TPM2_PCR_Extend (Part 3 §22.2) with one digest per bank (TPML_DIGEST_VALUES).</summary>
    public void PcrExtend(int pcr, IReadOnlyList<TpmtHa> digests, TpmAuthorization? auth = null)
    {
        ArgumentNullException.ThrowIfNull(digests);
        var c = new TpmCommandBuilder(TpmCc.PCR_Extend).Handle((uint)pcr, auth ?? TpmAuthorization.EmptyPassword);
        c.Parameters.WriteUInt32((uint)digests.Count);
        foreach (var d in digests)
            d.Write(c.Parameters);
        Execute(c);
    }

    /// <summary>TPM2_PCR_Reset (Part 3 §22.8); only resettable PCRs (16, 23 on a PC Client TPM) at locality 0.</summary>
    public void PcrReset(int pcr, TpmAuthorization? auth = null) =>
        Execute(new TpmCommandBuilder(TpmCc.PCR_Reset).Handle((uint)pcr, auth ?? TpmAuthorization.EmptyPassword));

    /// <summary>TPM2_PCR_Allocate (Part 3 §22.5) with platform authorization; effective after the next Startup.</summary>
    public PcrAllocateResult PcrAllocate(TpmlPcrSelection allocation, TpmAuthorization? platformAuth = null)
    {
        ArgumentNullException.ThrowIfNull(allocation);
        var c = new TpmCommandBuilder(TpmCc.PCR_Allocate).Handle(TpmHandles.Platform, platformAuth ?? TpmAuthorization.EmptyPassword);
        allocation.Write(c.Parameters);
        var r = Execute(c).ParameterReader();
        return new PcrAllocateResult(r.ReadYesNo(), r.ReadUInt32(), r.ReadUInt32(), r.ReadUInt32());
    }
}
