using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.ScaleSets;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.ControlPlane.Tests.ScaleSets;

/// <summary>The scale set's own checks, the PATCH merge, the instance model, the moved targets and the scale-in choice, without HTTP.</summary>
public sealed class ScaleSetPlannerTests
{
    [Fact]
    public void Check_FlexibleWithSkuAndModel_NoError()
    {
        Assert.Empty(ScaleSetPlanner.Check(Request(), previous: null));
        Assert.Empty(ScaleSetPlanner.Check(Request() with { Properties = Request().Properties! with { OrchestrationMode = null } }, previous: null));
    }

    [Fact]
    public void Check_Uniform_RefusedWithTheReason()
    {
        VirtualMachineScaleSetResource uniform = Request() with { Properties = Request().Properties! with { OrchestrationMode = "uniform" } };

        ArmErrorDetail error = Assert.Single(ScaleSetPlanner.Check(uniform, previous: null));

        Assert.Equal(("OrchestrationModeNotSupported", "properties.orchestrationMode"), (error.Code, error.Target));
        Assert.StartsWith("Orchestration mode 'Uniform' is not offered on this platform", error.Message, StringComparison.Ordinal);
        Assert.Contains("own VM guest state, vTPM and endorsement key", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1L, 1, "sku.capacity")]
    [InlineData(1001L, 1, "sku.capacity")]
    [InlineData(null, 1, "sku.capacity")]
    [InlineData(2L, 4, "properties.platformFaultDomainCount")]
    [InlineData(2L, 0, "properties.platformFaultDomainCount")]
    public void Check_BadCapacityOrFaultDomains_NamesTheMember(long? capacity, int faultDomains, string target)
    {
        VirtualMachineScaleSetResource request = Request(capacity) with { Properties = Request().Properties! with { PlatformFaultDomainCount = faultDomains } };

        ArmErrorDetail error = Assert.Single(ScaleSetPlanner.Check(request, previous: null));

        Assert.Equal(target, error.Target);
    }

    [Fact]
    public void Check_NoSizeNoModelOsDiskName_EachNamed()
    {
        VirtualMachineScaleSetResource noModel = Request() with
        {
            Sku = new ScaleSetSku { Capacity = 1 },
            Properties = Request().Properties! with { VirtualMachineProfile = null },
        };
        VirtualMachineScaleSetResource namedDisk = Request() with
        {
            Properties = Request().Properties! with
            {
                VirtualMachineProfile = Profile() with { StorageProfile = Profile().StorageProfile! with { OsDisk = new OSDisk { Name = "shared" } } },
            },
        };

        Assert.Equal(["sku.name", "properties.virtualMachineProfile"], ScaleSetPlanner.Check(noModel, null).Select(e => e.Target));
        Assert.Equal("properties.virtualMachineProfile.storageProfile.osDisk.name", Assert.Single(ScaleSetPlanner.Check(namedDisk, null)).Target);
    }

    [Fact]
    public void Check_FaultDomainChange_Refused()
    {
        VirtualMachineScaleSetRecord previous = Record(Request());
        VirtualMachineScaleSetResource merged = ScaleSetPlanner.Merge(previous, new VirtualMachineScaleSetResource
        {
            Properties = new VirtualMachineScaleSetProperties { PlatformFaultDomainCount = 2 },
        });

        ArmErrorDetail error = Assert.Single(ScaleSetPlanner.Check(merged, previous));

        Assert.Equal(("PropertyChangeNotAllowed", "Changing property 'platformFaultDomainCount' is not allowed."), (error.Code, error.Message));
    }

    [Fact]
    public void Merge_CapacityOnly_KeepsEverythingElse()
    {
        VirtualMachineScaleSetRecord previous = Record(Request() with { Tags = new Dictionary<string, string> { ["env"] = "prod" } });

        VirtualMachineScaleSetResource merged = ScaleSetPlanner.Merge(previous, new VirtualMachineScaleSetResource { Sku = new ScaleSetSku { Capacity = 7 } });

        Assert.Equal(new ScaleSetSku { Name = "Standard_B2s", Capacity = 7 }, merged.Sku);
        Assert.Equal("prod", merged.Tags!["env"]);
        Assert.Equal("westus", merged.Location);
        Assert.Same(previous.Model.Properties!.VirtualMachineProfile, merged.Properties!.VirtualMachineProfile);
        Assert.Equal(1, merged.Properties.PlatformFaultDomainCount);
    }

    [Fact]
    public void InstanceModel_IsTheModelsVmWithItsOwnNameAndDisk()
    {
        VirtualMachineResource vm = ScaleSetPlanner.InstanceModel(Request(), "westus", "web_ss", "0a1b2c3d");

        VirtualMachineProperties p = vm.Properties!;
        Assert.Equal("Standard_B2s", p.HardwareProfile!.VmSize);
        Assert.Equal("TrustedLaunch", p.SecurityProfile!.SecurityType);
        Assert.Equal(new UefiSettings { SecureBootEnabled = true, VTpmEnabled = true }, p.SecurityProfile.UefiSettings);
        Assert.Equal("webss0a1b2c3d", p.OSProfile!.ComputerName);
        Assert.Null(p.StorageProfile!.OsDisk!.Name);
        Assert.Equal("Delete", p.StorageProfile.OsDisk.DeleteOption);
        Assert.Equal("debian-12", p.StorageProfile.ImageReference!.Offer);
        Assert.Null(p.VirtualMachineScaleSet); // the VM service sets it, for the scale set only
    }

