using TrustedLaunch.Testing;

namespace TrustedLaunch.Cli.Tests;

/// <summary>
/// Runs <c>tl</c> for a test. <see cref="InProcess"/> is the default: <see cref="TlCli.InvokeAsync"/> with captured
/// writers, the same code the executable runs. <see cref="Spawned"/> starts the built <c>tl.dll</c>, for the few
/// end-to-end tests that need a process of their own (signals, orphans); those are integration tests.
/// </summary>
internal static class TlRun
{
    /// <summary>The built executable beside the tests.</summary>
    public static string BinaryPath { get; } = Path.Combine(AppContext.BaseDirectory, "tl.dll");

    /// <summary>Runs <paramref name="args"/> in this process; stdout and stderr are captured as the binary would print them.</summary>
    public static ToolResult InProcess(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        // Off the test's synchronization context, so blocking on the command cannot deadlock it.
        int code = Task.Run(() => TlCli.InvokeAsync(args, stdout, stderr)).GetAwaiter().GetResult();
        return new ToolResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs the real binary (<c>dotnet tl.dll ARGS</c>).</summary>
    public static ToolResult Spawned(params string[] args) =>
        ExternalTool.Run("dotnet", [BinaryPath, .. args], timeout: TimeSpan.FromSeconds(120));
}
