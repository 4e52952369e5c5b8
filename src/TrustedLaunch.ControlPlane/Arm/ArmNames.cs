using System.Globalization;
using TrustedLaunch.ControlPlane.Catalogs;

namespace TrustedLaunch.ControlPlane.Arm;

/// <summary>
/// ARM's naming rules (learn.microsoft.com "Naming rules and restrictions for Azure resources") for the names this
/// control plane takes in paths and bodies. Each check returns null when the name is valid, else the refusal.
/// </summary>
public static class ArmNames
{
    public const int ResourceGroupMaxLength = 90;

    /// <summary>Linux VM names: 1-64 (Windows' limit of 15 applies to the computer name a Windows guest derives from it).</summary>
    public const int VirtualMachineMaxLength = 64;

    public const int MaxTags = 50;
    public const int TagNameMaxLength = 512;
    public const int TagValueMaxLength = 256;

    // Characters a VM name cannot contain (besides spaces and control characters); '.' is allowed inside a Linux name.
    private const string VmForbidden = "~!@#$%^&*()=+_[]{}\\|;:'\",<>/?";
    private const string TagNameForbidden = "<>%&\\?/";

    /// <summary>A subscription id is a GUID.</summary>
    public static ArmFailure? CheckSubscriptionId(string subscriptionId) =>
        Guid.TryParseExact(subscriptionId, "D", out _) ? null : ArmErrors.InvalidSubscriptionId(subscriptionId);

    /// <summary>1-90 letters, digits, '_', '-', '.', '(' or ')', not ending with '.'.</summary>
    public static ArmFailure? CheckResourceGroup(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > ResourceGroupMaxLength)
            return Invalid("InvalidResourceGroup",
                $"The resource group name '{name}' is invalid: it must have 1 to {ResourceGroupMaxLength} characters. See https://aka.ms/resource-groups-naming for more details.");
        string bad = new(name.Where(c => !(char.IsLetterOrDigit(c) || c is '_' or '-' or '.' or '(' or ')')).Distinct().ToArray());
        if (bad.Length > 0)
            return Invalid("InvalidResourceGroup",
                $"The provided resource group name '{name}' has these invalid characters: '{bad}'. The name can only be a letter, digit, '-', '.', '(', ')' or '_'. See https://aka.ms/resource-groups-naming for more details.");
        if (name.EndsWith('.'))
            return Invalid("InvalidResourceGroup",
                $"The resource group name '{name}' is invalid: it cannot end with a period. See https://aka.ms/resource-groups-naming for more details.");
        return null;
    }

    /// <summary>1-64 characters; no spaces, control characters or <c>~ ! @ # $ % ^ &amp; * ( ) = + _ [ ] { } \ | ; : ' " , &lt; &gt; / ?</c>; not ending with '.' or '-'.</summary>
    public static ArmFailure? CheckVirtualMachine(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        bool valid = name.Length is >= 1 and <= VirtualMachineMaxLength
            && !name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || VmForbidden.Contains(c, StringComparison.Ordinal))
            && !name.EndsWith('.') && !name.EndsWith('-');
        return valid
            ? null
            : Invalid("InvalidResourceName",
                $"The virtual machine name '{name}' is invalid. It must have 1 to {VirtualMachineMaxLength} characters, cannot contain spaces, control characters " +
                "or any of ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : ' \" , < > / ?, and cannot end with '.' or '-'.");
    }

    /// <summary>A snapshot (a Compute disk-RP name): 1-80 letters, digits, '_', '.' or '-', starting with a letter or digit, ending with one or '_'.</summary>
    public static ArmFailure? CheckSnapshot(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        bool valid = name.Length is >= 1 and <= 80 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')
            && char.IsAsciiLetterOrDigit(name[0]) && (char.IsAsciiLetterOrDigit(name[^1]) || name[^1] == '_');
        return valid
            ? null
            : Invalid("InvalidResourceName",
                $"The snapshot name '{name}' is invalid. It must have 1 to 80 characters: letters, digits, '_', '.' or '-', begin with a letter or digit, " +
                "and end with a letter, digit or '_'.");
    }

    /// <summary>A managed disk (the disk RP's rule, as for snapshots): 1-80 letters, digits, '_', '.' or '-'.</summary>
    public static ArmFailure? CheckDisk(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return CheckSnapshot(name) is null
            ? null
            : Invalid("InvalidResourceName",
                $"The disk name '{name}' is invalid. It must have 1 to 80 characters: letters, digits, '_', '.' or '-', begin with a letter or digit, " +
                "and end with a letter, digit or '_'.");
    }

    /// <summary>An image publisher, offer or SKU: 1-64 letters, digits, '-', '_' or '.'.</summary>
    public static bool IsImageSegment(string value) =>
        value.Length is >= 1 and <= 64 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>An image version: <c>Major.Minor.Build</c> (each 0..2147483647), or <c>latest</c> where a reference allows it.</summary>
    public static bool IsImageVersion(string value, bool allowLatest) =>
        (allowLatest && value.Equals("latest", StringComparison.OrdinalIgnoreCase)) || ImageVersion.TryParse(value, out _);

    /// <summary>A host name: 1-63 letters, digits, '-' or '.' (a DNS label or dotted name), starting with a letter or digit.</summary>
    public static bool IsHostName(string value) =>
        value.Length is >= 1 and <= 63 && char.IsAsciiLetterOrDigit(value[0]) && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.');

    /// <summary>ARM's tag limits: at most 50; names 1-512 characters without <c>&lt; &gt; % &amp; \ ? /</c> or control characters; values up to 256.</summary>
    public static IReadOnlyList<ArmErrorDetail> CheckTags(IReadOnlyDictionary<string, string>? tags)
    {
        if (tags is null)
            return [];
        var errors = new List<ArmErrorDetail>();
        if (tags.Count > MaxTags)
            errors.Add(Detail("InvalidTagsCount", $"The number of tags ({tags.Count.ToString(CultureInfo.InvariantCulture)}) exceeds the limit of {MaxTags}.", "tags"));
        foreach ((string name, string value) in tags)
        {
            if (name.Length is 0 or > TagNameMaxLength)
                errors.Add(Detail("InvalidTagNameLength", $"The tag name '{name}' must have 1 to {TagNameMaxLength} characters.", "tags"));
            else if (name.Any(c => char.IsControl(c) || TagNameForbidden.Contains(c, StringComparison.Ordinal)))
                errors.Add(Detail("InvalidTagNameCharacters",
                    $"The tag names '{name}' have reserved characters '<,>,%,&,\\,?,/' or control characters.", "tags"));
            if (value is null || value.Length > TagValueMaxLength)
                errors.Add(Detail("InvalidTagValueLength", $"The value of tag '{name}' must have at most {TagValueMaxLength} characters.", $"tags.{name}"));
        }

        return errors;
    }

    private static ArmFailure Invalid(string code, string message) => ArmErrors.Fail(ArmErrors.BadRequest, code, message);

    private static ArmErrorDetail Detail(string code, string message, string target) => new() { Code = code, Message = message, Target = target };
}
