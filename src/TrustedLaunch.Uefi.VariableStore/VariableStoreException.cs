namespace TrustedLaunch.Uefi.VariableStore;

/// <summary>An operation on a well-formed store cannot be done (store full, pending fault-tolerant write, bad variable).</summary>
public class VariableStoreException : Exception
{
    public VariableStoreException() { }

    public VariableStoreException(string message) : base(message) { }

    public VariableStoreException(string message, Exception innerException) : base(message, innerException) { }
}
