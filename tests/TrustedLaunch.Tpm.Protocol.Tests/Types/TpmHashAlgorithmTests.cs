using System.Security.Cryptography;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Tpm.Protocol.Tests.Types;

public sealed class TpmHashAlgorithmTests
{
    // Lengths around every padding edge of the 64-byte (SHA-1/256) and 128-byte (SHA-384/512) blocks, PCR-extend
    // sizes (2 x digest) and large inputs (signature databases, firmware volumes).
    public static TheoryData<int> Lengths => [0, 1, 40, 55, 56, 63, 64, 65, 96, 111, 112, 119, 120, 127, 128, 129, 4096, 1_048_579];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Hash_AnyLength_IsTheDigestOfEveryBank(int length)
    {
        byte[] data = new byte[length];
        new Random(length).NextBytes(data);
        byte[] ours = new byte[64];
        foreach ((TpmAlgId alg, HashAlgorithmName name) in new[]
        {
            (TpmAlgId.Sha1, HashAlgorithmName.SHA1), (TpmAlgId.Sha256, HashAlgorithmName.SHA256),
            (TpmAlgId.Sha384, HashAlgorithmName.SHA384), (TpmAlgId.Sha512, HashAlgorithmName.SHA512),
        })
        {
            int written = TpmHashAlgorithm.Hash(alg, data, ours);
            Assert.Equal(TpmHashAlgorithm.DigestSize(alg), written);
            Assert.Equal(CryptographicOperations.HashData(name, data), ours[..written]);
        }
    }

    [Fact]
    public void Hash_DestinationTooSmall_ThrowsNamingTheSize()
    {
        byte[] small = new byte[31];
        var e = Assert.Throws<ArgumentException>(() => TpmHashAlgorithm.Hash(TpmAlgId.Sha256, "abc"u8, small));
        Assert.Contains("32", e.Message, StringComparison.Ordinal);
    }
}
