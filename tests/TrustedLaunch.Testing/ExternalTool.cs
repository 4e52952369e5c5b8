using TrustedLaunch.HostSystem;
using TrustedLaunch.HostSystem.Processes;

namespace TrustedLaunch.Testing;

/// <summary>Runs real external programs (tpm2-tools, sbverify, openssl, qemu) as test peers and oracles.</summary>
public static class ExternalTool
{
    /// <summary>Full path of <paramref name="name"/> on PATH (or /usr/sbin, /usr/bin); throws with an install hint if missing.</summary>
    public static string Require(string name)
    {
        var path = Find(name);
        return path ?? throw new InvalidOperationException(
            $"Required tool '{name}' is not installed; run ./scripts/install-deps.sh (the test command does this).");
    }

    public static string? Find(string name) => ExecutableSearch.Find(name);

    /// <summary>Runs a program to completion (through the product's runner) and captures its output.</summary>
    public static ToolResult Run(string program, IEnumerable<string> arguments, string? workingDirectory = null,
        IDictionary<string, string>? environment = null, TimeSpan? timeout = null, byte[]? standardInput = null)
    {
        ProcessResult result = ExternalProcess.Run(program.Contains('/', StringComparison.Ordinal) ? program : Require(program), arguments,
            new ProcessRunOptions
            {
                WorkingDirectory = workingDirectory,
                Environment = environment?.AsReadOnly(),
                StandardInput = standardInput,
                Timeout = timeout ?? TimeSpan.FromMinutes(2),
            });
        return new ToolResult(result.ExitCode, result.StandardOutput, result.StandardError);
    }
}

/// <summary>Exit code and captured output of an external program.</summary>
public sealed record ToolResult(int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}";
}
