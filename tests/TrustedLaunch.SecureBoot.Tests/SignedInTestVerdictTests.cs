using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Pe.Authenticode.Pe;
using TrustedLaunch.Pe.Authenticode.Signatures;
using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Qemu;
using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.SecureBoot.Tests;

/// <summary>
/// Binaries signed in the test with sbsign and an openssl-made root → intermediate → signer chain, judged against db/dbx
/// built from those keys; sbverify is the peer wherever it has an opinion.
/// </summary>
[IntegrationTest]
public sealed class SignedInTestVerdictTests : IDisposable
{
    private static readonly Guid Owner = new("38f3b8d6-7094-4997-bc1b-1008ad182f1e");
    private readonly string _dir = RepositoryPaths.NewTempDirectory("tl-sb-signed");
    private readonly TestKey _root;
    private readonly TestKey _intermediate;
    private readonly TestKey _signer;
    private readonly TestKey _other;
    private readonly string _unsigned;
    private readonly string _signed;

    public SignedInTestVerdictTests()
    {
        _root = TestSigningKeys.CreateRoot(_dir, "root", "TL Test Root");
        _intermediate = TestSigningKeys.CreateIssued(_dir, "intermediate", "TL Test Intermediate", _root, isCa: true);
        _signer = TestSigningKeys.CreateIssued(_dir, "signer", "TL Test Signer", _intermediate, isCa: false);
        _other = TestSigningKeys.CreateRoot(_dir, "other", "TL Unrelated Key");
        _unsigned = Path.Combine(_dir, "fb.efi");
        File.Copy(DebianBootChain.Fallback, _unsigned);
        while (ExternalTool.Run("sbattach", ["--remove", _unsigned]).ExitCode == 0)
        {
            // One signature per call.
        }

        _signed = Path.Combine(_dir, "fb.signed.efi");
        TestSigningKeys.Sbsign(_signer, _unsigned, _signed, addCertificatePem: _intermediate.CertificatePem);
    }

    [Fact]
    public void Verify_RootInDb_AllowedNamingTheRootLikeSbverify()
    {
        var verdict = Verify(_signed, Db(_root));
        Assert.True(verdict.Allowed, verdict.Message);
        Assert.Equal(VerdictReason.SignedByDbCertificate, verdict.Reason);
        Assert.Equal("CN=TL Test Root", verdict.MatchedEntry!.Subject);
        Assert.True(Sbverify(_root, _signed));
    }

    [Fact]
    public void Verify_IntermediateInDb_AllowedAsPartialChainAnchor()
    {
        var verdict = Verify(_signed, Db(_intermediate));
        Assert.True(verdict.Allowed, verdict.Message);
        Assert.Equal("CN=TL Test Intermediate", verdict.MatchedEntry!.Subject);
        Assert.True(Sbverify(_intermediate, _signed));
    }

    [Fact]
    public void Verify_UnrelatedDb_DeniedSignerNotInDb()
    {
        var verdict = Verify(_signed, Db(_other));
        Assert.False(verdict.Allowed);
        Assert.Equal(VerdictReason.SignerNotInDb, verdict.Reason);

        // sbverify 0.9.4 accepts any --cert when the signature embeds an intermediate whose issuer is missing (its verify
        // callback trusts the unresolvable issuer); the firmware does not. Pinned, and shown on real OVMF in the QEMU test.
        Assert.True(Sbverify(_other, _signed));

        // Without the embedded intermediate the chain cannot reach the root: both refuse.
        string leafOnly = Path.Combine(_dir, "fb.leafonly.efi");
        TestSigningKeys.Sbsign(_signer, _unsigned, leafOnly);
        Assert.False(Verify(leafOnly, Db(_root)).Allowed);
        Assert.False(Sbverify(_root, leafOnly));
        Assert.False(Verify(leafOnly, Db(_other)).Allowed);
        Assert.False(Sbverify(_other, leafOnly));
        Assert.True(Verify(leafOnly, Db(_intermediate)).Allowed);
        Assert.True(Sbverify(_intermediate, leafOnly));
    }

    [Fact]
    public void Verify_ImageHashInDbx_DeniedEvenThoughDbCertificateVerifies()
    {
        byte[] hash = Sha256Authenticode(_signed);
        var verdict = Verify(_signed, new ImageSecurityDatabases(Db(_root), [HashList(EfiSignatureType.Sha256, hash)]));
        Assert.False(verdict.Allowed);
        Assert.Equal(VerdictReason.HashInDbx, verdict.Reason);
        Assert.Equal("dbx", verdict.MatchedEntry!.Database);
    }

    [Fact]
    public void Verify_SignerCertificateInDbx_DeniedCertificateInDbx()
    {
        var verdict = Verify(_signed, new ImageSecurityDatabases(Db(_root), Db(_signer)));
        Assert.False(verdict.Allowed);
        Assert.Equal(VerdictReason.CertificateInDbx, verdict.Reason);
        Assert.Equal("CN=TL Test Signer", verdict.MatchedEntry!.Subject);
    }

