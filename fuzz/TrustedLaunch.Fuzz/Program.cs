using SharpFuzz;
using TrustedLaunch.Fuzz;

// fuzz/run.sh drives this: `TrustedLaunch.Fuzz TARGET` under afl-fuzz, `--seeds` to build a target's starting
// corpus, `--replay` to run saved inputs once each (what the replay tests do through FuzzTarget.Execute).
if (args is ["--list"])
{
    foreach (FuzzTarget target in FuzzTargets.All)
        Console.WriteLine($"{target.Name}\t{target.Covers}");
    return 0;
}

if (args is ["--seeds", string seedTarget, string outputDirectory, string repositoryRoot, .. string[] extraFiles])
{
    if (FuzzTargets.Find(seedTarget) is null)
        return Usage($"unknown target '{seedTarget}'");
    int written = SeedCorpus.Write(seedTarget, outputDirectory, repositoryRoot, extraFiles);
    Console.WriteLine($"{written} seeds for {seedTarget} in {outputDirectory}");
    return written > 0 ? 0 : 1;
}

if (args is ["--replay", string replayTarget, .. string[] inputs])
{
    FuzzTarget? target = FuzzTargets.Find(replayTarget);
    if (target is null)
        return Usage($"unknown target '{replayTarget}'");
    foreach (string input in inputs)
        Console.WriteLine($"{(target.Execute(File.ReadAllBytes(input)) ? "accepted" : "refused")}\t{input}");
    return 0;
}

if (args is [string name])
{
    FuzzTarget? target = FuzzTargets.Find(name);
    if (target is null)
        return Usage($"unknown target '{name}'");
    // Persistent mode: one process runs every input AFL++ sends, so the runtime starts once, not per execution.
    // An untyped exception escapes Execute and SharpFuzz reports it to AFL++ as a crash.
    Fuzzer.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        target.Execute(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    });
    return 0;
}

return Usage(null);

static int Usage(string? problem)
{
    if (problem is not null)
        Console.Error.WriteLine($"TrustedLaunch.Fuzz: {problem}");
    Console.Error.WriteLine("usage: TrustedLaunch.Fuzz TARGET | --list | --seeds TARGET OUT REPO_ROOT [FILE...] | --replay TARGET FILE...");
    Console.Error.WriteLine($"targets: {string.Join(", ", FuzzTargets.All.Select(t => t.Name))}");
    return 2;
}
