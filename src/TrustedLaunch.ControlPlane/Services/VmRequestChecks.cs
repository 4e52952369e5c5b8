using System.Globalization;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;

namespace TrustedLaunch.ControlPlane.Services;

/// <summary>
/// The checks of a VM request's shape that come before the rules table: required members, allowed values, names.
/// Each failure is one ARM error detail (code InvalidParameter unless ARM has a more specific one).
/// </summary>
internal static class VmRequestChecks
{
    private static readonly string[] StorageAccountTypes =
        ["Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "UltraSSD_LRS", "Premium_ZRS", "StandardSSD_ZRS", "PremiumV2_LRS"];

    private const string ComputerNameForbidden = "`~!@#$%^&*()=+_[]{}\\|;:'\",<>/?";

    public static IReadOnlyList<ArmErrorDetail> Check(string name, VirtualMachineResource request)
    {
        var errors = new List<ArmErrorDetail>();
        if (string.IsNullOrWhiteSpace(request.Location))
            errors.Add(ArmErrors.LocationRequired().Error with { Target = "location" });
        if (request.Name is not null && !request.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            errors.Add(Invalid($"The name in the request body '{request.Name}' does not match the name in the URL '{name}'.", "name"));
        errors.AddRange(ArmNames.CheckTags(request.Tags));
        VirtualMachineProperties? properties = request.Properties;
        if (properties?.HardwareProfile?.VmSize is null)
            errors.Add(ArmErrors.MissingParameter("vmSize", "properties.hardwareProfile.vmSize").Error);
        CheckImage(properties?.StorageProfile?.ImageReference, errors);
        CheckOsDisk(properties?.StorageProfile?.OsDisk, errors);
        CheckDataDisks(properties?.StorageProfile?.DataDisks, errors);
        if (properties?.OSProfile?.ComputerName is string computerName && !IsComputerName(computerName))
            errors.Add(Invalid("Linux host name cannot exceed 64 characters in length or contain the following characters: ` ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : ' \" , < > / ?.",
                "properties.osProfile.computerName"));
        return errors;
    }

    private static void CheckImage(ImageReference? image, List<ArmErrorDetail> errors)
    {
        const string target = "properties.storageProfile.imageReference";
        if (image is null)
        {
            errors.Add(ArmErrors.MissingParameter("imageReference", target).Error);
            return;
        }

        bool platform = image.Publisher is not null || image.Offer is not null || image.Sku is not null || image.Version is not null;
        if (image.Id is not null && platform)
        {
            errors.Add(Invalid("The image reference names both an image resource (id) and a platform image (publisher, offer, sku, version); give one of them.", target));
            return;
        }

        if (image.Id is not null)
            return;
        foreach ((string member, string? value) in new[] { ("publisher", image.Publisher), ("offer", image.Offer), ("sku", image.Sku) })
        {
            if (value is null)
                errors.Add(ArmErrors.MissingParameter(member, $"{target}.{member}").Error);
            else if (!ArmNames.IsImageSegment(value))
                errors.Add(Invalid($"The image {member} '{value}' is not valid: 1 to 64 letters, digits, '-', '_' or '.'.", $"{target}.{member}"));
        }

        if (image.Version is string version && !ArmNames.IsImageVersion(version, allowLatest: true))
            errors.Add(Invalid($"The image version '{version}' is not valid: use Major.Minor.Build or 'latest'.", $"{target}.version"));
    }

    private static void CheckOsDisk(OSDisk? disk, List<ArmErrorDetail> errors)
    {
        const string target = "properties.storageProfile.osDisk";
        if (disk is null)
            return;
        if (disk.CreateOption is string create && create.Equals("Attach", StringComparison.OrdinalIgnoreCase))
        {
            if (!ResourceIds.TryParseCompute(disk.ManagedDisk?.Id, "snapshots", out _) && !ResourceIds.TryParseCompute(disk.ManagedDisk?.Id, "disks", out _))
                errors.Add(Invalid("createOption Attach needs managedDisk.id: the id of an Unattached disk (…/providers/Microsoft.Compute/disks/{name}) or of a " +
                    "snapshot (…/providers/Microsoft.Compute/snapshots/{name}) whose OS disk and guest state the VM starts from.", $"{target}.managedDisk.id"));
        }
        else if (disk.CreateOption is string other && !other.Equals("FromImage", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add(Invalid($"The OS disk createOption '{other}' is not supported: this platform creates OS disks FromImage, or Attach of a disk or a snapshot (managedDisk.id).", $"{target}.createOption"));
        }

        CheckDeleteOption(disk.DeleteOption, $"{target}.deleteOption", errors);
        CheckStorageType(disk.ManagedDisk?.StorageAccountType, $"{target}.managedDisk.storageAccountType", errors);
        if (disk.DiskSizeGB is < 1 or > 4095)
            errors.Add(Invalid("The OS disk size must be 1 to 4095 GB.", $"{target}.diskSizeGB"));
    }

    private static void CheckDataDisks(IReadOnlyList<DataDisk>? disks, List<ArmErrorDetail> errors)
    {
        if (disks is null)
            return;
        var luns = new HashSet<int>();
        for (int i = 0; i < disks.Count; i++)
        {
            string target = string.Create(CultureInfo.InvariantCulture, $"properties.storageProfile.dataDisks[{i}]");
            DataDisk? disk = disks[i];
            if (disk is null)
            {
                errors.Add(Invalid("A data disk entry is null.", target));
                continue;
            }

            if (disk.Lun is not int lun)
                errors.Add(ArmErrors.MissingParameter("lun", $"{target}.lun").Error);
            else if (lun is < 0 or > 63 || !luns.Add(lun))
                errors.Add(Invalid(string.Create(CultureInfo.InvariantCulture, $"The data disk lun {lun} is not valid: luns are 0 to 63 and unique within the VM."), $"{target}.lun"));
            string create = disk.CreateOption ?? "Empty";
            if (!create.Equals("Empty", StringComparison.OrdinalIgnoreCase))
                errors.Add(Invalid($"The data disk createOption '{create}' is not supported: this platform creates Empty data disks (there are no disk resources to Attach yet).", $"{target}.createOption"));
            if (disk.DiskSizeGB is not (>= 1 and <= 32_767))
                errors.Add(Invalid("An Empty data disk needs diskSizeGB, 1 to 32767.", $"{target}.diskSizeGB"));
            if (disk.MaxShares is < 1)
                errors.Add(Invalid("maxShares must be at least 1.", $"{target}.maxShares"));
            CheckDeleteOption(disk.DeleteOption, $"{target}.deleteOption", errors);
            CheckStorageType(disk.ManagedDisk?.StorageAccountType, $"{target}.managedDisk.storageAccountType", errors);
        }
    }

    private static void CheckDeleteOption(string? option, string target, List<ArmErrorDetail> errors)
    {
        if (option is not null && !option.Equals("Delete", StringComparison.OrdinalIgnoreCase) && !option.Equals("Detach", StringComparison.OrdinalIgnoreCase))
            errors.Add(Invalid($"The deleteOption '{option}' is not valid: use Delete or Detach.", target));
    }

    private static void CheckStorageType(string? type, string target, List<ArmErrorDetail> errors)
    {
        if (type is not null && !StorageAccountTypes.Contains(type, StringComparer.OrdinalIgnoreCase))
            errors.Add(Invalid($"The storage account type '{type}' is not valid: use one of {string.Join(", ", StorageAccountTypes)}.", target));
    }

    private static bool IsComputerName(string name) =>
        name.Length is >= 1 and <= 64 && !name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || ComputerNameForbidden.Contains(c, StringComparison.Ordinal));

    private static ArmErrorDetail Invalid(string message, string target) => new() { Code = "InvalidParameter", Message = message, Target = target };
}
