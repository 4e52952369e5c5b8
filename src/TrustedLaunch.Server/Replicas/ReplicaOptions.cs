using System.Globalization;

namespace TrustedLaunch.Server.Replicas;

/// <summary>How this <c>tl server</c> process takes part among the replicas of one database (docs/scale-out.md).</summary>
public sealed record ReplicaOptions
{
    /// <summary>This replica's name in the lease table: host name, process id and a random suffix, unique per start.</summary>
    public string ReplicaId { get; init; } = string.Create(CultureInfo.InvariantCulture,
        $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}");

    /// <summary>
    /// How long a lease holds without renewal: a killed leader's work resumes on another replica within this time.
    /// Renewed every third of it, so two missed renewals in a row still keep it.
    /// </summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);
}
