using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.Attestation.Tests.Fixtures;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.Attestation.Tests.Verification;

/// <summary>
/// Forged identities and documents around a genuine quote (issue 11, classes 6, 8 and 9): an AK certificate whose
/// subject names two VMs, an AK certificate that points chain building at an attacker's server, and JSON with a key
/// given twice.
/// </summary>
[IntegrationTest]
[Collection(GenuineEvidenceGroup.Name)]
public sealed class IdentityForgeryTests(GenuineEvidenceFactory factory)
{
    private const string AikEku = "2.23.133.8.3";

    private (AttestationEvidence Evidence, byte[] Nonce) Genuine()
    {
        byte[] nonce = RandomNumberGenerator.GetBytes(32);
        return (factory.Attest(GenuineEvidenceFactory.CaptureLog(AttestationVerifierTests.SecureBootCapture), nonce), nonce);
    }

    private static RSA AkKey(AttestationEvidence evidence) => TpmtPublic.Parse(evidence.Tpm.AkPublic.AsSpan(2)).ToRsa();

    /// <summary>An AK certificate for the evidence's AK with <paramref name="subject"/>, signed by <paramref name="issuerKey"/> as <paramref name="issuer"/>.</summary>
    private static byte[] AkCertificate(RSA akKey, X500DistinguishedName subject, X500DistinguishedName issuer, X509SignatureGenerator signer,
        Action<CertificateRequest>? extend = null)
    {
        var request = new CertificateRequest(subject, akKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(AikEku)], false));
        extend?.Invoke(request);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 certificate = request.Create(issuer, signer, now.AddMinutes(-5), now.AddYears(1), FilePlatformCa.RandomSerial());
        return certificate.RawData;
    }

    // Class 9: a subject built from text could carry a second CN; only exactly one, the VM id, is accepted.
    [Theory]
    [InlineData("other-first")]
    [InlineData("victim-first")]
    [InlineData("padded")]
    public void AkCertificateSubject_NotExactlyOneCommonNameEqualToTheVmId_Refused(string shape)
    {
        (AttestationEvidence evidence, byte[] nonce) = Genuine();
        var subject = new X500DistinguishedNameBuilder();
        switch (shape)
        {
            case "other-first":
                subject.AddCommonName(Guid.NewGuid().ToString("D"));
                subject.AddCommonName(factory.VmId.ToString("D"));
                break;
            case "victim-first":
                subject.AddCommonName(factory.VmId.ToString("D"));
                subject.AddCommonName("attacker");
                break;
            default:
                subject.AddCommonName($" {factory.VmId:D}");
                break;
        }

        ICertificateAuthority ca = factory.Ca.AttestationKeyCa;
        using RSA ak = AkKey(evidence);
        byte[] forged = AkCertificate(ak, subject.Build(), ca.Certificate.SubjectName, ca.CreateSignatureGenerator(),
            r => r.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca.Certificate, true, false)));

        AttestationResult result = Verifiers.Cached.Verify(evidence with { Tpm = evidence.Tpm with { AkCertificate = forged } }, factory.Expect(nonce));

        Assert.Equal(AttestationFailureReason.AkNotFromThisVm, result.Failure?.Reason);
        Assert.Equal("AK certificate: VM id", result.Failure!.Component);
        if (shape != "padded")
            Assert.Contains("2 common names", result.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IssuedAkCertificate_HasExactlyOneCommonNameTheVmId()
    {
        using RSA key = RSA.Create(2048);
        Guid vmId = Guid.NewGuid();
        using X509Certificate2 certificate = TpmCertificateBuilder.IssueAttestationKeyCertificate(key, vmId,
            new TpmDescription("IBM", "swtpm", "20191023", "2.0", 0, 164), factory.Ca.AttestationKeyCa, DateTimeOffset.UtcNow);
        string[] commonNames = certificate.SubjectName.EnumerateRelativeDistinguishedNames()
            .Where(r => r.GetSingleElementType().Value == "2.5.4.3").Select(r => r.GetSingleElementValue()!).ToArray();
        Assert.Equal([vmId.ToString("D")], commonNames);
    }

    // Class 6: the verifier never goes to the network, whatever the certificate's AIA extension names.
    [Fact]
    public void AkCertificateNamingAnIssuerUrl_NothingIsFetched()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var aia = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/issuer.crt");
        (AttestationEvidence evidence, byte[] nonce) = Genuine();
        using ECDsa rogueKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rogue = new X500DistinguishedName("CN=Rogue Intermediate");
        using RSA ak = AkKey(evidence);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(factory.VmId.ToString("D"));
        byte[] forged = AkCertificate(ak, subject.Build(), rogue, X509SignatureGenerator.CreateForECDsa(rogueKey),
            r => r.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension(null, [aia.ToString()])));

        AttestationResult result = Verifiers.Cached.Verify(evidence with { Tpm = evidence.Tpm with { AkCertificate = forged } }, factory.Expect(nonce));

        Assert.Equal(AttestationFailureReason.AkNotFromThisVm, result.Failure?.Reason);
        Assert.Equal("AK certificate: chain", result.Failure!.Component);
        Assert.False(listener.Pending(), "chain building connected to the URL in the certificate's AIA extension");
    }

    // Class 8: a key given twice is refused wherever evidence, policies and baselines are read.
    [Fact]
    public void EvidenceWithADuplicateKey_Malformed()
    {
        (AttestationEvidence evidence, _) = Genuine();
        string json = Encoding.UTF8.GetString(EvidenceJson.Serialize(evidence));
        string duplicated = "{\"nonce\":\"" + Convert.ToBase64String(new byte[32]) + "\"," + json[1..];

        EvidenceFormatException error = Assert.Throws<EvidenceFormatException>(() => EvidenceJson.Parse(Encoding.UTF8.GetBytes(duplicated)));
        Assert.Contains("nonce", error.Message, StringComparison.Ordinal);
        Assert.False(EvidenceJson.TryParse(Encoding.UTF8.GetBytes(duplicated), out _, out _));
    }

    [Theory]
    [InlineData("{\"name\":\"p\",\"requireSecureBoot\":true,\"requireSecureBoot\":false}")]
    [InlineData("{\"name\":\"p\",\"allowedAuthorities\":[\"Microsoft Corporation UEFI CA 2011\"],\"allowedAuthorities\":null}")]
    [InlineData("{\"name\":\"strict\",\"name\":\"lenient\"}")]
    public void PolicyWithADuplicateKey_Refused(string json) =>
        Assert.Throws<FormatException>(() => ReferencePolicy.FromJson(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void BaselineWithADuplicateKey_Refused()
    {
        (AttestationEvidence evidence, byte[] nonce) = Genuine();
        AttestationBaseline baseline = AttestationBaseline.Learn(Verifiers.Cached.Verify(evidence, factory.Expect(nonce)));
        string json = Encoding.UTF8.GetString(baseline.ToJson());
        string duplicated = "{\"bank\":\"sha1\"," + json.TrimStart()[1..];
        Assert.Throws<FormatException>(() => AttestationBaseline.FromJson(Encoding.UTF8.GetBytes(duplicated)));
    }
}
