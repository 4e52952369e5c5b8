using System.Text.Json.Serialization;

namespace TrustedLaunch.HostAgent.Lifecycle;

/// <summary>
/// <c>snapshot.json</c>: what a snapshot folder holds and the SHA-256 of each file, so a restore or a copy uses exactly the
/// pair that was taken (a changed byte in either file is refused before anything is replaced).
/// </summary>
public sealed record SnapshotManifest
{
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;

    public required Guid SnapshotId { get; init; }

    /// <summary>The VM the pair was taken from; a restore goes back into this VM only.</summary>
    public required Guid SourceVmId { get; init; }

    public required DateTimeOffset TakenAt { get; init; }

    public required SnapshotFile Disk { get; init; }

    /// <summary>Null for a Generation 1 VM (no guest state).</summary>
    public SnapshotFile? Vmgs { get; init; }

    /// <summary>The VMGS header sequence at the instant of the snapshot (its commit count).</summary>
    public ulong? VmgsSequence { get; init; }
}

/// <summary>One file of a snapshot: its name in the folder, length and SHA-256 (lower-case hex).</summary>
public sealed record SnapshotFile(string Name, long Length, string Sha256);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(SnapshotManifest))]
internal sealed partial class SnapshotJson : JsonSerializerContext;
