using System.Security.Cryptography;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Storage.Tests;

public sealed class SealedNonVolatileStoreTests
{
    private static readonly SealingKey Key = SealingKey.FromBytes(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
    private static readonly SealingKey OtherKey = SealingKey.FromBytes(new byte[32]);

    [Fact]
    public void Persist_ThenRestore_RoundTripsAndStoresNoPlaintext()
    {
        var inner = new EphemeralNonVolatileStore();
        var store = new SealedNonVolatileStore(inner, Key, "vtpm-state");
        byte[] secret = RandomNumberGenerator.GetBytes(500);
        store.Persist(secret);
        byte[] raw = inner.Restore()!;
        Assert.Equal(SealedNonVolatileStore.HeaderLength + 500 + SealedNonVolatileStore.TagLength, raw.Length);
        Assert.True(raw.AsSpan().IndexOf(secret.AsSpan(0, 16)) < 0);
        Assert.Equal(secret, store.Restore());
    }

    [Theory]
    [InlineData("flip ciphertext", 60, SealedBlobFailure.Tampered)]
    [InlineData("flip nonce", 33, SealedBlobFailure.Tampered)]
    [InlineData("flip reserved header", 13, SealedBlobFailure.Tampered)]
    [InlineData("flip key check", 20, SealedBlobFailure.WrongKey)]
    [InlineData("flip magic", 0, SealedBlobFailure.NotSealed)]
    [InlineData("flip version", 9, SealedBlobFailure.UnsupportedVersion)]
    public void Unseal_ModifiedByte_ReportsWhy(string label, int offset, SealedBlobFailure expected)
    {
        var store = new SealedNonVolatileStore(new EphemeralNonVolatileStore(), Key, "vtpm-state");
        byte[] blob = store.Seal(new byte[100]);
        blob[offset] ^= 0x40;
        var e = Assert.Throws<SealedBlobException>(() => store.Unseal(blob));
        Assert.True(expected == e.Failure, $"{label}: {e.Failure} {e.Message}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(47)]
    [InlineData(48)]
    [InlineData(163)]
    public void Unseal_Truncated_ReportsTruncated(int length)
    {
        var store = new SealedNonVolatileStore(new EphemeralNonVolatileStore(), Key, "vtpm-state");
        byte[] blob = store.Seal(new byte[100]);
        var e = Assert.Throws<SealedBlobException>(() => store.Unseal(blob.AsSpan(0, length)));
        Assert.Equal(length == 0 ? SealedBlobFailure.Truncated : SealedBlobFailure.Truncated, e.Failure);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unseal_TrailingBytes_ReportsTampered()
    {
        var store = new SealedNonVolatileStore(new EphemeralNonVolatileStore(), Key, "vtpm-state");
        byte[] blob = [.. store.Seal(new byte[10]), 0];
        Assert.Equal(SealedBlobFailure.Tampered, Assert.Throws<SealedBlobException>(() => store.Unseal(blob)).Failure);
    }

    [Fact]
    public void Unseal_OtherKey_ReportsWrongKey()
    {
        byte[] blob = new SealedNonVolatileStore(new EphemeralNonVolatileStore(), Key, "p").Seal(new byte[10]);
        var other = new SealedNonVolatileStore(new EphemeralNonVolatileStore(), OtherKey, "p");
        var e = Assert.Throws<SealedBlobException>(() => other.Unseal(blob));
        Assert.Equal(SealedBlobFailure.WrongKey, e.Failure);
        Assert.Contains("key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unseal_OtherPurpose_ReportsTampered()
    {
        byte[] blob = new SealedNonVolatileStore(new EphemeralNonVolatileStore(), Key, "uefi-vars").Seal(new byte[10]);
        var vtpm = new SealedNonVolatileStore(new EphemeralNonVolatileStore(), Key, "vtpm-state");
        Assert.Equal(SealedBlobFailure.Tampered, Assert.Throws<SealedBlobException>(() => vtpm.Unseal(blob)).Failure);
    }

    [Fact]
    public void Seal_SamePlaintextTwice_UsesFreshNonce()
    {
        var store = new SealedNonVolatileStore(new EphemeralNonVolatileStore(), Key, "p");
        Assert.NotEqual(store.Seal(new byte[10]), store.Seal(new byte[10]));
    }
}
