using System.Text.Json.Nodes;

namespace TrustedLaunch.ArmTemplates;

/// <summary>
/// One resource a deployment will create or update: its id, type, name and api-version (evaluated when planned), its
/// condition, and the resources it waits for. Its body is evaluated when its turn comes (it may <c>reference()</c>
/// resources deployed before it).
/// </summary>
public sealed record PlannedResource
{
    public required string Id { get; init; }

    public required string Type { get; init; }

    /// <summary>The full name (<c>parent/child</c> for child resources).</summary>
    public required string Name { get; init; }

    public required string ApiVersion { get; init; }

    /// <summary>False when the resource's <c>condition</c> is false: it is skipped and its dependents go on.</summary>
    public required bool Condition { get; init; }

    /// <summary>Ids of the template's resources this one waits for.</summary>
    public required IReadOnlyList<string> DependsOn { get; init; }

    /// <summary>Where it is declared (<c>resources[3]</c>), for errors.</summary>
    public required string Target { get; init; }

    /// <summary>The copy loop that made it, if any, and its index in that loop.</summary>
    public string? CopyLoop { get; init; }

    public int CopyIndex { get; init; }

    internal JsonObject Declaration { get; init; } = [];

    /// <summary>The last segment of the name (the resource's own name).</summary>
    public string ShortName => Name[(Name.LastIndexOf('/') + 1)..];
}
