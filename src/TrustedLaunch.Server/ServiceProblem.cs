namespace TrustedLaunch.Server;

/// <summary>
/// The <c>type</c> URIs of the service's <c>application/problem+json</c> bodies (RFC 9457 §3.1.1). An attestation
/// failure's type ends with the verifier's failure reason (<c>…/BaselineDeviation</c>), also given as <c>reason</c>.
/// </summary>
public static class ServiceProblem
{
    public const string TypePrefix = "urn:trustedlaunch:problem:";

    public const string UnknownVm = TypePrefix + "UnknownVm";
    public const string NonceRejected = TypePrefix + "NonceRejected";
    public const string RequestTooLarge = TypePrefix + "RequestTooLarge";
    public const string BadRequest = TypePrefix + "BadRequest";
    public const string StoreUnavailable = TypePrefix + "StoreUnavailable";
    public const string Internal = TypePrefix + "Internal";
    public const string UnknownPolicy = TypePrefix + "UnknownPolicy";
    public const string PolicyInvalid = TypePrefix + "PolicyInvalid";
    public const string PolicyInUse = TypePrefix + "PolicyInUse";
    public const string LocalCallersOnly = TypePrefix + "LocalCallersOnly";

    /// <summary>The type of a verifier failure reason, e.g. <c>urn:trustedlaunch:problem:QuoteInvalid</c>.</summary>
    public static string ForReason(string reason) => TypePrefix + reason;
}