    [Fact]
    public void InstanceModel_PrefixAndDeleteOptionFromTheModel()
    {
        VirtualMachineScaleSetResource request = Request() with
        {
            Properties = Request().Properties! with
            {
                VirtualMachineProfile = Profile() with
                {
                    OSProfile = new ScaleSetOSProfile { ComputerNamePrefix = "node-", AdminUsername = "azureuser" },
                    StorageProfile = Profile().StorageProfile! with { OsDisk = new OSDisk { DeleteOption = "Detach" } },
                },
            },
        };

        VirtualMachineProperties p = ScaleSetPlanner.InstanceModel(request, "westus", "ss", "ffff0000").Properties!;

        Assert.Equal(("node-ffff0000", "azureuser"), (p.OSProfile!.ComputerName, p.OSProfile.AdminUsername));
        Assert.Equal("Detach", p.StorageProfile!.OsDisk!.DeleteOption);
    }

    [Theory]
    [InlineData("properties.hardwareProfile.vmSize", "sku.name")]
    [InlineData("properties.securityProfile.securityType", "properties.virtualMachineProfile.securityProfile.securityType")]
    [InlineData("properties.osProfile.computerName", "properties.virtualMachineProfile.osProfile.computerNamePrefix")]
    [InlineData("location", "location")]
    public void ForScaleSet_MovesTargetsToTheModel(string vmTarget, string scaleSetTarget)
    {
        var detail = new ArmErrorDetail { Code = "X", Message = "m", Target = vmTarget };

        ArmFailure moved = ScaleSetPlanner.ForScaleSet(ArmFailure.FromViolations(400, [detail]));

        Assert.Equal(scaleSetTarget, moved.Error.Target);
        Assert.Equal(scaleSetTarget, Assert.Single(moved.Error.Details!).Target);
    }

    [Fact]
    public void ScaleInVictims_NewestFirst_OnlyTheExcess()
    {
        DateTimeOffset t0 = DateTimeOffset.UnixEpoch;
        VirtualMachineRecord[] instances = [Vm("ss_a", t0), Vm("ss_b", t0.AddMinutes(2)), Vm("ss_c", t0.AddMinutes(1))];

        Assert.Equal(["ss_b", "ss_c"], ScaleSetPlanner.ScaleInVictims(instances, 1).Select(v => v.Name));
        Assert.Empty(ScaleSetPlanner.ScaleInVictims(instances, 3));
        Assert.Empty(ScaleSetPlanner.ScaleInVictims(instances, 5));
    }

    [Fact]
    public void CheckName_LeavesRoomForTheInstanceSuffix()
    {
        Assert.Null(ScaleSetPlanner.CheckName(new string('a', ScaleSetPlanner.NameMaxLength)));
        ArmFailure tooLong = ScaleSetPlanner.CheckName(new string('a', ScaleSetPlanner.NameMaxLength + 1))!;
        Assert.Equal(("InvalidParameter", "name"), (tooLong.Error.Code, tooLong.Error.Target));
        Assert.Contains("virtual machine scale set name", ScaleSetPlanner.CheckName("bad name")!.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResourceIds_ScaleSetIdRoundTrips_OtherIdsDoNot()
    {
        string id = ResourceIds.VirtualMachineScaleSet("sub", "RG", "web");

        Assert.True(ResourceIds.TryParseScaleSet(id.ToLowerInvariant(), out var parsed));
        Assert.Equal(("sub", "rg", "web"), parsed);
        Assert.False(ResourceIds.TryParseScaleSet(ResourceIds.VirtualMachine("sub", "rg", "web"), out _));
        Assert.False(ResourceIds.TryParseScaleSet(null, out _));
    }

    private static VirtualMachineScaleSetVMProfile Profile() => new()
    {
        StorageProfile = new StorageProfile
        {
            ImageReference = new ImageReference { Publisher = "Debian", Offer = "debian-12", Sku = "12-gen2", Version = "latest" },
        },
        SecurityProfile = new SecurityProfile
        {
            SecurityType = "TrustedLaunch",
            UefiSettings = new UefiSettings { SecureBootEnabled = true, VTpmEnabled = true },
        },
    };

    private static VirtualMachineScaleSetResource Request(long? capacity = 3) => new()
    {
        Location = "westus",
        Sku = new ScaleSetSku { Name = "Standard_B2s", Capacity = capacity },
        Properties = new VirtualMachineScaleSetProperties { OrchestrationMode = "Flexible", PlatformFaultDomainCount = 1, VirtualMachineProfile = Profile() },
    };

    private static VirtualMachineScaleSetRecord Record(VirtualMachineScaleSetResource model) => new()
    {
        SubscriptionId = "sub",
        ResourceGroup = "rg",
        Name = "ss",
        UniqueId = Guid.NewGuid(),
        Location = "westus",
        Version = 1,
        Model = model,
        ProvisioningState = ProvisioningState.Succeeded,
        TimeCreated = DateTimeOffset.UnixEpoch,
    };

    private static VirtualMachineRecord Vm(string name, DateTimeOffset created) => new()
    {
        SubscriptionId = "sub",
        ResourceGroup = "rg",
        Name = name,
        VmId = Guid.NewGuid(),
        Location = "westus",
        Version = 1,
        Model = new VirtualMachineModel { Properties = new VirtualMachineProperties() },
        ProvisioningState = ProvisioningState.Succeeded,
        DesiredPower = DesiredPowerState.Running,
        VCpus = 1,
        MemoryInMB = 1024,
        Generation = Catalogs.HyperVGeneration.V2,
        RestartGeneration = 0,
        TimeCreated = created,
    };
}
