namespace TrustedLaunch.Attestation;

/// <summary>Why a relying party must not accept an attestation token.</summary>
public enum AttestationTokenError
{
    /// <summary>Not a JWS compact serialisation of JSON objects (RFC 7515 §7.1), or over the size limit.</summary>
    Malformed,

    /// <summary><c>alg</c> is not ES256/RS256, is <c>none</c> or an HMAC, does not match the key, or <c>crit</c> is present.</summary>
    AlgorithmNotAllowed,

    /// <summary>No key of the key set has the token's <c>kid</c>.</summary>
    UnknownKey,

    /// <summary>The signature does not verify with the named key.</summary>
    SignatureInvalid,

    /// <summary><c>iss</c> is not the expected issuer.</summary>
    WrongIssuer,

    /// <summary><c>exp</c> has passed (or is missing).</summary>
    Expired,

    /// <summary><c>nbf</c> is in the future.</summary>
    NotYetValid,

    /// <summary>The token was issued for another VM (<c>x-ms-azurevm-vmid</c>).</summary>
    WrongVm,

    /// <summary>The JWK Set itself cannot be used.</summary>
    KeySetMalformed,
}

/// <summary>A token refused, with the typed reason a relying party can act on.</summary>
public sealed class AttestationTokenException : Exception
{
    public AttestationTokenException(AttestationTokenError error, string message)
        : base(message) => Error = error;

    public AttestationTokenException(AttestationTokenError error, string message, Exception inner)
        : base(message, inner) => Error = error;

    public AttestationTokenException()
    {
    }

    public AttestationTokenException(string message)
        : base(message)
    {
    }

    public AttestationTokenException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The reason.</summary>
    public AttestationTokenError Error { get; }
}
