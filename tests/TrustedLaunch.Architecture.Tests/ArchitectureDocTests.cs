using System.Text.RegularExpressions;
using System.Xml.Linq;
using TrustedLaunch.Testing;

namespace TrustedLaunch.Architecture.Tests;

/// <summary>docs/architecture.md's project table says what the csproj files say: every project, every direct reference.</summary>
public partial class ArchitectureDocTests
{
    private const string Prefix = "TrustedLaunch.";

    // The names the table uses for packages and shared frameworks.
    private static readonly Dictionary<string, string> Packages = new(StringComparer.Ordinal)
    {
        ["Pkcs"] = "System.Security.Cryptography.Pkcs",
        ["System.IO.Hashing"] = "System.IO.Hashing",
        ["System.CommandLine"] = "System.CommandLine",
        ["SQLite"] = "Microsoft.Data.Sqlite",
        ["Npgsql"] = "Npgsql",
        ["ASP.NET Core"] = "Microsoft.AspNetCore.App",
        ["OpenApi"] = "Microsoft.AspNetCore.OpenApi",
        ["Logging.Abstractions"] = "Microsoft.Extensions.Logging.Abstractions",
        ["CloudEvents"] = "CloudNative.CloudEvents.SystemTextJson",
        ["Polly"] = "Polly.Core",
        ["OpenTelemetry.Extensions.Hosting"] = "OpenTelemetry.Extensions.Hosting",
        ["OpenTelemetry.Instrumentation.AspNetCore"] = "OpenTelemetry.Instrumentation.AspNetCore",
        ["OpenTelemetry.Instrumentation.Http"] = "OpenTelemetry.Instrumentation.Http",
        ["OpenTelemetry.Exporter.OpenTelemetryProtocol"] = "OpenTelemetry.Exporter.OpenTelemetryProtocol",
        ["OpenTelemetry.Exporter.Prometheus.AspNetCore"] = "OpenTelemetry.Exporter.Prometheus.AspNetCore",
        ["JwtBearer"] = "Microsoft.AspNetCore.Authentication.JwtBearer",
    };

    private static readonly Lazy<Dictionary<string, string>> Table = new(ReadTable);

    public static TheoryData<string> SourceProjects => new(ProjectNames());

    [Fact]
    public void Table_ListsEverySourceProjectAndNothingElse() =>
        Assert.Equal(ProjectNames(), Table.Value.Keys.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(SourceProjects))]
    public void DependsOn_IsTheCsprojsDirectReferences(string project)
    {
        Assert.True(Table.Value.TryGetValue(project, out string? cell), $"{project} has no row in docs/architecture.md");
        Assert.Equal(Documented(cell), Referenced(project));
    }

    private static IEnumerable<string> ProjectNames() =>
        Directory.EnumerateFiles(Path.Combine(RepositoryPaths.RepositoryRoot, "src"), "*.csproj", SearchOption.AllDirectories)
            .Select(p => Path.GetFileNameWithoutExtension(p)).Order(StringComparer.Ordinal);

    /// <summary>The cell's names, parentheses dropped, mapped to csproj names; "BCL" and "—" mean none.</summary>
    private static SortedSet<string> Documented(string cell)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string part in Parenthesis().Replace(cell, "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string name = part.Trim('`');
            if (name is "BCL" or "—")
                continue;
            names.Add(Packages.TryGetValue(name, out string? package) ? package : Prefix + name);
        }

        return names;
    }

    /// <summary>ProjectReference, PackageReference and FrameworkReference items of the project's csproj.</summary>
    private static SortedSet<string> Referenced(string project)
    {
        string path = Path.Combine(RepositoryPaths.RepositoryRoot, "src", project, project + ".csproj");
        var references = new SortedSet<string>(StringComparer.Ordinal);
        foreach (XElement item in XDocument.Load(path).Descendants())
        {
            string? include = item.Attribute("Include")?.Value;
            switch (item.Name.LocalName)
            {
                case "ProjectReference":
                    references.Add(Path.GetFileNameWithoutExtension(include!.Replace('\\', '/')));
                    break;
                case "PackageReference" or "FrameworkReference":
                    references.Add(include!);
                    break;
                default:
                    break;
            }
        }

        return references;
    }

    /// <summary>Project name → "depends on" cell of the table under "## Projects".</summary>
    private static Dictionary<string, string> ReadTable()
    {
        string[] lines = File.ReadAllLines(Path.Combine(RepositoryPaths.RepositoryRoot, "docs", "architecture.md"));
        int header = Array.FindIndex(lines, l => l.StartsWith("| project |", StringComparison.Ordinal));
        Assert.True(header >= 0, "docs/architecture.md has no project table");
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in lines.Skip(header + 2).TakeWhile(l => l.StartsWith('|')))
        {
            string[] cells = line.Trim('|').Split('|', StringSplitOptions.TrimEntries);
            Assert.True(cells.Length == 4, $"table row without 4 cells: {line}");
            rows.Add(cells[0].Trim('`'), cells[3]);
        }

        return rows;
    }

    [GeneratedRegex(@"\([^)]*\)")]
    private static partial Regex Parenthesis();
}
