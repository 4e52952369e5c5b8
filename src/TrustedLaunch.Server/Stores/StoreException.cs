namespace TrustedLaunch.Server.Stores;

/// <summary>A store cannot be opened or used (unreadable file, schema from a newer version).</summary>
public sealed class StoreException : Exception
{
    public StoreException() { }

    public StoreException(string message) : base(message) { }

    public StoreException(string message, Exception innerException) : base(message, innerException) { }
}
