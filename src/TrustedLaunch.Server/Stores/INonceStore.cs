namespace TrustedLaunch.Server.Stores;

/// <summary>A challenge the service handed to one VM: single use, valid until <see cref="ExpiresAt"/>.</summary>
public sealed record IssuedNonce(Guid VmId, byte[] Value, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt);

/// <summary>What happened when evidence presented a nonce.</summary>
public enum NonceConsumption
{
    /// <summary>The nonce was issued to this VM, unexpired and unused; it is now spent.</summary>
    Consumed,

    /// <summary>The service never issued this nonce to this VM (or it was purged).</summary>
    Unknown,

    /// <summary>The nonce was already spent by an earlier attestation (a replay).</summary>
    AlreadyUsed,

    /// <summary>The nonce's lifetime ended before it was presented.</summary>
    Expired,
}

/// <summary>The outcome of presenting a nonce, and when it was issued (known when it was <see cref="NonceConsumption.Consumed"/>).</summary>
public readonly record struct NonceSpend(NonceConsumption Result, DateTimeOffset? IssuedAt);

/// <summary>
/// Persisted challenges, so that any replica can check a nonce another replica issued. Consumption is atomic: of
/// two concurrent attestations presenting one nonce, exactly one sees <see cref="NonceConsumption.Consumed"/>.
/// </summary>
public interface INonceStore
{
    Task AddAsync(IssuedNonce nonce, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="nonce"/> only if its VM is registered, deciding both in one statement; false (nothing
    /// stored) when the VM is not registered.
    /// </summary>
    Task<bool> AddForRegisteredVmAsync(IssuedNonce nonce, CancellationToken cancellationToken);

    /// <summary>Spends <paramref name="nonce"/> for <paramref name="vmId"/> if it is valid at <paramref name="now"/>.</summary>
    Task<NonceSpend> ConsumeAsync(Guid vmId, ReadOnlyMemory<byte> nonce, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Deletes nonces that expired before <paramref name="before"/>; returns how many.</summary>
    Task<int> PurgeExpiredAsync(DateTimeOffset before, CancellationToken cancellationToken);
}
