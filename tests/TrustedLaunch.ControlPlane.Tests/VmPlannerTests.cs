using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Rules;
using TrustedLaunch.ControlPlane.Services;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.ControlPlane.Tests;

/// <summary>Azure's defaults, the stored model and the facts, without HTTP (the HTTP tests send every rule's request).</summary>
public sealed class VmPlannerTests
{
    private static readonly ImageLookup Gen2 = new(ImageKind.Platform, "Debian:debian-12:12-gen2:latest", null, true, HyperVGeneration.V2, "1.0.0");
    private static readonly ImageLookup Gen1 = new(ImageKind.Platform, "Debian:debian-12:12:latest", null, true, HyperVGeneration.V1, "1.0.0");

    [Fact]
    public void Plan_NoSecurityProfileGen2ImageCapableSize_TrustedLaunchWithSecureBootAndVTpm()
    {
        VmPlan plan = Plan(Request(null));

        Assert.True(plan.Accepted);
        SecurityProfile security = plan.Model.Properties.SecurityProfile!;
        Assert.Equal("TrustedLaunch", security.SecurityType);
        Assert.Equal(new UefiSettings { SecureBootEnabled = true, VTpmEnabled = true }, security.UefiSettings);
        Assert.Equal(new TrustedLaunchExtensions
        {
            SecureBootTemplate = "microsoft", AttestationIntervalSeconds = 60, NestedVirtualizationEnabled = false,
        }, plan.Model.Properties.TrustedLaunchExtensions);
    }

    [Theory]
    [InlineData("gen1")]
    [InlineData("size")]
    [InlineData("ephemeral")]
    [InlineData("ultra")]
    [InlineData("nested")]
    public void Plan_NoSecurityTypeAndSomethingTrustedLaunchCannotDo_StandardWithoutSecurityProfile(string why)
    {
        VirtualMachineResource request = Request(null);
        VirtualMachineProperties p = request.Properties!;
        ImageLookup image = Gen2;
        switch (why)
        {
            case "gen1": image = Gen1; break;
            case "size": request = request with { Properties = p with { HardwareProfile = new HardwareProfile { VmSize = "Standard_A4_v2" } } }; break;
            case "ephemeral":
                request = request with { Properties = p with { StorageProfile = p.StorageProfile! with { OsDisk = new OSDisk { DiffDiskSettings = new DiffDiskSettings { Option = "Local" } } } } };
                break;
            case "ultra": request = request with { Properties = p with { AdditionalCapabilities = new AdditionalCapabilities { UltraSSDEnabled = true } } }; break;
            default: request = request with { Properties = p with { TrustedLaunchExtensions = new TrustedLaunchExtensions { NestedVirtualizationEnabled = true } } }; break;
        }

        VmPlan plan = Plan(request, image);

        Assert.True(plan.Accepted, string.Join("; ", plan.Violations.Select(v => v.Error.Code)));
        Assert.Equal("Standard", plan.SecurityType);
        Assert.Null(plan.Model.Properties.SecurityProfile);
    }

    [Theory]
    [InlineData("microsoft", "microsoft")]
    [InlineData("Microsoft-2023", "microsoft-2023")]
    [InlineData("microsoft-2011", "microsoft-2011")]
    public void Plan_MicrosoftTemplateNamed_AcceptedAndStoredInLowerCase(string sent, string stored)
    {
        VirtualMachineResource request = Request(new SecurityProfile { SecurityType = "TrustedLaunch" });
        request = request with { Properties = request.Properties! with { TrustedLaunchExtensions = new TrustedLaunchExtensions { SecureBootTemplate = sent } } };

        VmPlan plan = Plan(request);

        Assert.True(plan.Accepted, string.Join("; ", plan.Violations.Select(v => v.Error.Code)));
        Assert.Equal(stored, plan.Model.Properties.TrustedLaunchExtensions!.SecureBootTemplate);
    }

