namespace TrustedLaunch.Testing;

/// <summary>A clock that always reads <paramref name="now"/>: for checks of lifetimes and expiries at a chosen instant.</summary>
public sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
