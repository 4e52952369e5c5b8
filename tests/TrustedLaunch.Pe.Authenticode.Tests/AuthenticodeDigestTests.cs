using System.Security.Cryptography;
using TrustedLaunch.Pe.Authenticode.Pe;
using TrustedLaunch.Pe.Authenticode.Signatures;
using TrustedLaunch.Testing;
using TrustedLaunch.Testing.Qemu;

namespace TrustedLaunch.Pe.Authenticode.Tests;

/// <summary>
/// The digest against three independent computations: the digest Microsoft's and Debian's signing services signed into
/// each real binary, efitools' hash-to-efi-sig-list on the stripped binary, and sbsign's on binaries signed in the test.
/// </summary>
[IntegrationTest]
public sealed class AuthenticodeDigestTests : IDisposable
{
    private readonly string _dir = RepositoryPaths.NewTempDirectory("tl-authenticode");

    [Theory]
    [MemberData(nameof(DebianBinaries.Names), MemberType = typeof(DebianBinaries))]
    public void Compute_DebianSignedBinary_EqualsEverySignedDigest(string name)
    {
        var image = PeImage.Parse(File.ReadAllBytes(DebianBinaries.PathOf(name)));
        var table = AttributeCertificateTable.Read(image);

        Assert.True(table.EndsAtTableEnd);
        Assert.NotEmpty(table.Entries);
        foreach (var entry in table.Entries)
        {
            var signature = AuthenticodeSignature.Decode(entry.Pkcs7);
            Assert.Equal(HashAlgorithmName.SHA256, signature.FirmwareDigestAlgorithm);
            byte[] digest = AuthenticodeDigest.Compute(image, HashAlgorithmName.SHA256);
            Assert.Equal(Convert.ToHexStringLower(signature.SignedDigest.Span), Convert.ToHexStringLower(digest));
            Assert.True(signature.MatchesImageDigest(digest));
            Assert.True(signature.TryVerifySignerSignatures(out string? error), error);
        }
    }

    [Theory]
    [MemberData(nameof(DebianBinaries.Names), MemberType = typeof(DebianBinaries))]
    public void Compute_StrippedDebianBinary_AgreesWithEfitoolsAndSignedDigest(string name)
    {
        string stripped = Strip(DebianBinaries.PathOf(name));
        var signed = PeImage.Parse(File.ReadAllBytes(DebianBinaries.PathOf(name)));
        var unsigned = PeImage.Parse(File.ReadAllBytes(stripped));
        Assert.False(unsigned.HasCertificateTable);

        string ours = Convert.ToHexStringLower(AuthenticodeDigest.Compute(unsigned, HashAlgorithmName.SHA256, TrailingDataMode.PaddedToEight));
        Assert.Equal(EfitoolsHash(stripped), ours);
        Assert.Equal(Convert.ToHexStringLower(AuthenticodeDigest.Compute(signed, HashAlgorithmName.SHA256)), ours);
    }

    [Fact]
    public void Compute_UnsignedSizeNotMultipleOfEight_FirmwareDiffersFromPaddedAndSbsignSignsPadded()
    {
        string stripped = Strip(DebianBootChain.Fallback);
        string odd = Path.Combine(_dir, "odd.efi");
        File.WriteAllBytes(odd, [.. File.ReadAllBytes(stripped), 1, 2, 3]);
        var image = PeImage.Parse(File.ReadAllBytes(odd));

        string firmware = Convert.ToHexStringLower(AuthenticodeDigest.Compute(image, HashAlgorithmName.SHA256));
        string padded = Convert.ToHexStringLower(AuthenticodeDigest.Compute(image, HashAlgorithmName.SHA256, TrailingDataMode.PaddedToEight));
        Assert.NotEqual(firmware, padded);
        Assert.Equal(EfitoolsHash(odd), padded);

        var key = TestSigningKeys.CreateRoot(_dir, "signer", "TL digest test signer");
        string signedPath = Path.Combine(_dir, "odd.signed.efi");
        TestSigningKeys.Sbsign(key, odd, signedPath);
        var signed = PeImage.Parse(File.ReadAllBytes(signedPath));
        var signature = AuthenticodeSignature.Decode(AttributeCertificateTable.Read(signed).Entries[0].Pkcs7);
        Assert.Equal(padded, Convert.ToHexStringLower(signature.SignedDigest.Span));
        Assert.Equal(padded, Convert.ToHexStringLower(AuthenticodeDigest.Compute(signed, HashAlgorithmName.SHA256)));
    }

    [Fact]
    public void Decode_SbattachDetachedGrubSignature_DigestEqualsOpensslAsn1Parse()
    {
        string sig = Path.Combine(_dir, "grub.p7");
        var detach = ExternalTool.Run("sbattach", ["--detach", sig, DebianBootChain.Grub]);
        Assert.True(detach.ExitCode == 0, detach.ToString());
        var asn1 = ExternalTool.Run("openssl", ["asn1parse", "-inform", "DER", "-in", sig]);
        Assert.Equal(0, asn1.ExitCode);

        var signature = AuthenticodeSignature.Decode(File.ReadAllBytes(sig));
        string digest = Convert.ToHexString(signature.SignedDigest.Span);
        Assert.Contains($"[HEX DUMP]:{digest}", asn1.StandardOutput, StringComparison.Ordinal);
        Assert.Equal("2.16.840.1.101.3.4.2.1", signature.DigestAlgorithmOid);
        Assert.Equal("CN=Debian Secure Boot Signer 2022 - grub2", Assert.Single(signature.Signers)!.Subject);
    }

    [Fact]
    public void Read_Shim_TwoSignaturesMicrosoft2011And2023()
    {
        var image = PeImage.Parse(File.ReadAllBytes(DebianBootChain.Shim));
        var table = AttributeCertificateTable.Read(image);

        Assert.Equal(2, table.Entries.Count);
        Assert.All(table.Entries, e => Assert.Equal(WinCertificate.TypePkcsSignedData, e.CertificateType));
        Assert.True(table.EndsAtTableEnd);
        var issuers = table.Entries.Select(e => AuthenticodeSignature.Decode(e.Pkcs7).Signers[0]!.Issuer).ToList();
        Assert.Contains("Microsoft Corporation UEFI CA 2011", issuers[0], StringComparison.Ordinal);
        Assert.Contains("Microsoft UEFI CA 2023", issuers[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Compute_Sha1Sha384Sha512_DifferInLengthAndMatchIncrementalOrder()
    {
        var image = PeImage.Parse(File.ReadAllBytes(DebianBootChain.Fallback));
        Assert.Equal(20, AuthenticodeDigest.Compute(image, HashAlgorithmName.SHA1).Length);
        Assert.Equal(48, AuthenticodeDigest.Compute(image, HashAlgorithmName.SHA384).Length);
        Assert.Equal(64, AuthenticodeDigest.Compute(image, HashAlgorithmName.SHA512).Length);
    }

    private string Strip(string path)
    {
        string copy = Path.Combine(_dir, Path.GetFileName(path) + ".stripped");
        File.Copy(path, copy, overwrite: true);
        while (ExternalTool.Run("sbattach", ["--remove", copy]).ExitCode == 0)
        {
            // sbattach removes one signature per call; shim carries two.
        }

        return copy;
    }

    private string EfitoolsHash(string path)
    {
        string esl = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".esl");
        var result = ExternalTool.Run("hash-to-efi-sig-list", [path, esl]);
        Assert.True(result.ExitCode == 0, result.ToString());
        byte[] list = File.ReadAllBytes(esl);
        return Convert.ToHexStringLower(list.AsSpan(list.Length - 32));
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
