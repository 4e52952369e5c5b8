using System.Net;

namespace TrustedLaunch.Cli.Commands.Arm;

/// <summary>An ARM error answer (<c>{"error":{"code","message","target","details"}}</c>) or no answer at all (<see cref="Status"/> null).</summary>
internal sealed class ArmApiException : Exception
{
    public ArmApiException() { }

    public ArmApiException(string message) : base(message) { }

    public ArmApiException(string message, Exception innerException) : base(message, innerException) { }

    public ArmApiException(HttpStatusCode? status, string? code, string message, IReadOnlyList<string>? details = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Status = status;
        Code = code;
        Details = details ?? [];
    }

    public HttpStatusCode? Status { get; }

    /// <summary>ARM's error code (<c>ResourceGroupNotFound</c>, <c>TrustedLaunchImageNotSupported</c>, …).</summary>
    public string? Code { get; }

    /// <summary>Each entry of <c>details</c>, as <c>(Code) Message [target]</c>.</summary>
    public IReadOnlyList<string> Details { get; } = [];

    /// <summary>As az prints it: <c>(Code) Message</c>, then one line per detail.</summary>
    public string Describe() => Code is null
        ? Message
        : $"({Code}) {Message}{string.Concat(Details.Select(d => "\n  " + d))}";

    /// <summary>404/400/409/412: what was asked is wrong (2); no answer or 5xx: the environment (3).</summary>
    public ExitCode ExitCode => Status is HttpStatusCode s && (int)s < 500 ? ExitCode.BadInput : ExitCode.EnvironmentProblem;
}

/// <summary>A long-running operation ended Failed or Canceled: the VM did not get to what was asked (exit 1).</summary>
internal sealed class ArmOperationFailedException : Exception
{
    public ArmOperationFailedException() { }

    public ArmOperationFailedException(string message) : base(message) { }

    public ArmOperationFailedException(string message, Exception innerException) : base(message, innerException) { }
}
