using System.Security.Cryptography;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.Vmgs.Tests;

internal static class TestKeys
{
    public static VmgsKeyEncryptionKey Random(string name = "test-kek") =>
        VmgsKeyEncryptionKey.FromBytes(RandomNumberGenerator.GetBytes(32), name);

    public static byte[] Payload(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
