using System.Globalization;
using System.Text.RegularExpressions;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Network;

namespace TrustedLaunch.ControlPlane.ScaleSets;

/// <summary>
/// The pure rules of a scale set model's <c>networkProfile</c> (flexible orchestration): the Microsoft.Network API
/// version NICs are made with, named configurations each with IP configurations on a subnet, one primary NIC, a valid
/// <c>deleteOption</c>; and the defaults Azure applies (a single configuration is primary, NICs go with their
/// instance). Whether the subnets and NSGs exist is <see cref="ScaleSetNetwork"/>'s check.
/// </summary>
public static partial class ScaleSetNetworkRules
{
    /// <summary>The first Microsoft.Network API version flexible orchestration makes NICs with.</summary>
    public const string FirstNetworkApiVersion = "2020-11-01";

    /// <summary>Azure's limit for a network interface's name.</summary>
    public const int NicNameMaxLength = 80;

    private const string Target = "properties.virtualMachineProfile.networkProfile";

    public static IReadOnlyList<ArmErrorDetail> Check(ScaleSetNetworkProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var errors = new List<ArmErrorDetail>();
        void Add(string code, string message, string target) => errors.Add(new ArmErrorDetail { Code = code, Message = message, Target = target });
        IReadOnlyList<ScaleSetNetworkConfiguration> configurations = profile.NetworkInterfaceConfigurations ?? [];
        if (configurations.Count == 0)
            return errors;
        if (profile.NetworkApiVersion is not string apiVersion)
            Add("InvalidParameter", "Required parameter 'networkApiVersion' is missing (null): a scale set with orchestration mode 'Flexible' makes its instances' network interfaces with it (2020-11-01 or later).", $"{Target}.networkApiVersion");
        else if (!DateOnly.TryParseExact(apiVersion, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out DateOnly date)
            || date < DateOnly.ParseExact(FirstNetworkApiVersion, "yyyy-MM-dd", CultureInfo.InvariantCulture))
            Add("InvalidParameter", $"The value '{apiVersion}' of networkApiVersion is not valid: use {FirstNetworkApiVersion} or later.", $"{Target}.networkApiVersion");

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < configurations.Count; i++)
        {
            string target = $"{Target}.networkInterfaceConfigurations[{i}]";
            ScaleSetNetworkConfiguration configuration = configurations[i];
            if (string.IsNullOrWhiteSpace(configuration.Name))
                Add("InvalidParameter", "Required parameter 'name' of a network interface configuration is missing (null).", $"{target}.name");
            else if (!names.Add(configuration.Name))
                Add("InvalidParameter", $"The network interface configuration name '{configuration.Name}' is used more than once.", $"{target}.name");
            else if (!NetworkName().IsMatch(configuration.Name))
                Add("InvalidParameter", $"The network interface configuration name '{configuration.Name}' is not valid: 1 to {NicNameMaxLength} letters, digits, '_', '.' or '-', starting with a letter or digit and ending with a letter, digit or '_'.", $"{target}.name");
            if (configuration.Properties?.DeleteOption is string option && !IsDeleteOption(option))
                Add("InvalidParameter", $"The value '{option}' of deleteOption is not valid: use {VmNetworkCheck.DeleteOptionDelete} or {VmNetworkCheck.DeleteOptionDetach}.", $"{target}.properties.deleteOption");
            IReadOnlyList<ScaleSetIPConfiguration> ipConfigurations = configuration.Properties?.IpConfigurations ?? [];
            if (ipConfigurations.Count == 0)
                Add("InvalidParameter", "Required parameter 'ipConfigurations' of a network interface configuration is missing (null): each NIC needs at least one IP configuration on a subnet.", $"{target}.properties.ipConfigurations");
            for (int j = 0; j < ipConfigurations.Count; j++)
            {
                string ipTarget = $"{target}.properties.ipConfigurations[{j}]";
                if (string.IsNullOrWhiteSpace(ipConfigurations[j].Name))
                    Add("InvalidParameter", "Required parameter 'name' of an IP configuration is missing (null).", $"{ipTarget}.name");
                if (ipConfigurations[j].Properties?.Subnet?.Id is null)
                    Add("InvalidParameter", "Required parameter 'subnet.id' of an IP configuration is missing (null).", $"{ipTarget}.properties.subnet.id");
            }

            if (ipConfigurations.Count > 1 && ipConfigurations.Count(c => c.Properties?.Primary == true) != 1)
                Add("InvalidParameter", $"Network interface configuration '{configuration.Name}' must have one IP configuration set as the primary.", $"{target}.properties.ipConfigurations");
        }

        if (configurations.Count > 1 && configurations.Count(c => c.Properties?.Primary == true) != 1)
            Add("VirtualMachineScaleSetMustHaveOneNetworkInterfaceConfigurationAsPrimary",
                "Virtual machine scale set must have one network interface configuration set as the primary.", $"{Target}.networkInterfaceConfigurations");
        return errors;
    }

    /// <summary>The profile as stored: a single configuration (and IP configuration) is primary; NICs go with their instance unless Detach was asked for.</summary>
    public static ScaleSetNetworkProfile? WithDefaults(ScaleSetNetworkProfile? profile)
    {
        if (profile?.NetworkInterfaceConfigurations is not { Count: > 0 } configurations)
            return null;
        return profile with
        {
            NetworkInterfaceConfigurations = [.. configurations.Select(c => c with
            {
                Properties = (c.Properties ?? new ScaleSetNetworkConfigurationProperties()) with
                {
                    Primary = configurations.Count == 1 || c.Properties?.Primary == true,
                    DeleteOption = string.Equals(c.Properties?.DeleteOption, VmNetworkCheck.DeleteOptionDetach, StringComparison.OrdinalIgnoreCase)
                        ? VmNetworkCheck.DeleteOptionDetach
                        : VmNetworkCheck.DeleteOptionDelete,
                    IpConfigurations = c.Properties?.IpConfigurations is { } ips
                        ? [.. ips.Select(ip => ip with { Properties = (ip.Properties ?? new ScaleSetIPConfigurationProperties()) with { Primary = ips.Count == 1 || ip.Properties?.Primary == true } })]
                        : null,
                },
            })],
        };
    }

    /// <summary>The NIC an instance gets for a configuration: <c>{instance}-{configuration}</c>.</summary>
    public static string NicName(string instanceName, string configurationName) => $"{instanceName}-{configurationName}";

    private static bool IsDeleteOption(string option) =>
        option.Equals(VmNetworkCheck.DeleteOptionDelete, StringComparison.OrdinalIgnoreCase) || option.Equals(VmNetworkCheck.DeleteOptionDetach, StringComparison.OrdinalIgnoreCase);

    // Azure's rule for network resource names (NICs are named after their configuration).
    [GeneratedRegex("^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$")]
    private static partial Regex NetworkName();
}
