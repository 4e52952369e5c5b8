using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests.Packaging;

/// <summary>
/// <c>systemd-analyze verify</c> over packaging/systemd/*.service as the checkout has them, without building or installing
/// the package (<see cref="DebianPackageTests"/> verifies the installed ones): in a throw-away root holding systemd's own
/// targets and the built <c>tl</c> at the units' <c>/usr/bin/tl</c>. systemd is not PID 1 here, so this checks the units'
/// syntax, settings and references, not a start. Skipped (returns) only where <c>systemd-analyze</c> is not installed.
/// </summary>
[IntegrationTest]
public sealed class SystemdUnitTests : IDisposable
{
    private const string SystemUnits = "/usr/lib/systemd/system";
    private readonly string _root = RepositoryPaths.NewTempDirectory("tl-units");

    [Fact]
    public void Verify_PackagedUnits_AcceptedWithoutAWarning()
    {
        if (ExternalTool.Find("systemd-analyze") is not string analyze)
            return;
        string[] units = Directory.GetFiles(Path.Combine(RepositoryPaths.RepositoryRoot, "packaging", "systemd"), "*.service");
        Assert.Equal(["trustedlaunch-host.service", "trustedlaunch-server.service"], units.Select(Path.GetFileName).Order(StringComparer.Ordinal));
        string unitFolder = PrepareRoot();
        foreach (string unit in units)
            File.Copy(unit, Path.Combine(unitFolder, Path.GetFileName(unit)));

        ToolResult verified = Verify(analyze, units.Select(Path.GetFileName)!);

        // systemd reports a setting it cannot parse as "…, ignoring" on stderr and still exits 0: both must be clean.
        Assert.True(verified.ExitCode == 0 && verified.StandardError.Length == 0, $"systemd-analyze verify: {verified}");
    }

    [Fact]
    public void Verify_UnitWithAnInvalidSetting_IsReported()
    {
        if (ExternalTool.Find("systemd-analyze") is not string analyze)
            return;
        string unitFolder = PrepareRoot();
        string text = File.ReadAllText(Path.Combine(RepositoryPaths.RepositoryRoot, "packaging", "systemd", "trustedlaunch-server.service"));
        Assert.Contains("NoNewPrivileges=yes", text, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(unitFolder, "trustedlaunch-server.service"), text.Replace("NoNewPrivileges=yes", "NoNewPrivileges=perhaps", StringComparison.Ordinal));

        ToolResult verified = Verify(analyze, ["trustedlaunch-server.service"]);

        // "trustedlaunch-server.service:42: Failed to parse boolean value, ignoring: perhaps" (and exit 0: hence the stderr check above).
        Assert.Contains("trustedlaunch-server.service:", verified.StandardError, StringComparison.Ordinal);
        Assert.Contains("ignoring: perhaps", verified.StandardError, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // The root: systemd's own targets (those ours are ordered against and pulled in by default) and the built tl where ExecStart= names it.
    private string PrepareRoot()
    {
        string unitFolder = Path.Combine(_root, "usr", "lib", "systemd", "system");
        Directory.CreateDirectory(unitFolder);
        foreach (string target in Directory.GetFiles(SystemUnits, "*.target").Where(t => new FileInfo(t).LinkTarget is null))
            File.Copy(target, Path.Combine(unitFolder, Path.GetFileName(target)));
        string bin = Path.Combine(_root, "usr", "bin");
        Directory.CreateDirectory(bin);
        string tl = Path.Combine(AppContext.BaseDirectory, "tl");
        Assert.True(File.Exists(tl), $"the built tl is not at {tl}");
        File.Copy(tl, Path.Combine(bin, "tl"));
        return unitFolder;
    }

    private ToolResult Verify(string analyze, IEnumerable<string> unitNames) =>
        ExternalTool.Run(analyze, ["verify", "--man=no", $"--root={_root}", .. unitNames], timeout: TimeSpan.FromMinutes(2));
}
