using System.Text;
using TrustedLaunch.Attestation;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Tests;

public sealed class BaselineCacheTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Get_SameStoredJson_SameParsedBaseline()
    {
        var cache = new BaselineCache();
        StoredBaseline stored = Stored(Guid.NewGuid(), "aa");

        AttestationBaseline first = cache.Get(stored);

        Assert.Same(first, cache.Get(stored with { BaselineJson = new StringBuilder(stored.BaselineJson).ToString() }));
    }

    [Fact]
    public void Get_StoredJsonChanged_ParsedAgain()
    {
        var cache = new BaselineCache();
        Guid vm = Guid.NewGuid();
        AttestationBaseline before = cache.Get(Stored(vm, "aa"));

        AttestationBaseline after = cache.Get(Stored(vm, "bb"));

        Assert.NotSame(before, after);
        Assert.Equal("bb", after.EarlyBoot[0]);
    }

    [Fact]
    public void Get_FleetOfOneGenerationCycled_EveryVmParsedOnce()
    {
        // A fleet the size of a generation, seen round after round as a replica sees it: after the first round every
        // attestation hits (the old cache cleared itself when full and missed on every attestation of a larger fleet).
        var cache = new BaselineCache(generationSize: 8);
        StoredBaseline[] fleet = [.. Enumerable.Range(0, 8).Select(i => Stored(Guid.NewGuid(), $"{i:x2}"))];
        AttestationBaseline[] first = [.. fleet.Select(cache.Get)];

        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < fleet.Length; i++)
                Assert.Same(first[i], cache.Get(fleet[i]));
        }
    }

    [Fact]
    public void Get_MoreVmsThanTwoGenerations_HoldsAtMostTwoGenerations()
    {
        var cache = new BaselineCache(generationSize: 4);

        for (int i = 0; i < 50; i++)
            cache.Get(Stored(Guid.NewGuid(), $"{i:x2}"));

        Assert.InRange(cache.Count, 1, 8);
    }

    [Fact]
    public void Get_VmInPreviousGeneration_HitAndKeptThroughTheNextRotation()
    {
        var cache = new BaselineCache(generationSize: 2);
        StoredBaseline kept = Stored(Guid.NewGuid(), "01");
        AttestationBaseline parsed = cache.Get(kept);
        cache.Get(Stored(Guid.NewGuid(), "02"));
        cache.Get(Stored(Guid.NewGuid(), "03")); // rotates: kept is in the previous generation

        Assert.Same(parsed, cache.Get(kept)); // moved forward
        cache.Get(Stored(Guid.NewGuid(), "04")); // rotates again: the generation kept was in is dropped

        Assert.Same(parsed, cache.Get(kept));
    }

    private static StoredBaseline Stored(Guid vm, string pcr0)
    {
        var baseline = new AttestationBaseline
        {
            VmId = vm,
            LearnedAt = T0,
            Bank = "sha256",
            EarlyBoot = new Dictionary<int, string> { [0] = pcr0 },
            LateBoot = new Dictionary<int, string>(),
            BootState = new AttestedBootState
            {
                Keys = new SecureBootKeys { Pk = [], Kek = [], Db = [] },
                Authorities = [],
                BootChain = [],
                GrubCommands = [],
                GrubFiles = [],
                ShimVariables = [],
                AttestedPcrs = [0],
                Pcrs = new Dictionary<string, IReadOnlyDictionary<int, string>>(),
                Anomalies = [],
            },
        };
        return new StoredBaseline(vm, Encoding.UTF8.GetString(baseline.ToJson()), T0, RelearnRequested: false, RelearnRequestedAt: null);
    }
}
