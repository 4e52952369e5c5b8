namespace TrustedLaunch.Attestation.Evidence;

/// <summary>An evidence bundle that is not well-formed; <see cref="Field"/> names the offending JSON field.</summary>
public sealed class EvidenceFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="field"/> (a JSON path such as <c>tpm.pcrs[0].values.7</c>).</summary>
    public EvidenceFormatException(string field, string message, Exception? innerException = null)
        : base($"Evidence field '{field}': {message}", innerException)
    {
        Field = field;
    }

    /// <inheritdoc />
    public EvidenceFormatException() : this("$", "malformed evidence")
    {
    }

    /// <inheritdoc />
    public EvidenceFormatException(string message) : this("$", message)
    {
    }

    /// <inheritdoc />
    public EvidenceFormatException(string message, Exception innerException) : this("$", message, innerException)
    {
    }

    /// <summary>The JSON path of the bad field, <c>$</c> for the document as a whole.</summary>
    public string Field { get; }
}
