using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using TrustedLaunch.Testing;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;
using TrustedLaunch.VTpm.Identity;
using Xunit.Abstractions;

namespace TrustedLaunch.VTpm.Host.Tests;

/// <summary>
/// SIGKILL at random moments while a client writes NV, creates and evicts keys: after every kill the state
/// must open, the EK must be the same, and the NV index must hold the last acknowledged value or the one in
/// flight — never anything else. Four vTPMs are killed in parallel, 55 times each (220 kills).
/// </summary>
[IntegrationTest]
public sealed class DurabilityTests(ITestOutputHelper output)
{
    private const uint CounterIndex = 0x01500020;
    private const int ValueLength = 256;
    private const uint ScratchKey = 0x81000010;

    [Fact]
    public void SigkillDuringWrites_220Times_StateAlwaysOpensIdentityStableNvOldOrNew()
    {
        const int instances = 4;
        const int killsEach = 55;
        var clock = Stopwatch.StartNew();
        int[] acknowledgedWrites = new int[instances];
        Parallel.For(0, instances, new ParallelOptions { MaxDegreeOfParallelism = instances }, i =>
            acknowledgedWrites[i] = RunKillLoop($"vm-durable-{i}", killsEach, seed: i));
        output.WriteLine($"{instances * killsEach} kills, {acknowledgedWrites.Sum()} acknowledged NV writes, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(acknowledgedWrites.Sum() > instances * killsEach, "the workload must actually write between kills");
    }

    private static int RunKillLoop(string vmId, int kills, int seed)
    {
        ManufacturedVTpm vtpm = ManufacturedVTpm.Create(vmId);
        string ekName = vtpm.Identity.Key("ek-rsa2048").Name!;
        var random = new Random(seed);
        long acknowledged = -1; // sequence number of the last NV write the TPM confirmed
        int totalAcks = 0;
        for (int kill = 0; kill < kills; kill++)
        {
            using var server = TlVtpmServer.Start(vtpm); // throws (with tl-vtpm's message) if the state does not open
            long inFlight;
            using (TpmClient client = server.Client())
            {
                Assert.Equal(ekName, Convert.ToHexStringLower(client.ReadPublic(VTpmLayout.EkRsa.PersistentHandle).Name));
                if (kill == 0)
                {
                    client.NvDefineSpace(new TpmsNvPublic(CounterIndex, TpmAlgId.Sha256, TpmaNv.OwnerWrite | TpmaNv.OwnerRead, [], ValueLength));
                }
                else if (acknowledged >= 0 || ReadsWritten(client))
                {
                    long found = Decode(client.NvRead(CounterIndex, ValueLength, authHandle: TpmHandles.Owner));
                    Assert.True(found == acknowledged || found == acknowledged + 1,
                        $"{vmId} kill {kill}: NV holds value #{found}; acknowledged #{acknowledged}, in flight #{acknowledged + 1}");
                    acknowledged = found;
                }

                inFlight = acknowledged + 1;
                int delayMs = random.Next(2, 60);
                var workload = Task.Run(() =>
                {
                    try
                    {
                        for (long n = inFlight; ; n++)
                        {
                            client.NvWrite(CounterIndex, Encode(n), authHandle: TpmHandles.Owner);
                            Interlocked.Exchange(ref acknowledged, n);
                            Interlocked.Increment(ref totalAcks);
                            if (n % 7 == 0)
                                ChurnKey(client);
                        }
                    }
                    catch (Exception e) when (e is TpmTransportException or System.Net.Sockets.SocketException or IOException or TpmFormatException)
                    {
                        // the server was killed under us: expected
                    }
                });
                // Kill while writes are flowing: first let at least one write complete (a loaded machine can take longer
                // than the random delay just to start), then a random moment into the following ones.
                int before = Volatile.Read(ref totalAcks);
                var started = Stopwatch.StartNew();
                while (Volatile.Read(ref totalAcks) == before && !workload.IsCompleted && started.ElapsedMilliseconds < 3000)
                    Thread.Sleep(1);
                Thread.Sleep(delayMs);
                server.Kill();
                workload.Wait(TimeSpan.FromSeconds(10));
            }
        }

        // One last clean open to prove the final state too.
        using (var server = TlVtpmServer.Start(vtpm))
        using (TpmClient client = server.Client())
        {
            long found = Decode(client.NvRead(CounterIndex, ValueLength, authHandle: TpmHandles.Owner));
            Assert.True(found == acknowledged || found == acknowledged + 1, $"{vmId} final: #{found} vs acknowledged #{acknowledged}");
        }

        return totalAcks;
    }

    /// <summary>Persist and evict a small key: EvictControl rewrites NV just as NV_Write does.</summary>
    private static void ChurnKey(TpmClient client)
    {
        if (client.GetHandles(0x81000000).Contains(ScratchKey))
        {
            client.EvictControl(ScratchKey, ScratchKey);
            return;
        }

        CreatePrimaryResult key = client.CreatePrimary(TpmHandles.Owner, KeyTemplates.EccStorageKey());
        try
        {
            client.EvictControl(key.Handle, ScratchKey);
        }
        finally
        {
            client.FlushContext(key.Handle);
        }
    }

    private static bool ReadsWritten(TpmClient client) => (client.NvReadPublic(CounterIndex).Public.Attributes & TpmaNv.Written) != 0;

    /// <summary>A value that cannot be mistaken for garbage: sequence number, then SHA-256-derived filler checked on read.</summary>
    private static byte[] Encode(long sequence)
    {
        var value = new byte[ValueLength];
        BinaryPrimitives.WriteInt64BigEndian(value, sequence);
        Filler(sequence).CopyTo(value.AsSpan(8));
        return value;
    }

    private static long Decode(byte[] value)
    {
        long sequence = BinaryPrimitives.ReadInt64BigEndian(value);
        Assert.True(Filler(sequence).AsSpan().SequenceEqual(value.AsSpan(8)), $"NV value #{sequence} is garbage: {Convert.ToHexString(value)}");
        return sequence;
    }

    private static byte[] Filler(long sequence)
    {
        var filler = new byte[ValueLength - 8];
        for (int block = 0; block * 32 < filler.Length; block++)
        {
            byte[] digest = SHA256.HashData(BitConverter.GetBytes(sequence * 1000 + block));
            digest.AsSpan(0, Math.Min(32, filler.Length - block * 32)).CopyTo(filler.AsSpan(block * 32));
        }

        return filler;
    }
}
