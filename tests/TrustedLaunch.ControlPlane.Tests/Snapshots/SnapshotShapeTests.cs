using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Snapshots;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.ControlPlane.Tests.Snapshots;

/// <summary>Microsoft.Compute/snapshots shapes: names, the request checks, ids, the view (Azure's fields, Standard without a security type).</summary>
public sealed class SnapshotShapeTests
{
    [Theory]
    [InlineData("snap1", true)]
    [InlineData("a", true)]
    [InlineData("web_1.snap-2026_", true)]
    [InlineData("-snap", false)]
    [InlineData("snap.", false)]
    [InlineData("snap 1", false)]
    [InlineData("", false)]
    public void Names_AsTheDiskResourceProviderAllows(string name, bool valid)
    {
        ArmFailure? failure = ArmNames.CheckSnapshot(name);
        Assert.Equal(valid, failure is null);
        if (!valid)
            Assert.Equal("InvalidResourceName", failure!.Error.Code);
    }

    [Fact]
    public void Names_Longer80_Refused() => Assert.NotNull(ArmNames.CheckSnapshot(new string('a', 81)));

    [Fact]
    public void RequestChecks_EveryViolationWithItsTarget()
    {
        var request = new SnapshotResource
        {
            Sku = new SnapshotSku { Name = "UltraSSD_LRS" },
            Properties = new SnapshotProperties { CreationData = new CreationData { CreateOption = "Empty" }, Incremental = true },
        };

        IReadOnlyList<ArmErrorDetail> errors = SnapshotRequestChecks.Check(request);

        Assert.Equal(["location", "properties.creationData.createOption", "properties.creationData.sourceResourceId", "sku.name", "properties.incremental"],
            errors.Select(e => e.Target));
    }

    [Fact]
    public void RequestChecks_ACopyOfAVm_Accepted()
    {
        var request = new SnapshotResource
        {
            Location = "westus",
            Properties = new SnapshotProperties
            {
                CreationData = new CreationData { CreateOption = "copy", SourceResourceId = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1" },
            },
        };

        Assert.Empty(SnapshotRequestChecks.Check(request));
    }

    [Theory]
    [InlineData("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/snap1", "snapshots", true)]
    [InlineData("/SUBSCRIPTIONS/s/resourcegroups/rg/PROVIDERS/microsoft.compute/Snapshots/snap1", "snapshots", true)]
    [InlineData("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/snap1", "snapshots", false)]
    [InlineData("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/snap1/extra", "snapshots", false)]
    [InlineData(null, "snapshots", false)]
    public void ComputeIds_ParsedByType(string? id, string type, bool parsed)
    {
        Assert.Equal(parsed, ResourceIds.TryParseCompute(id, type, out var found));
        if (parsed)
            Assert.Equal(("s", "rg", "snap1"), found);
    }

    [Theory]
    [InlineData("TrustedLaunch", true)]
    [InlineData("Standard", false)]
    public void View_AzuresShape_SecurityTypeOnlyForTrustedLaunch(string securityType, bool hasSecurityProfile)
    {
        var record = new SnapshotRecord
        {
            SubscriptionId = "s", ResourceGroup = "rg", Name = "snap1", SnapshotId = Guid.NewGuid(), Location = "westus", Version = 2,
            ProvisioningState = ProvisioningState.Succeeded, TimeCreated = DateTimeOffset.UnixEpoch, SourceResourceId = "/x/vm1",
            SourceVirtualMachineId = "/x/vm1", SourceVmId = Guid.NewGuid(), HostName = "host1", SecurityType = securityType, Generation = HyperVGeneration.V2,
            ImageReference = new ImageReference { Publisher = "Debian" }, VmSize = "Standard_B1s", DiskSizeBytes = (1L << 30) + 1,
        };

        SnapshotResource view = SnapshotViews.Resource(record);

        Assert.Equal("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/snapshots/snap1", view.Id);
        Assert.Equal("Microsoft.Compute/snapshots", view.Type);
        Assert.Equal("Copy", view.Properties!.CreationData!.CreateOption);
        Assert.Equal(record.SnapshotId.ToString(), view.Properties.UniqueId);
        Assert.Equal(2, view.Properties.DiskSizeGB); // rounded up, as a disk's size in GB
        Assert.Equal(hasSecurityProfile, view.Properties.SecurityProfile is not null);
        Assert.Equal("Standard_LRS", view.Sku!.Name);
        Assert.Equal("\"2\"", SnapshotViews.Etag(record));
    }

    [Fact]
    public void ApiVersions_TheDiskResourceProvidersLine()
    {
        Assert.Contains("2024-03-02", ApiVersions.For(ArmResourceKind.Snapshot));
        Assert.DoesNotContain("2024-07-01", ApiVersions.For(ArmResourceKind.Snapshot));
        Assert.Equal("snapshots", ApiVersions.TypeName(ArmResourceKind.Snapshot));
    }
}
