using System.Security.Cryptography.X509Certificates;

namespace TrustedLaunch.Portal.Data;

/// <summary>How the host serves the portal.</summary>
/// <param name="KeyDirectory">Where the data-protection key ring persists (antiforgery tokens, the sign-in cookie).</param>
/// <param name="KeyProtector">The certificate (with its private key) that encrypts the key ring at rest; null keeps it plain (tests of the pages alone).</param>
/// <param name="RequireSignIn">The service authenticates its callers (<c>--auth</c>): the portal asks who is there.</param>
public sealed record PortalOptions(string KeyDirectory, X509Certificate2? KeyProtector, bool RequireSignIn);
