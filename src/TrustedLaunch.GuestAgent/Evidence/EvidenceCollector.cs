using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestAgent.KernelLog;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;

namespace TrustedLaunch.GuestAgent.Evidence;

/// <summary>
/// Assembles one <see cref="AttestationEvidence"/>: a single TPM2_Quote by the AK over the requested PCRs in every
/// active bank (one multi-bank TPML_PCR_SELECTION, TPM 2.0 Part 3 §18.4), the PCR values it covers, the AK public area
/// and certificate, the firmware and IMA logs, OS identity and the kernel findings so far.
/// </summary>
public sealed class EvidenceCollector(Func<ITpmTransport> openTpm, GuestSystem system, Func<IReadOnlyList<GuestFinding>> findings, TimeProvider time)
{
    /// <summary>Logs are capped below the evidence's own limit so a bundle always fits one frame.</summary>
    public const int MaxLogBytes = EvidenceJson.MaxLogBytes;

    private const int QuoteAttempts = 4;

    public uint AkHandle { get; init; } = TpmHandles.WellKnown.AzureAkPersistent;

    public uint AkCertificateIndex { get; init; } = TpmHandles.WellKnown.AzureAkCertificateNv;

    public string AgentVersion { get; init; } = AgentOptions.Version;

    /// <summary>
    /// Collects evidence for <paramref name="nonce"/>. With <paramref name="bindToken"/>, it also carries a key for a bound
    /// token (<see cref="PcrBoundKey"/> over the SHA-256 values of <paramref name="pcrs"/>), returned in
    /// <paramref name="boundKey"/> so the token can be opened later with the same TPM in the same state.
    /// </summary>
    public AttestationEvidence Collect(byte[] nonce, IReadOnlyList<int> pcrs, bool bindToken, out PcrBoundKey? boundKey)
    {
        ArgumentNullException.ThrowIfNull(nonce);
        ArgumentNullException.ThrowIfNull(pcrs);
        TpmEvidence tpmEvidence;
        using (var tpm = new TpmClient(openTpm()))
            (tpmEvidence, boundKey) = CollectTpm(tpm, nonce, pcrs, bindToken);
        return Assemble(nonce, tpmEvidence);
    }

    public AttestationEvidence Collect(byte[] nonce, IReadOnlyList<int> pcrs) => Collect(nonce, pcrs, bindToken: false, out _);

    private AttestationEvidence Assemble(byte[] nonce, TpmEvidence tpmEvidence)
    {
        var all = new List<GuestFinding>(findings());
        if (system.ReadTaint() is ulong mask and not 0)
            all.Add(new GuestFinding { Kind = GuestFinding.Kinds.Taint, Message = KernelTaint.Describe(mask), At = time.GetUtcNow() });
        return new AttestationEvidence
        {
            Version = AttestationEvidence.CurrentVersion,
            VmId = system.ReadVmId(),
            Nonce = nonce,
            Tpm = tpmEvidence,
            TcgLog = system.ReadBytes(GuestSystem.TcgLogPath, MaxLogBytes),
            ImaLog = system.ReadBytes(GuestSystem.ImaBinaryLogPath, MaxLogBytes),
            Os = system.ReadOsIdentity(),
            Findings = all,
            Agent = new AgentInfo { Version = AgentVersion, CollectedAt = time.GetUtcNow() },
        };
    }

    /// <summary>The requested PCRs in every bank the TPM has allocated (TPM_CAP_PCRS) and that evidence can name.</summary>
    public static TpmlPcrSelection SelectActiveBanks(TpmlPcrSelection allocated, IReadOnlyList<int> pcrs)
    {
        ArgumentNullException.ThrowIfNull(allocated);
        var selections = allocated.Selections
            .Where(bank => bank.Indices.Count > 0 && EvidenceJson.TryParseBank(TpmHashAlgorithm.BankName(bank.Hash) ?? "", out _))
            .Select(bank => new TpmsPcrSelection(bank.Hash, pcrs.Where(bank.Indices.Contains).Order().ToArray()))
            .Where(bank => bank.Indices.Count > 0)
            .ToArray();
        if (selections.Length == 0)
            throw new TpmResponseException($"The TPM has no active SHA-1/SHA-2 PCR bank covering PCRs {string.Join(',', pcrs)} (allocated: {allocated}).");
        return new TpmlPcrSelection(selections);
    }

