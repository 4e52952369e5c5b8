namespace TrustedLaunch.Cli;

/// <summary>Exit codes of every <c>tl</c> command; automation relies on them (docs/cli.md).</summary>
public enum ExitCode
{
    /// <summary>The command did what was asked; any verification passed.</summary>
    Ok = 0,

    /// <summary>A verification ran and failed (PCR mismatch, bad quote, image denied, …).</summary>
    VerificationFailed = 1,

    /// <summary>Bad input or usage: malformed file, unknown option, missing argument.</summary>
    BadInput = 2,

    /// <summary>The environment is not fit: a tool, device, package or permission is missing.</summary>
    EnvironmentProblem = 3,
}

/// <summary>A failure with a clear message and the exit code it maps to; the runner prints it to stderr.</summary>
public sealed class CliException : Exception
{
    public CliException() : this(ExitCode.BadInput, "Command failed.") { }

    public CliException(string message) : this(ExitCode.BadInput, message) { }

    public CliException(string message, Exception innerException) : base(message, innerException) => Code = ExitCode.BadInput;

    public CliException(ExitCode code, string message, Exception? innerException = null) : base(message, innerException) => Code = code;

    public ExitCode Code { get; }
}
