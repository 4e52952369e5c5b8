namespace TrustedLaunch.Attestation.Tests.Fixtures;

/// <summary>The verifiers the tests use: one with caches, as <c>tl server</c> runs it, and one without, as the CLI does.</summary>
public static class Verifiers
{
    public static AttestationVerifier Cached { get; } = new(TimeProvider.System, new VerificationCaches());

    public static AttestationVerifier Uncached { get; } = new(TimeProvider.System);
}
