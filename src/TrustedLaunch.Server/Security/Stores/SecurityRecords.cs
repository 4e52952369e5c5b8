namespace TrustedLaunch.Server.Security.Stores;

/// <summary>A service principal: its ids (GUIDs, as Azure's object id and appId), one role at one scope, the hash of its secret.</summary>
public sealed record PrincipalRecord(Guid ObjectId, Guid AppId, string DisplayName, ServiceRole Role, string Scope, byte[] SecretHash, DateTimeOffset CreatedAt);

/// <summary>One audited request: who, what, when, from where, with what outcome.</summary>
public sealed record AuditEvent(long Id, DateTimeOffset At, string Caller, string CallerKind, string Method, string Path, int Status, string Outcome,
    string? RemoteAddress);

/// <summary>The principals (API keys) the service knows.</summary>
public interface IPrincipalStore
{
    Task AddAsync(PrincipalRecord principal, CancellationToken cancellationToken);

    /// <summary>The principal with this appId; read at every request, so a deletion takes effect at once (also on other replicas).</summary>
    Task<PrincipalRecord?> FindByAppIdAsync(Guid appId, CancellationToken cancellationToken);

    Task<IReadOnlyList<PrincipalRecord>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Deletes the principal whose object id or appId is <paramref name="id"/>; false when none.</summary>
    Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken);
}

/// <summary>Host enrollment: single-use join tokens and the client certificates issued against them.</summary>
public interface IHostCredentialStore
{
    Task AddJoinTokenAsync(byte[] tokenHash, string hostName, DateTimeOffset createdAt, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Spends a join token for <paramref name="hostName"/>: one conditional UPDATE, so a token enrolls at most one host once.</summary>
    Task<bool> SpendJoinTokenAsync(byte[] tokenHash, string hostName, DateTimeOffset now, CancellationToken cancellationToken);

    Task AddCertificateAsync(string serial, string hostName, DateTimeOffset issuedAt, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>The host a certificate serial was issued to, unless revoked; null when unknown or revoked.</summary>
    Task<string?> FindCertificateHostAsync(string serial, CancellationToken cancellationToken);

    /// <summary>Revokes every certificate of a host; the number revoked.</summary>
    Task<int> RevokeHostAsync(string hostName, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>The audit log: appended at every write and every refusal, read by Owners (<c>tl server audit list</c>, <c>GET /v1/audit</c>).</summary>
public interface IAuditLog
{
    Task AppendAsync(AuditEvent entry, CancellationToken cancellationToken);

    /// <summary>Newest first, at most <paramref name="limit"/>, optionally only those after <paramref name="since"/>.</summary>
    Task<IReadOnlyList<AuditEvent>> ListAsync(int limit, DateTimeOffset? since, CancellationToken cancellationToken);

    /// <summary>Deletes the events older than <paramref name="before"/> (the retention period's start); answers how many.</summary>
    Task<int> PurgeBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken);
}