    [Fact]
    public void Verify_IntermediateTbsHashInDbx_DeniedCertificateInDbx()
    {
        using var intermediate = X509CertificateLoader.LoadCertificateFromFile(_intermediate.CertificateDer);
        byte[] entry = new byte[48]; // SHA-256(TBSCertificate) + EFI_TIME TimeOfRevocation (zero: always revoked)
        SHA256.HashData(CertificateIssuance.TbsCertificate(intermediate.RawData).Span, entry);
        var verdict = Verify(_signed, new ImageSecurityDatabases(Db(_root), [HashList(EfiSignatureType.X509Sha256, entry)]));
        Assert.False(verdict.Allowed);
        Assert.Equal(VerdictReason.CertificateInDbx, verdict.Reason);
        Assert.Equal(EfiSignatureKind.X509Sha256, verdict.MatchedEntry!.Kind);
    }

    [Fact]
    public void Verify_CorruptedSignatureValue_DeniedBadSignatureLikeSbverify()
    {
        byte[] file = File.ReadAllBytes(_signed);
        var entry = AttributeCertificateTable.Read(PeImage.Parse(file)).Entries[0];
        file[entry.Offset + (int)entry.Length - 20] ^= 0x55; // inside the RSA signature at the end of the SignerInfo
        string corrupted = Write("corrupted.efi", file);

        var verdict = Verify(corrupted, Db(_root));
        Assert.False(verdict.Allowed);
        Assert.Equal(VerdictReason.BadSignature, verdict.Reason);
        Assert.False(Sbverify(_root, corrupted));
    }

    [Fact]
    public void Verify_ImageModifiedAfterSigning_DeniedBadSignatureLikeSbverify()
    {
        byte[] file = File.ReadAllBytes(_signed);
        var image = PeImage.Parse(file);
        file[image.Sections[0].PointerToRawData + 100] ^= 0x01;
        string modified = Write("modified.efi", file);

        var verdict = Verify(modified, Db(_root));
        Assert.False(verdict.Allowed);
        Assert.Equal(VerdictReason.BadSignature, verdict.Reason);
        Assert.Equal(SignatureOutcome.DigestMismatch, verdict.Signatures[0].Outcome);
        Assert.False(Sbverify(_root, modified));
    }

    [Fact]
    public void Verify_CertificateTableSizeBeyondLastEntry_DeniedCorruptTable()
    {
        byte[] file = File.ReadAllBytes(_signed);
        var image = PeImage.Parse(file);
        int entry = image.CertificateDirectoryEntryOffset!.Value;
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(entry + 4), image.CertificateTable!.Value.Size + 8);
        string grown = Write("grown.efi", [.. file, 0, 0, 0, 0, 0, 0, 0, 0]);

        var verdict = Verify(grown, Db(_root));
        Assert.False(verdict.Allowed);
        Assert.Equal(VerdictReason.CorruptCertificateTable, verdict.Reason);
    }

    [Fact]
    public void Verify_UnsignedImage_DeniedUnlessItsSha256IsInDb()
    {
        var denied = Verify(_unsigned, Db(_root));
        Assert.False(denied.Allowed);
        Assert.Equal(VerdictReason.NotSigned, denied.Reason);
        Assert.False(Sbverify(_root, _unsigned));

        byte[] hash = Sha256Authenticode(_unsigned);
        var allowed = Verify(_unsigned, new ImageSecurityDatabases([HashList(EfiSignatureType.Sha256, hash)], null));
        Assert.True(allowed.Allowed, allowed.Message);
        Assert.Equal(VerdictReason.HashInDb, allowed.Reason);

        var both = Verify(_unsigned, new ImageSecurityDatabases([HashList(EfiSignatureType.Sha256, hash)], [HashList(EfiSignatureType.Sha256, hash)]));
        Assert.Equal(VerdictReason.HashInDbx, both.Reason);
    }

    [Fact]
    public void Verify_RandomMutationsOfSignedImage_NeverThrowsAndNeverAllowsAChangedSignedRegion()
    {
        byte[] original = File.ReadAllBytes(_signed);
        var databases = Db(_root);
        var random = new Random(4);
        for (int round = 0; round < 150; round++)
        {
            byte[] copy = (byte[])original.Clone();
            int at = random.Next(copy.Length);
            copy[at] ^= (byte)(1 + random.Next(255));
            var verdict = FirmwareImageVerifier.Verify(copy, new ImageSecurityDatabases(databases, null));
            Assert.NotNull(verdict.Message);
        }
    }

    private static SecureBootVerdict Verify(string path, IReadOnlyList<EfiSignatureList> db) => Verify(path, new ImageSecurityDatabases(db, null));

    private static SecureBootVerdict Verify(string path, ImageSecurityDatabases databases) => FirmwareImageVerifier.Verify(File.ReadAllBytes(path), databases);

    private static List<EfiSignatureList> Db(TestKey key) =>
        [new EfiSignatureList(EfiSignatureType.X509, ReadOnlyMemory<byte>.Empty, [new EfiSignatureData(Owner, File.ReadAllBytes(key.CertificateDer))])];

    private static EfiSignatureList HashList(Guid type, byte[] value) => new(type, ReadOnlyMemory<byte>.Empty, [new EfiSignatureData(Owner, value)]);

    private static byte[] Sha256Authenticode(string path) =>
        TrustedLaunch.Pe.Authenticode.AuthenticodeDigest.Compute(PeImage.Parse(File.ReadAllBytes(path)), HashAlgorithmName.SHA256);

    private static bool Sbverify(TestKey anchor, string image) => ExternalTool.Run("sbverify", ["--cert", anchor.CertificatePem, image]).ExitCode == 0;

    private string Write(string name, byte[] content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Scratch files left behind do not fail a test.
        }
    }
}
