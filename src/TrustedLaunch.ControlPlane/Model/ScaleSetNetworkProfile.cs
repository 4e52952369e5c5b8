namespace TrustedLaunch.ControlPlane.Model;

// The NICs of a flexible scale set's instances, as Azure's VirtualMachineScaleSetNetworkProfile spells them. Flexible
// orchestration makes one Microsoft.Network/networkInterfaces resource per configuration and instance, with the
// Microsoft.Network API version the model names. Members Azure has and the platform does not serve (dnsSettings,
// publicIPAddressConfiguration, load balancer pools, …) are accepted and neither stored nor echoed.

/// <summary><c>virtualMachineProfile.networkProfile</c>: the API version NICs are made with and their configurations.</summary>
public sealed record ScaleSetNetworkProfile
{
    /// <summary>Required with configurations under flexible orchestration: 2020-11-01 or later.</summary>
    public string? NetworkApiVersion { get; init; }

    public IReadOnlyList<ScaleSetNetworkConfiguration>? NetworkInterfaceConfigurations { get; init; }
}

/// <summary>One NIC every instance gets, named <c>{instance}-{name}</c>.</summary>
public sealed record ScaleSetNetworkConfiguration
{
    public string? Name { get; init; }

    public ScaleSetNetworkConfigurationProperties? Properties { get; init; }
}

public sealed record ScaleSetNetworkConfigurationProperties
{
    /// <summary>Which NIC is the instance's primary one (required with several configurations).</summary>
    public bool? Primary { get; init; }

    /// <summary>Delete (the default for flexible scale sets: the NIC goes with its instance) or Detach.</summary>
    public string? DeleteOption { get; init; }

    public bool? EnableAcceleratedNetworking { get; init; }

    /// <summary>The NSG the NIC is made with (its allowed TCP ports become host forwards).</summary>
    public SubResource? NetworkSecurityGroup { get; init; }

    public IReadOnlyList<ScaleSetIPConfiguration>? IpConfigurations { get; init; }
}

public sealed record ScaleSetIPConfiguration
{
    public string? Name { get; init; }

    public ScaleSetIPConfigurationProperties? Properties { get; init; }
}

public sealed record ScaleSetIPConfigurationProperties
{
    public bool? Primary { get; init; }

    /// <summary>The subnet the configuration's private IP is allocated from (from .4 up, as Azure does).</summary>
    public SubResource? Subnet { get; init; }
}
