using System.Security.Cryptography;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Transport.Tests;

/// <summary>Quotes made by swtpm through this library, verified by QuoteVerifier and by tpm2_checkquote, good and tampered.</summary>
[IntegrationTest]
public sealed class QuoteInteropTests
{
    public static TheoryData<string> KeyKinds => new() { "rsassa", "rsapss", "ecdsa" };

    private static TpmtPublic Template(string kind) => kind switch
    {
        "rsassa" => KeyTemplates.RsaAttestationKey(),
        "rsapss" => KeyTemplates.RsaAttestationKey(TpmAlgId.RsaPss),
        _ => KeyTemplates.EccAttestationKey(),
    };

    [Theory]
    [MemberData(nameof(KeyKinds))]
    public void Quote_VerifiedByQuoteVerifierAndTpm2CheckQuote_TamperingRejectedByBoth(string kind)
    {
        using var bed = new TpmTestBed();
        var ak = bed.Client.CreatePrimary(TpmHandles.Owner, Template(kind));
        bed.Client.PcrExtend(16, [new TpmtHa(TpmAlgId.Sha256, SHA256.HashData("measured"u8))]);
        byte[] nonce = RandomNumberGenerator.GetBytes(20);
        var selection = new TpmlPcrSelection([
            new TpmsPcrSelection(TpmAlgId.Sha256, [0, 7, 16]),
            new TpmsPcrSelection(TpmAlgId.Sha1, [16]),
        ]);
        var quote = bed.Client.Quote(ak.Handle, nonce, selection);
        var pcrs = bed.Client.ReadPcrs(selection);
        bed.Client.FlushContext(ak.Handle);

        Assert.Equal(TpmsAttest.GeneratedValue, quote.Attest.Magic);
        Assert.Equal(2 + 32, quote.Attest.QualifiedSigner.Length);
        var good = QuoteVerifier.Verify(ak.Public, quote.AttestBytes, quote.SignatureBytes, nonce, true, pcrs);
        Assert.True(good.IsValid, good.Detail);

        File.WriteAllBytes(bed.PathOf("ak.pub"), [(byte)(ak.PublicBytes.Length >> 8), (byte)ak.PublicBytes.Length, .. ak.PublicBytes]);
        File.WriteAllBytes(bed.PathOf("q.msg"), quote.AttestBytes);
        File.WriteAllBytes(bed.PathOf("q.sig"), quote.SignatureBytes);
        File.WriteAllBytes(bed.PathOf("q.pcrs"), Tpm2ToolsPcrFile.Write(selection, pcrs));
        string[] check = ["-u", "ak.pub", "-m", "q.msg", "-s", "q.sig", "-f", "q.pcrs", "-g", "sha256", "-q", Convert.ToHexString(nonce)];
        if (kind == "rsapss")
        {
            // tpm2_checkquote 5.4 rejects genuine RSAPSS quotes from libtpms (it also fails on quotes made end to end
            // by tpm2-tools); OpenSSL with the salt length recovered from the signature is the oracle instead.
            Assert.NotEqual(0, bed.TryTool("tpm2_checkquote", check).ExitCode);
            using var rsa = ak.Public.ToRsa();
            File.WriteAllText(bed.PathOf("ak.pem"), rsa.ExportSubjectPublicKeyInfoPem());
            File.WriteAllBytes(bed.PathOf("q.rawsig"), quote.Signature.Signature);
            var openssl = bed.TryTool("openssl", "dgst", "-sha256", "-verify", "ak.pem", "-sigopt", "rsa_padding_mode:pss",
                "-sigopt", "rsa_pss_saltlen:auto", "-signature", "q.rawsig", "q.msg");
            Assert.True(openssl.ExitCode == 0, openssl.ToString());
            return;
        }

        bed.Tool("tpm2_checkquote", check);

        // Tampered message: both refuse.
        byte[] tampered = (byte[])quote.AttestBytes.Clone();
        tampered[^1] ^= 1;
        Assert.Equal(QuoteFailure.BadSignature, QuoteVerifier.Verify(ak.Public, tampered, quote.SignatureBytes, nonce, true, pcrs).Failure);
        File.WriteAllBytes(bed.PathOf("q.msg"), tampered);
        Assert.NotEqual(0, bed.TryTool("tpm2_checkquote", check).ExitCode);
        File.WriteAllBytes(bed.PathOf("q.msg"), quote.AttestBytes);

        // Wrong nonce: both refuse.
        byte[] otherNonce = RandomNumberGenerator.GetBytes(20);
        Assert.Equal(QuoteFailure.QualifyingDataMismatch, QuoteVerifier.Verify(ak.Public, quote.AttestBytes, quote.SignatureBytes, otherNonce, true, pcrs).Failure);
        Assert.NotEqual(0, bed.TryTool("tpm2_checkquote", [.. check[..^1], Convert.ToHexString(otherNonce)]).ExitCode);

        // Wrong PCR value: both refuse.
        var wrong = new Dictionary<(TpmAlgId, int), byte[]>(pcrs) { [(TpmAlgId.Sha256, 7)] = SHA256.HashData("other"u8) };
        Assert.Equal(QuoteFailure.PcrDigestMismatch, QuoteVerifier.Verify(ak.Public, quote.AttestBytes, quote.SignatureBytes, nonce, true, wrong).Failure);
        File.WriteAllBytes(bed.PathOf("q.pcrs"), Tpm2ToolsPcrFile.Write(selection, wrong));
        Assert.NotEqual(0, bed.TryTool("tpm2_checkquote", check).ExitCode);
    }

