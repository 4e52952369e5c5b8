using System.Buffers.Binary;
using System.Security.Cryptography;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport.Tests;

namespace TrustedLaunch.Cli.Tests.Tpm;

/// <summary>
/// <c>tl tpm makecredential</c> with tpm2_makecredential's options: its file is read the way tpm2-tools writes it, and
/// a real TPM (swtpm) holding the EK recovers the secret through TPM2_ActivateCredential with the named AK loaded.
/// </summary>
public sealed class MakeCredentialCliTests
{
    [IntegrationTest]
    [Theory]
    [InlineData("rsa")]
    [InlineData("ecc")]
    public void MakeCredential_Tpm2ToolsOptions_ActivatedByTheTpm(string alg)
    {
        using var bed = new TpmTestBed();
        var ek = bed.CreateEk(alg == "rsa" ? EkTemplates.RsaL1 : EkTemplates.EccL2);
        var ak = bed.Client.CreatePrimary(TpmHandles.Owner, KeyTemplates.RsaAttestationKey());
        byte[] secret = RandomNumberGenerator.GetBytes(32);
        var pub = new TpmWriter();
        ek.Public.WriteSized(pub);
        File.WriteAllBytes(bed.PathOf("ek.pub"), pub.ToArray());
        File.WriteAllBytes(bed.PathOf("secret.bin"), secret);

        ToolResult run = TlRun.InProcess("tpm", "makecredential", "-T", "none", "-e", bed.PathOf("ek.pub"), "-s", bed.PathOf("secret.bin"),
            "-n", Convert.ToHexStringLower(ak.Name), "-o", bed.PathOf("cred.out"));

        Assert.True(run.ExitCode == 0, run.ToString());
        byte[] file = File.ReadAllBytes(bed.PathOf("cred.out"));
        Assert.Equal((0xBADCC0DEu, 1u), (BinaryPrimitives.ReadUInt32BigEndian(file), BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(4))));
        var reader = new TpmReader(file.AsSpan(8));
        byte[] blob = reader.ReadSized().ToArray();
        byte[] encryptedSecret = reader.ReadSized().ToArray();
        byte[] recovered = bed.Client.ActivateCredential(ak.Handle, ek.Handle, blob, encryptedSecret,
            keyAuth: TpmAuthorization.Policy(bed.StartEkPolicySession(), continueSession: false));
        Assert.Equal(secret, recovered);
    }

    [Theory]
    [InlineData("--tcti", "device:/dev/tpmrm0", "only 'none'")]
    [InlineData("--name", "not-hex", "is not hex")]
    [InlineData("--encryption-key", "/nonexistent/ek.pub", "does not exist")]
    public void MakeCredential_BadInput_Exits2NamingIt(string option, string value, string message)
    {
        string dir = RepositoryPaths.NewTempDirectory("tl-makecred");
        File.WriteAllBytes(Path.Combine(dir, "secret.bin"), new byte[16]);
        File.WriteAllBytes(Path.Combine(dir, "ek.pub"), [0, 1, 2]);
        var args = new List<string> { "tpm", "makecredential", "-e", Path.Combine(dir, "ek.pub"), "-s", Path.Combine(dir, "secret.bin"), "-n", "000b00", "-o", Path.Combine(dir, "cred.out") };
        int at = args.IndexOf(option is "--encryption-key" ? "-e" : option is "--name" ? "-n" : option);
        if (at >= 0)
            args[at + 1] = value;
        else
            args.AddRange([option, value]);

        ToolResult run = TlRun.InProcess([.. args]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir, "cred.out")));
    }
}
