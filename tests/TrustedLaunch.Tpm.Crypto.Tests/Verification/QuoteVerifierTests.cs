using TrustedLaunch.Tpm.Protocol;
using System.Security.Cryptography;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol.Tests;

namespace TrustedLaunch.Tpm.Crypto.Tests.Verification;

public sealed class QuoteVerifierTests
{
    public static TheoryData<int> QuoteIndices => new() { 0, 1, 2, 3, 4, 5, 6 };

    [Theory]
    [MemberData(nameof(QuoteIndices))]
    public void Verify_CorpusQuote_Verifies(int index)
    {
        var q = CorpusQuote.All().ElementAt(index);
        var result = QuoteVerifier.Verify(q.Ak, q.Attest, q.Signature, q.Nonce, true, q.Pcrs);
        Assert.True(result.IsValid, $"{q}: {result.Failure} {result.Detail}");
        Assert.Equal(((TpmsQuoteInfo)result.Attest!.Attested).PcrDigest, result.ComputedPcrDigest);
    }

    [Fact]
    public void Verify_EachTamperedPart_GivesItsOwnFailure()
    {
        var q = CorpusQuote.Load("go-tpm-tools-gce-cos-85-nonce9009", "quote_sha256");
        Assert.Equal(QuoteFailure.QualifyingDataMismatch, QuoteVerifier.Verify(q.Ak, q.Attest, q.Signature, [0x90, 0x08], true, q.Pcrs).Failure);
        Assert.Equal(QuoteFailure.None, QuoteVerifier.Verify(q.Ak, q.Attest, q.Signature, [], false, q.Pcrs).Failure);

        var pcrs = new Dictionary<(TpmAlgId, int), byte[]>(q.Pcrs) { [(TpmAlgId.Sha256, 4)] = new byte[32] };
        Assert.Equal(QuoteFailure.PcrDigestMismatch, QuoteVerifier.Verify(q.Ak, q.Attest, q.Signature, q.Nonce, true, pcrs).Failure);
        pcrs.Remove((TpmAlgId.Sha256, 23));
        var missing = QuoteVerifier.Verify(q.Ak, q.Attest, q.Signature, q.Nonce, true, pcrs);
        Assert.Equal(QuoteFailure.PcrValuesMissing, missing.Failure);
        Assert.Contains("sha256:23", missing.Detail, StringComparison.Ordinal);

        byte[] attest = (byte[])q.Attest.Clone();
        attest[20] ^= 1;
        Assert.Equal(QuoteFailure.BadSignature, QuoteVerifier.Verify(q.Ak, attest, q.Signature, q.Nonce, true, q.Pcrs).Failure);

        using var other = RSA.Create(2048);
        var otherKey = TpmtPublic.FromPublicKey(other, new TpmtScheme(TpmAlgId.RsaSsa, TpmAlgId.Sha256));
        Assert.Equal(QuoteFailure.BadSignature, QuoteVerifier.Verify(otherKey, q.Attest, q.Signature, q.Nonce, true, q.Pcrs).Failure);
        using var ecc = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var eccKey = TpmtPublic.FromPublicKey(ecc, new TpmtScheme(TpmAlgId.EcDsa, TpmAlgId.Sha256));
        Assert.Equal(QuoteFailure.KeySignatureMismatch, QuoteVerifier.Verify(eccKey, q.Attest, q.Signature, q.Nonce, true, q.Pcrs).Failure);

        Assert.Equal(QuoteFailure.MalformedAttest, QuoteVerifier.Verify(q.Ak, q.Attest.AsSpan(0, 40), q.Signature, q.Nonce, true, q.Pcrs).Failure);
        Assert.Equal(QuoteFailure.MalformedSignature, QuoteVerifier.Verify(q.Ak, q.Attest, q.Signature.AsSpan(0, 10), q.Nonce, true, q.Pcrs).Failure);
    }

    [Fact]
    public void Verify_SignedNonQuoteAndWrongMagic_Refused()
    {
        using var key = RSA.Create(2048);
        var pub = TpmtPublic.FromPublicKey(key, new TpmtScheme(TpmAlgId.RsaSsa, TpmAlgId.Sha256));
        var q = CorpusQuote.Load("go-tpm-tools-gce-cos-85-nonce9009", "quote_sha256");
        var attest = TpmsAttest.Parse(q.Attest);

        byte[] Sign(TpmsAttest a, out byte[] bytes)
        {
            bytes = a.ToBytes();
            byte[] s = key.SignData(bytes, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            return TpmtSignature.Rsa(TpmAlgId.RsaSsa, TpmAlgId.Sha256, s).ToBytes();
        }

        byte[] sig = Sign(attest with { Magic = 0x12345678 }, out byte[] forged);
        Assert.Equal(QuoteFailure.NotTpmGenerated, QuoteVerifier.Verify(pub, forged, sig, q.Nonce, true, q.Pcrs).Failure);
        sig = Sign(attest with { Type = TpmSt.AttestCertify, Attested = new TpmsCertifyInfo([1, 2], [3, 4]) }, out byte[] certify);
        Assert.Equal(QuoteFailure.NotAQuote, QuoteVerifier.Verify(pub, certify, sig, q.Nonce, true, q.Pcrs).Failure);
        sig = Sign(attest, out byte[] resigned);
        Assert.True(QuoteVerifier.Verify(pub, resigned, sig, q.Nonce, true, q.Pcrs).IsValid);
        Assert.Equal(q.Attest, resigned); // the parse → marshal round trip is byte-exact
    }

    [Fact]
    public void CheckSignature_PssWithHashAndMaximumSaltLengths_BothVerify()
    {
        using var key = RSA.Create(2048);
        var pub = TpmtPublic.FromPublicKey(key, new TpmtScheme(TpmAlgId.RsaPss, TpmAlgId.Sha256));
        byte[] message = "TPMS_ATTEST stand-in"u8.ToArray();
        byte[] pss = key.SignData(message, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
        Assert.Equal(QuoteFailure.None, QuoteVerifier.CheckSignature(pub, message, TpmtSignature.Rsa(TpmAlgId.RsaPss, TpmAlgId.Sha256, pss)).Failure);
        Assert.Equal(QuoteFailure.BadSignature, QuoteVerifier.CheckSignature(pub, [.. message, 0], TpmtSignature.Rsa(TpmAlgId.RsaPss, TpmAlgId.Sha256, pss)).Failure);
        // Verified as RSASSA the same bytes fail: the scheme is honoured.
        Assert.Equal(QuoteFailure.BadSignature, QuoteVerifier.CheckSignature(pub, message, TpmtSignature.Rsa(TpmAlgId.RsaSsa, TpmAlgId.Sha256, pss)).Failure);
    }
}