    [Fact]
    public void Quote_ByTpm2Tools_VerifiedByQuoteVerifierFromToolFiles()
    {
        using var bed = new TpmTestBed();
        bed.Tool("tpm2_createprimary", "-C", "o", "-G", "ecc256:ecdsa-sha256:null", "-a",
            "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign", "-c", "ak.ctx");
        bed.Tool("tpm2_readpublic", "-c", "ak.ctx", "-o", "ak.pub");
        bed.Tool("tpm2_quote", "-c", "ak.ctx", "-l", "sha256:0,1,2,3+sha1:4", "-q", "c0ffee", "-m", "q.msg", "-s", "q.sig", "-o", "q.pcrs", "-g", "sha256");
        var ak = TpmtPublic.ParseEither(File.ReadAllBytes(bed.PathOf("ak.pub")));
        var (selection, values) = Tpm2ToolsPcrFile.Parse(File.ReadAllBytes(bed.PathOf("q.pcrs")));
        Assert.Equal(5, selection.PcrCount);
        var result = QuoteVerifier.Verify(ak, File.ReadAllBytes(bed.PathOf("q.msg")), File.ReadAllBytes(bed.PathOf("q.sig")), [0xC0, 0xFF, 0xEE], true, values);
        Assert.True(result.IsValid, result.Detail);
    }

    [Fact]
    public void Certify_AkCertifiesStorageKey_SignatureAndNamesCheck()
    {
        using var bed = new TpmTestBed();
        var ak = bed.Client.CreatePrimary(TpmHandles.Owner, KeyTemplates.RsaAttestationKey());
        var srk = bed.Client.CreatePrimary(TpmHandles.Owner, KeyTemplates.EccStorageKey());
        var cert = bed.Client.Certify(srk.Handle, ak.Handle, "nonce"u8);
        Assert.Equal(TpmSt.AttestCertify, cert.Attest.Type);
        var info = Assert.IsType<TpmsCertifyInfo>(cert.Attest.Attested);
        Assert.Equal(srk.Name, info.Name);
        Assert.Equal(QuoteFailure.None, QuoteVerifier.CheckSignature(ak.Public, cert.AttestBytes, cert.Signature).Failure);
        // A certify is not a quote: the verifier says so rather than accepting it.
        Assert.Equal(QuoteFailure.NotAQuote, QuoteVerifier.Verify(ak.Public, cert.AttestBytes, cert.SignatureBytes, "nonce"u8, true, null).Failure);
    }
}
