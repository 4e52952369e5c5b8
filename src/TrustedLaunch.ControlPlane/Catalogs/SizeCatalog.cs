using TrustedLaunch.ControlPlane.Model;

namespace TrustedLaunch.ControlPlane.Catalogs;

/// <summary>One Azure VM size: what QEMU gets and whether Trusted Launch may use it.</summary>
public sealed record VmSize
{
    public required string Name { get; init; }

    /// <summary>The Azure series, e.g. <c>Dsv3</c>.</summary>
    public required string Series { get; init; }

    public required int VCpus { get; init; }

    public required int MemoryInMB { get; init; }

    /// <summary><c>V1,V2</c> or <c>V1</c>, as <c>az vm list-skus</c> reports <c>HyperVGenerations</c>.</summary>
    public required string HyperVGenerations { get; init; }

    public required bool TrustedLaunch { get; init; }
}

/// <summary>The sizes this platform serves, read from the embedded <c>Catalogs/vm-sizes.json</c>; names compare case-insensitively.</summary>
public sealed class SizeCatalog
{
    private readonly Dictionary<string, VmSize> _byName;

    public SizeCatalog(IReadOnlyList<VmSize> sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        Sizes = sizes;
        _byName = sizes.ToDictionary(s => s.Name, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The catalog shipped with the platform.</summary>
    public static SizeCatalog Default { get; } = Load();

    public IReadOnlyList<VmSize> Sizes { get; }

    public VmSize? Find(string name) => _byName.GetValueOrDefault(name);

    private static SizeCatalog Load()
    {
        using Stream stream = typeof(SizeCatalog).Assembly.GetManifestResourceStream("TrustedLaunch.ControlPlane.vm-sizes.json")
            ?? throw new InvalidOperationException("The embedded size catalog vm-sizes.json is missing from the assembly.");
        SizeCatalogDocument document = System.Text.Json.JsonSerializer.Deserialize(stream, ControlPlaneJson.Default.SizeCatalogDocument)
            ?? throw new InvalidOperationException("The embedded size catalog is empty.");
        return new SizeCatalog(document.Sizes);
    }
}

/// <summary>The shape of <c>vm-sizes.json</c>.</summary>
public sealed record SizeCatalogDocument
{
    public required string Description { get; init; }

    public required IReadOnlyList<VmSize> Sizes { get; init; }
}
