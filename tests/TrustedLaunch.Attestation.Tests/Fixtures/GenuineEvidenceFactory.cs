using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Swtpm;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.Attestation.Tests.Fixtures;

/// <summary>
/// Makes genuine evidence without a VM: a real swtpm, an AK made from the vTPM manufacturer's template and
/// certified by a real platform CA (<see cref="FilePlatformCa"/> + <see cref="TpmCertificateBuilder"/>), a real
/// QEMU boot's event log replayed into the TPM (each event's digests extended in their banks, EV_NO_ACTION
/// skipped), then TPM2_Quote over PCRs 0-9 and 14 in every bank the log carries. One swtpm per factory; each
/// boot is a TPM power cycle (CMD_INIT + Startup), the persisted AK survives it as in a VM reboot.
/// </summary>
public sealed class GenuineEvidenceFactory : IDisposable
{
    private static readonly int[] QuotedPcrs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14];
    private readonly Lock _gate = new();
    private readonly SwtpmProcess _swtpm;
    private readonly TpmClient _client;
    private byte[]? _loadedLog;
    private byte[] _akPublic = [];

    public GenuineEvidenceFactory()
    {
        string work = RepositoryPaths.NewTempDirectory("tl-attest");
        CaDirectory = Path.Combine(work, "ca");
        Ca = FilePlatformCa.Create(CaDirectory, "TL Attestation Test");
        _swtpm = SwtpmProcess.Start();
        _client = new TpmClient(new SwtpmSocketTransport(_swtpm.DataEndPoint, keepConnection: true));
        CreateAk();
        AkCertificate = Certify(VmId, Ca);
    }

    /// <summary>The VM the AK certificate names.</summary>
    public Guid VmId { get; } = Guid.Parse("6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b");

    public string CaDirectory { get; }

    public FilePlatformCa Ca { get; }

    public byte[] AkCertificate { get; }

    /// <summary>The AK CA and root, as a verifier configures them.</summary>
    public X509Certificate2Collection AkCaCertificates => [Ca.AttestationKeyCa.Certificate, Ca.RootCertificate];

    public static byte[] CaptureLog(string capture) =>
        File.ReadAllBytes(Path.Combine(RepositoryPaths.CorpusRoot, "qemu", capture, "binary_bios_measurements"));

    public AttestationExpectations Expect(ReadOnlyMemory<byte> nonce, AttestationBaseline? baseline = null, ReferencePolicy? policy = null) => new()
    {
        VmId = VmId,
        Nonce = nonce,
        AkCaCertificates = AkCaCertificates,
        Baseline = baseline,
        Policy = policy,
    };

    /// <summary>
    /// Boots (replays) <paramref name="log"/> unless it is what the TPM already holds, then quotes with
    /// <paramref name="nonce"/> over every bank the log carries, or over <paramref name="quotedBanks"/> when given.
    /// </summary>
    public AttestationEvidence Attest(byte[] log, byte[] nonce, byte[]? akCertificate = null, IReadOnlyList<TpmAlgId>? quotedBanks = null)
    {
        lock (_gate)
        {
            if (_loadedLog is null || !_loadedLog.AsSpan().SequenceEqual(log))
                Boot(log);

            TcgEventLog parsed = TcgEventLog.Parse(log);
            var selection = new TpmlPcrSelection((quotedBanks ?? parsed.Algorithms.Select(a => a.Algorithm).ToArray())
                .Select(a => new TpmsPcrSelection(a, QuotedPcrs)).ToArray());
            var quote = _client.Quote(VTpmLayout.Ak.PersistentHandle, nonce, selection);
            IReadOnlyDictionary<(TpmAlgId Hash, int Index), byte[]> values = _client.ReadPcrs(selection);
            return new AttestationEvidence
            {
                Version = AttestationEvidence.CurrentVersion,
                VmId = VmId.ToString(),
                Nonce = nonce,
                Tpm = new TpmEvidence
                {
                    AkPublic = _akPublic,
                    AkCertificate = akCertificate ?? AkCertificate,
                    Quote = quote.AttestBytes,
                    Signature = quote.SignatureBytes,
                    Pcrs = values.GroupBy(v => v.Key.Hash).Select(g => new PcrBankValues
                    {
                        Bank = TpmHashAlgorithm.BankName(g.Key)!,
                        Values = g.ToDictionary(v => v.Key.Index, v => Convert.ToHexStringLower(v.Value)),
                    }).ToArray(),
                },
                TcgLog = log,
                Os = new OsIdentity { Id = "debian", VersionId = "12", PrettyName = "Debian GNU/Linux 12 (bookworm)", KernelRelease = "6.1.0-56-amd64" },
                Findings = [new GuestFinding { Kind = GuestFinding.Kinds.ModuleRejected, Module = "ttyprintk", Message = "Loading of unsigned module is rejected", At = DateTimeOffset.UnixEpoch }],
                Agent = new AgentInfo { Version = "test-factory", CollectedAt = DateTimeOffset.UtcNow },
            };
        }
    }

    /// <summary>
    /// As <see cref="Attest"/>, with a key for a bound token, made as the guest agent makes it (<see cref="PcrBoundKey"/>:
    /// PolicyPCR over the SHA-256 values of the quoted PCRs, certified by the AK over <paramref name="nonce"/>, its Name in
    /// the quote's qualifyingData). <paramref name="editTemplate"/> makes a key the verifier must refuse.
    /// </summary>
    public (AttestationEvidence Evidence, PcrBoundKey Key) AttestBound(byte[] log, byte[] nonce, Func<TpmtPublic, TpmtPublic>? editTemplate = null,
        byte[]? certifyNonce = null)
    {
        lock (_gate)
        {
            if (_loadedLog is null || !_loadedLog.AsSpan().SequenceEqual(log))
                Boot(log);
            PcrBoundKey key = PcrBoundKey.Create(_client, TpmlPcrSelection.Of(TpmAlgId.Sha256, QuotedPcrs), out uint handle, editTemplate);
            TrustedLaunch.Tpm.Transport.AttestationResult certify;
            try
            {
                certify = PcrBoundKey.Certify(_client, handle, VTpmLayout.Ak.PersistentHandle, certifyNonce ?? nonce);
            }
            finally
            {
                _client.FlushContext(handle);
            }

            byte[] qualifyingData = key.QuoteQualifyingData(_client, nonce);
            AttestationEvidence evidence = Attest(log, qualifyingData);
            var bound = new BoundKeyEvidence
            {
                Public = [(byte)(key.PublicBytes.Length >> 8), (byte)key.PublicBytes.Length, .. key.PublicBytes],
                CertifyInfo = certify.AttestBytes,
                Signature = certify.SignatureBytes,
                PolicyBank = "sha256",
                PolicyPcrs = QuotedPcrs,
            };
            return (evidence with { Nonce = nonce, Tpm = evidence.Tpm with { BoundKey = bound } }, key);
        }
    }

    /// <summary>Decrypts a bound token with this TPM in its current state, as the guest would.</summary>
    public string DecryptBound(PcrBoundKey key, string jwe)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_gate)
        {
            uint handle = key.Load(_client);
            try
            {
                return BoundTokenJwe.Decrypt(jwe, encryptedKey => key.Decrypt(_client, handle, encryptedKey));
            }
            finally
            {
                _client.FlushContext(handle);
            }
        }
    }

    /// <summary>Extends <paramref name="pcr"/> in the SHA-256 bank as a later boot stage would.</summary>
    public void Extend(int pcr)
    {
        lock (_gate)
        {
            _client.PcrExtend(pcr, [new TpmtHa(TpmAlgId.Sha256, RandomNumberGenerator.GetBytes(32))]);
            _loadedLog = null; // the TPM no longer holds that boot: the next Attest replays it again
        }
    }

    /// <summary>An AK certificate for this TPM's AK issued by <paramref name="ca"/> for <paramref name="vmId"/>.</summary>
    public byte[] Certify(Guid vmId, IPlatformCa ca)
    {
        TpmtPublic ak = TpmtPublic.Parse(_akPublic.AsSpan(2));
        using RSA key = ak.ToRsa();
        using X509Certificate2 certificate = TpmCertificateBuilder.IssueAttestationKeyCertificate(key, vmId,
            new TpmDescription("IBM", "swtpm", "20191023", "2.0", 0, 164), ca.AttestationKeyCa, DateTimeOffset.UtcNow.AddMinutes(-5));
        return certificate.RawData;
    }

    private void CreateAk()
    {
        CreatePrimaryResult created = _client.CreatePrimary(TpmHandles.Endorsement, VTpmLayout.AkTemplate);
        _client.EvictControl(created.Handle, VTpmLayout.Ak.PersistentHandle);
        _client.FlushContext(created.Handle);
        ReadPublicResult pub = _client.ReadPublic(VTpmLayout.Ak.PersistentHandle);
        _akPublic = new byte[2 + pub.PublicBytes.Length];
        _akPublic[0] = (byte)(pub.PublicBytes.Length >> 8);
        _akPublic[1] = (byte)pub.PublicBytes.Length;
        pub.PublicBytes.CopyTo(_akPublic, 2);
    }

    /// <summary>Power-cycles the TPM and extends every measured event of <paramref name="log"/>, as firmware would.</summary>
    private void Boot(byte[] log)
    {
        new SwtpmControlClient(_swtpm.ControlEndPoint).Init();
        _client.Startup(TpmSu.Clear);
        TcgEventLog parsed = TcgEventLog.Parse(log);
        if (parsed.StartupLocality is not null)
            throw new NotSupportedException("replaying a log with a StartupLocality event needs a locality-3 startup");
        foreach (TcgEvent ev in parsed.Events)
        {
            if (!ev.IsExtended)
                continue; // PFP §10.4.5: EV_NO_ACTION is never extended
            _client.PcrExtend((int)ev.PcrIndex, ev.Digests.Select(d => new TpmtHa(d.Algorithm, d.Value.ToArray())).ToArray());
        }

        _loadedLog = (byte[])log.Clone();
    }

    public void Dispose()
    {
        _client.Dispose();
        _swtpm.Dispose();
    }
}

/// <summary>One factory (one swtpm) shared by every class that needs genuine evidence.</summary>
[CollectionDefinition(Name)]
public sealed class GenuineEvidenceGroup : ICollectionFixture<GenuineEvidenceFactory>
{
    public const string Name = "genuine-evidence";
}
