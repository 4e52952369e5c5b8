using TrustedLaunch.Testing;

namespace TrustedLaunch.Fuzz.Tests;

/// <summary>
/// Replays the saved fuzzing corpus (fuzz/corpus/TARGET/: the minimised queue of the last runs and every crash or
/// hang they found) through each target's parser, so a parser change that brings back an untyped exception or a
/// hang fails ./test without fuzzing (docs/fuzzing.md).
/// </summary>
public sealed class CorpusReplayTests
{
    /// <summary>AFL++ counted 2 s as a hang (fuzz/run.sh); a test machine under load gets more before it is one.</summary>
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(20);

    private static string CorpusDirectory(string target) => Path.Combine(RepositoryPaths.RepositoryRoot, "fuzz", "corpus", target);

    public static TheoryData<string> Targets => new(FuzzTargets.All.Select(t => t.Name));

    public static TheoryData<string, string> SavedInputs
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (FuzzTarget target in FuzzTargets.All)
            {
                string directory = CorpusDirectory(target.Name);
                if (!Directory.Exists(directory))
                    continue;
                foreach (string file in Directory.EnumerateFiles(directory).Where(f => !Path.GetFileName(f).StartsWith("README", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
                    data.Add(target.Name, Path.GetFileName(file));
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void EveryTarget_HasASavedCorpus(string target)
    {
        string directory = CorpusDirectory(target);

        Assert.True(Directory.Exists(directory), $"fuzz/corpus/{target} is missing; fuzz/run.sh {target} SECONDS --save makes it");
        Assert.NotEmpty(Directory.EnumerateFiles(directory, "min-*"));
    }

    [Theory]
    [MemberData(nameof(SavedInputs))]
    public async Task SavedInput_IsAcceptedOrRefusedWithTheFormatsException(string target, string file)
    {
        FuzzTarget fuzzTarget = FuzzTargets.Find(target)!;
        byte[] input = await File.ReadAllBytesAsync(Path.Combine(CorpusDirectory(target), file));

        // Execute lets only the family's typed exceptions through as a refusal; anything else fails the test here.
        Task<bool> run = Task.Run(() => fuzzTarget.Execute(input));
        await run.WaitAsync(HangLimit);
    }
}
