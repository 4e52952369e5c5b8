using System.CommandLine;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Help;

/// <summary>
/// The <c>--help</c> of every command, compared with its golden file (Golden/README.md), so that a changed flag,
/// description or exit-code note shows up in review as a changed snapshot.
/// </summary>
public sealed class HelpSnapshotTests
{
    private static readonly string Golden = Path.Combine(RepositoryPaths.RepositoryRoot, "tests", "TrustedLaunch.Cli.Tests", "Help", "Golden");

    /// <summary>Every command path of the tree, the root first: [], [eventlog], [eventlog, replay], …</summary>
    public static TheoryData<string> CommandPaths => new(Paths(TlCli.CreateRoot(), []).Select(p => string.Join(' ', p)));

    [Theory]
    [MemberData(nameof(CommandPaths))]
    public void Help_MatchesGoldenFile(string path)
    {
        string[] command = path.Length == 0 ? [] : path.Split(' ');
        ToolResult help = TlRun.InProcess([.. command, "--help"]);
        Assert.True(help.ExitCode == 0, help.ToString());
        string file = Path.Combine(Golden, FileName(command));
        if (Environment.GetEnvironmentVariable("TL_UPDATE_GOLDEN") == "1")
            File.WriteAllText(file, help.StandardOutput);
        Assert.True(File.Exists(file), $"{file} is missing: run the tests with TL_UPDATE_GOLDEN=1 (Golden/README.md).");
        Assert.Equal(File.ReadAllText(file), help.StandardOutput);
    }

    [Fact]
    public void GoldenFiles_OneForEveryCommand()
    {
        var expected = Paths(TlCli.CreateRoot(), []).Select(FileName).Order(StringComparer.Ordinal);
        var present = Directory.EnumerateFiles(Golden, "*.txt").Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(expected, present);
    }

    private static string FileName(IReadOnlyList<string> command) => string.Join('-', ["tl", .. command]) + ".txt";

    private static IEnumerable<string[]> Paths(Command command, string[] prefix)
    {
        yield return prefix;
        foreach (Command sub in command.Subcommands)
        {
            foreach (string[] path in Paths(sub, [.. prefix, sub.Name]))
                yield return path;
        }
    }
}
