using System.Security.Cryptography;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestAgent.Evidence;
using TrustedLaunch.GuestChannel.Messages;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;

namespace TrustedLaunch.GuestAgent.Tests;

/// <summary>The agent's collector asked for a bound token, against a provisioned swtpm.</summary>
[IntegrationTest]
public sealed class BoundKeyCollectionTests
{
    [Fact]
    public void Collect_BindToken_KeyCertifiedOverNonceQuoteCommitsToItsNameAndItDecrypts()
    {
        using var swtpm = ProvisionedSwtpm.Start(GuestRoot.VmId, TpmAlgId.Sha1, TpmAlgId.Sha256);
        var collector = new EvidenceCollector(() => SwtpmSocketTransport.Unix(swtpm.Swtpm.DataSocketPath!), new GuestSystem(GuestRoot.Create()),
            () => [], TimeProvider.System);
        byte[] nonce = RandomNumberGenerator.GetBytes(32);

        AttestationEvidence evidence = collector.Collect(nonce, AttestRequest.DefaultPcrs, bindToken: true, out PcrBoundKey? key);

        Assert.NotNull(key);
        BoundKeyEvidence bound = Assert.IsType<BoundKeyEvidence>(evidence.Tpm.BoundKey);
        Assert.Equal("sha256", bound.PolicyBank);
        Assert.Equal(AttestRequest.DefaultPcrs, bound.PolicyPcrs);
        TpmsAttest quote = TpmsAttest.Parse(evidence.Tpm.Quote);
        Assert.Equal(BoundKeyEvidence.QuoteQualifyingData(nonce, key.Name), quote.ExtraData); // TPM2_Hash agrees with the verifier's SHA-256
        TpmsAttest certify = TpmsAttest.Parse(bound.CertifyInfo);
        Assert.Equal(TpmSt.AttestCertify, certify.Type);
        Assert.Equal(nonce, certify.ExtraData);
        Assert.Equal(key.Name, ((TpmsCertifyInfo)certify.Attested).Name);

        // The key's policy is PolicyPCR over the quoted SHA-256 values, as the verifier computes it in software.
        var values = evidence.Tpm.Pcrs.Single(b => b.Bank == "sha256").Values.ToDictionary(v => (TpmAlgId.Sha256, v.Key), v => Convert.FromHexString(v.Value));
        Assert.Equal(PolicyDigests.PolicyPcr(TpmAlgId.Sha256, key.Selection, values), key.Template.AuthPolicy);

        // Re-created from its template later, it opens an envelope made for its public key.
        using RSA recipient = TpmtPublic.Parse(key.PublicBytes).ToRsa();
        string jwe = BoundTokenJwe.Encrypt("h.p.s", recipient, "k");
        using TpmClient tpm = swtpm.Connect();
        uint handle = key.Load(tpm);
        try
        {
            Assert.Equal("h.p.s", BoundTokenJwe.Decrypt(jwe, encrypted => key.Decrypt(tpm, handle, encrypted)));
        }
        finally
        {
            tpm.FlushContext(handle);
        }
    }
}
