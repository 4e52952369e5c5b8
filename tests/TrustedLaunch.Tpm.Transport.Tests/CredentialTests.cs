using System.Buffers.Binary;
using System.Security.Cryptography;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Crypto;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Transport.Tests;

/// <summary>MakeCredential in C# (and in tpm2-tools) activated by swtpm's ActivateCredential, RSA and ECC EKs.</summary>
[IntegrationTest]
public sealed class CredentialTests
{
    [Theory]
    [InlineData("rsa")]
    [InlineData("ecc")]
    public void MakeCredential_InCSharp_ActivatedByTpm(string alg)
    {
        using var bed = new TpmTestBed();
        var ek = bed.CreateEk(alg == "rsa" ? EkTemplates.RsaL1 : EkTemplates.EccL2);
        var ak = bed.Client.CreatePrimary(TpmHandles.Owner, KeyTemplates.RsaAttestationKey());
        byte[] secret = RandomNumberGenerator.GetBytes(32);

        var made = CredentialMaker.Make(ek.Public, secret, ak.Name);
        uint session = bed.StartEkPolicySession();
        byte[] recovered = bed.Client.ActivateCredential(ak.Handle, ek.Handle, made.CredentialBlob, made.Secret,
            keyAuth: TpmAuthorization.Policy(session, continueSession: false));
        Assert.Equal(secret, recovered);

        // Bound to the AK's Name: made for another Name, the TPM's integrity check refuses it.
        var wrongName = CredentialMaker.Make(ek.Public, secret, [.. ak.Name[..^1], (byte)(ak.Name[^1] ^ 1)]);
        session = bed.StartEkPolicySession();
        var e = Assert.Throws<TpmResponseException>(() => bed.Client.ActivateCredential(ak.Handle, ek.Handle, wrongName.CredentialBlob,
            wrongName.Secret, keyAuth: TpmAuthorization.Policy(session, continueSession: false)));
        Assert.Equal("TPM_RC_INTEGRITY", e.ResponseCode.Name);
        Assert.Equal(1, e.ResponseCode.ParameterNumber);
    }

    [Theory]
    [InlineData("rsa")]
    [InlineData("ecc")]
    public void MakeCredential_ByTpm2Tools_ActivatedThroughClient(string alg)
    {
        using var bed = new TpmTestBed();
        var ek = bed.CreateEk(alg == "rsa" ? EkTemplates.RsaL1 : EkTemplates.EccL2);
        var ak = bed.Client.CreatePrimary(TpmHandles.Owner, KeyTemplates.EccAttestationKey());
        byte[] secret = RandomNumberGenerator.GetBytes(16);
        var pub = new TpmWriter();
        ek.Public.WriteSized(pub);
        File.WriteAllBytes(bed.PathOf("ek.pub"), pub.ToArray());
        File.WriteAllBytes(bed.PathOf("secret.bin"), secret);
        var run = Testing.ExternalTool.Run("tpm2_makecredential", ["-T", "none", "-e", "ek.pub", "-s", "secret.bin", "-n",
            Convert.ToHexString(ak.Name).ToLowerInvariant(), "-o", "cred.out"], bed.Scratch);
        Assert.True(run.ExitCode == 0, run.ToString());

        // tpm2-tools credential file: magic 0xBADCC0DE, version 1, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET.
        byte[] file = File.ReadAllBytes(bed.PathOf("cred.out"));
        Assert.Equal(0xBADCC0DEu, BinaryPrimitives.ReadUInt32BigEndian(file));
        var reader = new TpmReader(file.AsSpan(8));
        byte[] blob = reader.ReadSized().ToArray();
        byte[] encSecret = reader.ReadSized().ToArray();

        uint session = bed.StartEkPolicySession();
        Assert.Equal(secret, bed.Client.ActivateCredential(ak.Handle, ek.Handle, blob, encSecret, keyAuth: TpmAuthorization.Policy(session, false)));

        // And the TPM's own MakeCredential, computed with the loaded EK, agrees on the format.
        var tpmMade = bed.Client.MakeCredential(ek.Handle, secret, ak.Name);
        session = bed.StartEkPolicySession();
        Assert.Equal(secret, bed.Client.ActivateCredential(ak.Handle, ek.Handle, tpmMade.CredentialBlob, tpmMade.Secret,
            keyAuth: TpmAuthorization.Policy(session, false)));
    }
}
