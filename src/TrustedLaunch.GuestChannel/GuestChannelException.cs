namespace TrustedLaunch.GuestChannel;

/// <summary>What was wrong with a frame or a message (docs/guest-channel.md, "Errors").</summary>
public enum GuestChannelError
{
    /// <summary>The stream ended inside a frame header or payload.</summary>
    Truncated,

    /// <summary>The length prefix exceeds <see cref="Framing.GuestFrame.MaxPayloadBytes"/>.</summary>
    Oversized,

    /// <summary>The length prefix is zero: no message is empty.</summary>
    EmptyFrame,

    /// <summary>The payload is not UTF-8 JSON with an object at its root.</summary>
    MalformedJson,

    /// <summary>The message has no <c>type</c>, or a type this version does not know.</summary>
    UnknownType,

    /// <summary>A field is missing, of the wrong JSON kind, or out of range.</summary>
    BadField,

    /// <summary>The other end closed the channel.</summary>
    ConnectionClosed,
}

/// <summary>A frame or message of the guest channel that cannot be read; the one exception family of this library.</summary>
public class GuestChannelException : Exception
{
    public GuestChannelException()
        : this(GuestChannelError.MalformedJson, "malformed guest channel message")
    {
    }

    public GuestChannelException(string message)
        : this(GuestChannelError.MalformedJson, message)
    {
    }

    public GuestChannelException(string message, Exception innerException)
        : this(GuestChannelError.MalformedJson, message, innerException)
    {
    }

    public GuestChannelException(GuestChannelError error, string message, Exception? innerException = null, long? messageId = null)
        : base(message, innerException)
    {
        Error = error;
        MessageId = messageId;
    }

    public GuestChannelError Error { get; }

    /// <summary>The <c>id</c> of the offending message when it could still be read (so an <c>error</c> reply can name it).</summary>
    public long? MessageId { get; }
}