    [Fact]
    public void Plan_UnknownTemplate_InvalidSecureBootTemplateNamingEveryTemplate()
    {
        VirtualMachineResource request = Request(new SecurityProfile { SecurityType = "TrustedLaunch" });
        request = request with { Properties = request.Properties! with { TrustedLaunchExtensions = new TrustedLaunchExtensions { SecureBootTemplate = "microsoft-2026" } } };

        VmPlan plan = Plan(request);

        Assert.False(plan.Accepted);
        var error = Assert.Single(plan.Violations).Error;
        Assert.Equal("InvalidSecureBootTemplate", error.Code);
        Assert.All(VmPlanner.Templates, name => Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Plan_TrustedLaunchWithoutUefiSettings_BothOn()
    {
        VmPlan plan = Plan(Request(new SecurityProfile { SecurityType = "trustedlaunch" }));

        Assert.Equal("TrustedLaunch", plan.Model.Properties.SecurityProfile!.SecurityType);
        Assert.Equal(new UefiSettings { SecureBootEnabled = true, VTpmEnabled = true }, plan.Model.Properties.SecurityProfile.UefiSettings);
    }

    [Fact]
    public void Plan_TrustedLaunchSecureBootOff_Kept()
    {
        VmPlan plan = Plan(Request(new SecurityProfile
        {
            SecurityType = "TrustedLaunch", UefiSettings = new UefiSettings { SecureBootEnabled = false },
        }));

        Assert.Equal(new UefiSettings { SecureBootEnabled = false, VTpmEnabled = true }, plan.Model.Properties.SecurityProfile!.UefiSettings);
    }

    [Fact]
    public void Plan_UefiSettingsFalseWithoutType_StandardAndNoUefiSettings()
    {
        VmPlan plan = Plan(Request(new SecurityProfile { UefiSettings = new UefiSettings { SecureBootEnabled = false, VTpmEnabled = false } }));

        Assert.True(plan.Accepted);
        Assert.Null(plan.Model.Properties.SecurityProfile);
    }

    [Fact]
    public void Plan_StandardSent_StoredAsAbsent()
    {
        VmPlan plan = Plan(Request(new SecurityProfile { SecurityType = "Standard" }));

        Assert.True(plan.Accepted);
        Assert.Equal("Standard", plan.SecurityType);
        Assert.Null(plan.Model.Properties.SecurityProfile);
        Assert.Equal(new TrustedLaunchExtensions { NestedVirtualizationEnabled = false }, plan.Model.Properties.TrustedLaunchExtensions);
    }

    [Fact]
    public void Plan_Defaults_OsDiskAndComputerName()
    {
        VmPlan plan = Plan(Request(null));

        OSDisk disk = plan.Model.Properties.StorageProfile!.OsDisk!;
        Assert.Equal("FromImage", disk.CreateOption);
        Assert.Equal("Detach", disk.DeleteOption);
        Assert.StartsWith("vm1_OsDisk_1_", disk.Name, StringComparison.Ordinal);
        Assert.Equal("vm1", plan.Model.Properties.OSProfile!.ComputerName);
        Assert.Equal("1.0.0", plan.Model.Properties.StorageProfile.ImageReference!.ExactVersion);
    }

    [Fact]
    public void Plan_SeveralViolations_AllReported()
    {
        VirtualMachineResource request = Request(new SecurityProfile { SecurityType = "TrustedLaunch" });
        VirtualMachineProperties p = request.Properties!;
        request = request with
        {
            Properties = p with
            {
                HardwareProfile = new HardwareProfile { VmSize = "Standard_A4_v2" },
                Host = new SubResource { Id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/hostGroups/g/hosts/h" },
            },
        };

        VmPlan plan = Plan(request, Gen1);

        Assert.Equal(
            ["DedicatedHostResourceNotFound", "TrustedLaunchImageNotSupported", "TrustedLaunchVmSizeNotSupported", "DedicatedHostNotSupportedWithTrustedLaunch"],
            plan.Violations.Select(v => v.Error.Code));
        Assert.Equal("MultipleErrorsOccurred", plan.ToFailure().Error.Code);
        Assert.Equal(4, plan.ToFailure().Error.Details!.Count);
    }

    [Fact]
    public void Plan_UpdateWithoutSecurityProfile_KeepsTrustedLaunch()
    {
        VmPlan created = Plan(Request(null));
        VirtualMachineRecord previous = Record(created.Model, DesiredPowerState.Running);

        VmPlan update = Plan(Request(null) with { Tags = new Dictionary<string, string> { ["a"] = "b" } }, previous: previous, merge: true);

        Assert.True(update.Accepted);
        Assert.Equal("TrustedLaunch", update.Model.Properties.SecurityProfile!.SecurityType);
    }

    [Fact]
    public void FactsFor_CreateAndUpdate_EveryFactComputed()
    {
        VmPlan created = Plan(Request(null));

        Assert.Empty(VmPlanner.FactsFor(Input(Request(null), Gen2, null, merge: false)).Missing());
        Assert.Empty(VmPlanner.FactsFor(Input(Request(null), Gen2, Record(created.Model, DesiredPowerState.Deallocated), merge: true)).Missing());
    }

    [Fact]
    public void Plan_UpgradeDeallocatedStandardVm_TrustedLaunchWithAzuresDefaults_SecureBootOffVTpmOn()
    {
        VirtualMachineRecord standard = Deallocated(Plan(Request(new SecurityProfile { SecurityType = "Standard" })).Model);

        VmPlan upgrade = Plan(Request(new SecurityProfile { SecurityType = "TrustedLaunch" }), previous: standard, merge: true);
        VmPlan explicitly = Plan(Request(new SecurityProfile
        {
            SecurityType = "TrustedLaunch", UefiSettings = new UefiSettings { SecureBootEnabled = true, VTpmEnabled = true },
        }), previous: standard, merge: true);

        Assert.True(upgrade.Accepted, string.Join("; ", upgrade.Violations.Select(v => v.Rule.Code)));
        Assert.Equal(new UefiSettings { SecureBootEnabled = false, VTpmEnabled = true }, upgrade.Model.Properties.SecurityProfile!.UefiSettings);
        Assert.Equal("microsoft", upgrade.Model.Properties.TrustedLaunchExtensions!.SecureBootTemplate);
        Assert.True(explicitly.Accepted);
        Assert.Equal(new UefiSettings { SecureBootEnabled = true, VTpmEnabled = true }, explicitly.Model.Properties.SecurityProfile!.UefiSettings);
    }

    [Fact]
    public void Plan_ChangeSecurityTypeOfARunningVm_RefusedUntilDeallocated()
    {
        VirtualMachineRecord running = Record(Plan(Request(new SecurityProfile { SecurityType = "Standard" })).Model, DesiredPowerState.Running);

        VmPlan upgrade = Plan(Request(new SecurityProfile { SecurityType = "TrustedLaunch" }), previous: running, merge: true);

        Assert.Equal(["SecurityTypeChangeRequiresDeallocation"], upgrade.Violations.Select(v => v.Rule.Code));
        Assert.Equal(409, upgrade.ToFailure().StatusCode);
    }

    [Fact]
    public void Plan_UpgradeGen1Vm_RefusedWithTheReasonNotConverted()
    {
        VirtualMachineRecord gen1 = Deallocated(Plan(Request(new SecurityProfile { SecurityType = "Standard" }), Gen1).Model) with
        {
            Generation = HyperVGeneration.V1,
        };

        VmPlan upgrade = Plan(Request(new SecurityProfile { SecurityType = "TrustedLaunch" }), Gen1, previous: gen1, merge: true);

        Assert.Contains("TrustedLaunchUpgradeRequiresGen2", upgrade.Violations.Select(v => v.Rule.Code));
        string message = upgrade.Violations.Single(v => v.Rule.Code == "TrustedLaunchUpgradeRequiresGen2").Error.Message;
        Assert.Contains("GPT with an EFI System Partition", message, StringComparison.Ordinal);
        Assert.Contains("does not convert disks", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_RollbackDeallocatedTrustedLaunchVm_StandardWithoutSecurityProfile()
    {
        VirtualMachineRecord trustedLaunch = Deallocated(Plan(Request(null)).Model);

        VmPlan rollback = Plan(Request(new SecurityProfile { SecurityType = "Standard" }), previous: trustedLaunch, merge: true);

        Assert.True(rollback.Accepted, string.Join("; ", rollback.Violations.Select(v => v.Rule.Code)));
        Assert.Null(rollback.Model.Properties.SecurityProfile);
    }

    private static VirtualMachineRecord Deallocated(VirtualMachineModel model) =>
        Record(model, DesiredPowerState.Deallocated) with { ActualPower = PowerState.Deallocated };

    internal static VirtualMachineResource Request(SecurityProfile? security) => new()
    {
        Location = "westus",
        Properties = new VirtualMachineProperties
        {
            HardwareProfile = new HardwareProfile { VmSize = "Standard_D2s_v3" },
            StorageProfile = new StorageProfile
            {
                ImageReference = new ImageReference { Publisher = "Debian", Offer = "debian-12", Sku = "12-gen2", Version = "latest" },
            },
            SecurityProfile = security,
        },
    };

    private static VmPlan Plan(VirtualMachineResource request, ImageLookup? image = null, VirtualMachineRecord? previous = null, bool merge = false) =>
        VmPlanner.Plan(Input(request, image ?? Gen2, previous, merge), RuleTable.Default);

    private static VmPlanInput Input(VirtualMachineResource request, ImageLookup image, VirtualMachineRecord? previous, bool merge)
    {
        VirtualMachineResource merged = merge && previous is not null ? VirtualMachineMerge.Merge(previous, request) : request;
        return new VmPlanInput
        {
            Name = "vm1",
            VmId = Guid.NewGuid(),
            Request = merged,
            Sent = request,
            Previous = previous,
            PreviousSecurityType = previous?.Model.Properties.SecurityProfile?.SecurityType ?? (previous is null ? null : "Standard"),
            Size = SizeCatalog.Default.Find(merged.Properties!.HardwareProfile!.VmSize!),
            Image = image,
        };
    }

    private static VirtualMachineRecord Record(VirtualMachineModel model, DesiredPowerState power) => new()
    {
        SubscriptionId = Guid.NewGuid().ToString(), ResourceGroup = "rg", Name = "vm1", VmId = Guid.NewGuid(), Location = "westus", Version = 1,
        Model = model, ProvisioningState = ProvisioningState.Succeeded, DesiredPower = power, VCpus = 2, MemoryInMB = 8192,
        Generation = HyperVGeneration.V2, RestartGeneration = 0, TimeCreated = DateTimeOffset.UnixEpoch, HostName = "h1", ActualPower = PowerState.Running,
    };
}
