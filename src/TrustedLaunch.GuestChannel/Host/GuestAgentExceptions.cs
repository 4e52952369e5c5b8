namespace TrustedLaunch.GuestChannel.Host;

/// <summary>The agent did not answer in time, or the channel closed before it did (AttestationFailureReason.AgentUnresponsive).</summary>
public sealed class GuestAgentUnresponsiveException : GuestChannelException
{
    public GuestAgentUnresponsiveException()
        : this("The guest agent did not answer.")
    {
    }

    public GuestAgentUnresponsiveException(string message)
        : base(GuestChannelError.ConnectionClosed, message)
    {
    }

    public GuestAgentUnresponsiveException(string message, Exception innerException)
        : base(GuestChannelError.ConnectionClosed, message, innerException)
    {
    }
}

/// <summary>
/// Connections to the agent's port were made but the agent spoke on none of them within the deadline (it opens every
/// session with a heartbeat): no agent runs, or the guest's end of the port never saw the host arrive.
/// </summary>
public sealed class GuestAgentSilentException : GuestChannelException
{
    public GuestAgentSilentException()
        : this("The guest agent did not open its session.")
    {
    }

    public GuestAgentSilentException(string message)
        : base(GuestChannelError.ConnectionClosed, message)
    {
    }

    public GuestAgentSilentException(string message, Exception innerException)
        : base(GuestChannelError.ConnectionClosed, message, innerException)
    {
    }
}

/// <summary>The agent answered a request with an <c>error</c> message.</summary>
public sealed class GuestAgentErrorException : GuestChannelException
{
    public GuestAgentErrorException()
        : this("internal", "The guest agent reported an error.")
    {
    }

    public GuestAgentErrorException(string message)
        : this("internal", message)
    {
    }

    public GuestAgentErrorException(string message, Exception innerException)
        : base(GuestChannelError.BadField, message, innerException)
    {
        Code = "internal";
    }

    public GuestAgentErrorException(string code, string message)
        : base(GuestChannelError.BadField, $"The guest agent answered '{code}': {message}")
    {
        Code = code;
    }

    /// <summary>One of <see cref="Messages.GuestErrorCodes"/> (or a newer agent's code).</summary>
    public string Code { get; }
}
