using System.Globalization;

namespace TrustedLaunch.ControlPlane.Rules;

public enum FactKind
{
    Null,
    Boolean,
    Number,
    Text,
}

/// <summary>A fact's value: absent (JSON null), a boolean, a number or a string.</summary>
public readonly record struct FactValue(FactKind Kind, bool Boolean = false, long Number = 0, string? Text = null)
{
    public static FactValue Null { get; } = new(FactKind.Null);

    public static FactValue Of(bool? value) => value is bool b ? new FactValue(FactKind.Boolean, Boolean: b) : Null;

    public static FactValue Of(string? value) => value is null ? Null : new FactValue(FactKind.Text, Text: value);

    public static FactValue Of(long? value) => value is long n ? new FactValue(FactKind.Number, Number: n) : Null;

    public override string ToString() => Kind switch
    {
        FactKind.Boolean => Boolean ? "true" : "false",
        FactKind.Number => Number.ToString(CultureInfo.InvariantCulture),
        FactKind.Text => Text!,
        _ => "null",
    };
}

/// <summary>One entry of a list fact: the property path it is about and a value for the message.</summary>
public sealed record FactLocation(string Location, string? Value = null);

/// <summary>
/// The facts the rules table is evaluated on, computed from a request, the VM it replaces (an update), the catalogs and
/// the defaults. Every name in <see cref="ScalarNames"/> and <see cref="ListNames"/> is always set, so a rule can
/// never silently test a fact that does not exist (<see cref="RuleTable"/> refuses unknown names at load).
/// </summary>
public sealed class VmFacts
{
    /// <summary>The scalar facts and what each means (docs/control-plane.md lists them).</summary>
    public static IReadOnlyDictionary<string, string> Scalars { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["operation"] = "create or update",
        ["request.securityType"] = "securityProfile.securityType as sent (canonical case), null when absent",
        ["request.securityType.valid"] = "the sent securityType is absent, TrustedLaunch, Standard or ConfidentialVM",
        ["request.secureBootEnabled"] = "uefiSettings.secureBootEnabled as sent (null when absent)",
        ["request.vTpmEnabled"] = "uefiSettings.vTpmEnabled as sent (null when absent)",
        ["securityType"] = "the effective security type after defaults: TrustedLaunch, Standard or what was sent",
        ["size.name"] = "hardwareProfile.vmSize as sent",
        ["size.found"] = "the size is in the size catalog",
        ["size.trustedLaunch"] = "the size supports Trusted Launch (null when not found)",
        ["image.kind"] = "platform (publisher/offer/sku/version), managedImage (id to Microsoft.Compute/images), otherImage (another id)",
        ["image.urn"] = "publisher:offer:sku:version as sent",
        ["image.id"] = "imageReference.id as sent",
        ["image.found"] = "a platform image reference names a registered image (null for an id)",
        ["image.trustedLaunchSupported"] = "the image is Gen2 (V2: UEFI, GPT + ESP) (null when not found)",
        ["osDisk.ephemeral"] = "osDisk.diffDiskSettings is present (an ephemeral OS disk)",
        ["nestedVirtualization"] = "trustedLaunchExtensions.nestedVirtualizationEnabled is true",
        ["extensions.secureBootTemplate"] = "trustedLaunchExtensions.secureBootTemplate as sent (null when absent)",
        ["extensions.secureBootTemplate.valid"] = "the template is absent, microsoft, microsoft-2023, microsoft-2011 or custom",
        ["extensions.customWithoutDb"] = "the template is custom and secureBootKeys.db is empty",
        ["extensions.attestationIntervalSeconds"] = "trustedLaunchExtensions.attestationIntervalSeconds as sent",
        ["extensions.attestationIntervalSeconds.valid"] = "the interval is absent or 10..86400",
        ["extensions.referencePolicy"] = "trustedLaunchExtensions.referencePolicy as sent",
        ["extensions.referencePolicy.found"] = "the named policy is stored (null when none is named)",
        ["extensions.trustedLaunchSettingsSent"] = "secureBootTemplate, secureBootKeys, attestationIntervalSeconds or referencePolicy was sent",
        ["previous.securityType"] = "the existing VM's security type (update; null on create)",
        ["change.securityType"] = "the update changes the security type",
        ["change.uefiSettings"] = "the update changes secureBootEnabled or vTpmEnabled",
        ["change.imageReference"] = "the update changes the image reference",
        ["change.vmSize"] = "the update changes the size",
        ["change.secureBootKeys"] = "the update changes secureBootTemplate or secureBootKeys",
        ["previous.deallocated"] = "the existing VM is deallocated (desired and, when placed, reported)",
    };

    /// <summary>The list facts: each entry is one offending property.</summary>
    public static IReadOnlyDictionary<string, string> Lists { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["sharedDisks"] = "data disks with maxShares greater than 1",
        ["ultraDisks"] = "disks with storageAccountType UltraSSD_LRS, and additionalCapabilities.ultraSSDEnabled when true",
        ["dedicatedHost"] = "properties.host and properties.hostGroup when present",
        ["invalidSecureBootKeys"] = "secureBootKeys entries that are not base64 DER certificates (dbx: or sha256:<hex>)",
    };

    public static IReadOnlySet<string> ScalarNames { get; } = new HashSet<string>(Scalars.Keys, StringComparer.Ordinal);

    public static IReadOnlySet<string> ListNames { get; } = new HashSet<string>(Lists.Keys, StringComparer.Ordinal);

    private readonly Dictionary<string, FactValue> _scalars = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<FactLocation>> _lists = new(StringComparer.Ordinal);

    /// <summary>Sets a scalar fact; the name must be one of <see cref="ScalarNames"/>.</summary>
    public VmFacts Set(string name, FactValue value)
    {
        if (!ScalarNames.Contains(name))
            throw new ArgumentException($"Unknown fact '{name}'.", nameof(name));
        _scalars[name] = value;
        return this;
    }

    public VmFacts Set(string name, bool? value) => Set(name, FactValue.Of(value));

    public VmFacts Set(string name, string? value) => Set(name, FactValue.Of(value));

    public VmFacts Set(string name, long? value) => Set(name, FactValue.Of(value));

    public VmFacts SetList(string name, IReadOnlyList<FactLocation> entries)
    {
        if (!ListNames.Contains(name))
            throw new ArgumentException($"Unknown list fact '{name}'.", nameof(name));
        _lists[name] = entries;
        return this;
    }

    public FactValue Get(string name) =>
        _scalars.TryGetValue(name, out FactValue value) ? value : throw new InvalidOperationException($"Fact '{name}' was not computed.");

    public IReadOnlyList<FactLocation> GetList(string name) =>
        _lists.TryGetValue(name, out IReadOnlyList<FactLocation>? value) ? value : throw new InvalidOperationException($"List fact '{name}' was not computed.");

    /// <summary>Names the builder left unset (a test keeps this empty).</summary>
    public IEnumerable<string> Missing() =>
        ScalarNames.Where(n => !_scalars.ContainsKey(n)).Concat(ListNames.Where(n => !_lists.ContainsKey(n)));
}