    private (TpmEvidence Evidence, PcrBoundKey? Key) CollectTpm(TpmClient tpm, byte[] nonce, IReadOnlyList<int> pcrs, bool bindToken)
    {
        TpmlPcrSelection selection = SelectActiveBanks(tpm.GetPcrBanks(), pcrs);
        ReadPublicResult ak = tpm.ReadPublic(AkHandle);
        byte[] certificate = tpm.NvReadAll(AkCertificateIndex);
        IReadOnlyDictionary<(TpmAlgId Hash, int Index), byte[]> before = tpm.ReadPcrs(selection);
        for (int attempt = 1; ; attempt++)
        {
            // Made inside the loop: its policy holds the values of this attempt, which the equal reads below confirm.
            (PcrBoundKey Key, BoundKeyEvidence Evidence)? bound = bindToken ? MakeBoundKey(tpm, selection, nonce) : null;
            byte[] qualifyingData = bound is { } b ? b.Key.QuoteQualifyingData(tpm, nonce) : nonce;
            AttestationResult quote = tpm.Quote(AkHandle, qualifyingData, selection);
            IReadOnlyDictionary<(TpmAlgId Hash, int Index), byte[]> after = tpm.ReadPcrs(selection);
            // PCRs 0-23 only ever change by extension (16 and 23 can also be reset, and are not quoted by default), so
            // equal values before and after TPM2_Quote are the values it signed. Comparing them instead of recomputing the
            // quote's pcrDigest keeps hashing (OpenSSL, which a libc-only guest lacks) out of the agent.
            if (SameValues(before, after))
            {
                return (new TpmEvidence
                {
                    AkPublic = Tpm2bPublic(ak.PublicBytes),
                    AkCertificate = certificate,
                    Quote = quote.AttestBytes,
                    Signature = quote.SignatureBytes,
                    Pcrs = ToBanks(selection, after),
                    BoundKey = bound?.Evidence,
                }, bound?.Key);
            }

            if (attempt == QuoteAttempts)
                throw new TpmResponseException($"PCR values kept changing around TPM2_Quote ({QuoteAttempts} attempts).");
            before = after;
        }
    }

    private (PcrBoundKey Key, BoundKeyEvidence Evidence) MakeBoundKey(TpmClient tpm, TpmlPcrSelection quoted, byte[] nonce)
    {
        TpmsPcrSelection sha256 = quoted.Selections.FirstOrDefault(s => s.Hash == TpmAlgId.Sha256)
            ?? throw new TpmResponseException("A bound token needs the SHA-256 PCR bank, which this TPM has not allocated.");
        var policyPcrs = new TpmlPcrSelection([sha256]);
        PcrBoundKey key = PcrBoundKey.Create(tpm, policyPcrs, out uint handle);
        AttestationResult certify;
        try
        {
            certify = PcrBoundKey.Certify(tpm, handle, AkHandle, nonce);
        }
        finally
        {
            tpm.FlushContext(handle);
        }

        return (key, new BoundKeyEvidence
        {
            Public = Tpm2bPublic(key.PublicBytes),
            CertifyInfo = certify.AttestBytes,
            Signature = certify.SignatureBytes,
            PolicyBank = TpmHashAlgorithm.BankName(TpmAlgId.Sha256)!,
            PolicyPcrs = [.. sha256.Indices],
        });
    }

    private static bool SameValues(IReadOnlyDictionary<(TpmAlgId Hash, int Index), byte[]> a, IReadOnlyDictionary<(TpmAlgId Hash, int Index), byte[]> b) =>
        a.Count == b.Count && a.All(pair => b.TryGetValue(pair.Key, out byte[]? other) && pair.Value.AsSpan().SequenceEqual(other));

    // TPM 2.0 Part 2 §12.2.5: TPM2B_PUBLIC = UINT16 size (big-endian) + TPMT_PUBLIC.
    private static byte[] Tpm2bPublic(byte[] tpmtPublic)
    {
        var sized = new byte[tpmtPublic.Length + 2];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(sized, (ushort)tpmtPublic.Length);
        tpmtPublic.CopyTo(sized, 2);
        return sized;
    }

    private static List<PcrBankValues> ToBanks(TpmlPcrSelection selection, IReadOnlyDictionary<(TpmAlgId Hash, int Index), byte[]> values) =>
        selection.Selections.Select(bank => new PcrBankValues
        {
            Bank = TpmHashAlgorithm.BankName(bank.Hash)!,
            Values = bank.Indices.ToDictionary(i => i, i => Convert.ToHexStringLower(values[(bank.Hash, i)])),
        }).ToList();
}
