using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.ControlPlane.Rules;

namespace TrustedLaunch.Server.Tests.ControlPlane;

/// <summary>
/// Every create-time rule of the rules table, sent as a request: status, code, message and target as answered. The
/// update rules (which need an existing VM) are in <see cref="VmUpdateRuleTests"/>; a test checks that together they
/// cover every rule of the table.
/// </summary>
public sealed class TrustedLaunchRuleTests(ArmTestService arm) : IClassFixture<ArmTestService>
{
    private const string Faq = "https://aka.ms/TrustedLaunch-FAQ";

    public sealed record RuleCase(string Code, Action<JsonObject> Mutate, string Target, string Message, int Status = 400)
    {
        public override string ToString() => Code + " @ " + Target;
    }

    private static JsonObject P(JsonObject body) => body["properties"]!.AsObject();

    private static JsonObject Storage(JsonObject body) => P(body)["storageProfile"]!.AsObject();

    private static void Tl(JsonObject body) => P(body)["securityProfile"] = ArmTestService.TrustedLaunch();

    private static JsonObject Disk(int lun, int? maxShares = null, string? type = null)
    {
        var disk = new JsonObject { ["lun"] = lun, ["createOption"] = "Empty", ["diskSizeGB"] = 16 };
        if (maxShares is int shares)
            disk["maxShares"] = shares;
        if (type is not null)
            disk["managedDisk"] = new JsonObject { ["storageAccountType"] = type };
        return disk;
    }

    public static IReadOnlyList<RuleCase> CreateCases { get; } =
    [
        new("InvalidSecurityType", b => P(b)["securityProfile"] = new JsonObject { ["securityType"] = "Shielded" },
            "properties.securityProfile.securityType", "The value 'Shielded' of securityProfile.securityType is not valid: use 'TrustedLaunch', or 'Standard' (stored as no security type)."),
        new("ConfidentialVMNotSupported", b => P(b)["securityProfile"] = new JsonObject { ["securityType"] = "ConfidentialVM" },
            "properties.securityProfile.securityType",
            "Security type 'ConfidentialVM' is not offered on this platform: confidential VMs need memory encryption by AMD SEV-SNP or Intel TDX, which this platform does not use; use 'TrustedLaunch'."),
        new("SecureBootRequiresTrustedLaunch", b => P(b)["securityProfile"] = new JsonObject { ["uefiSettings"] = new JsonObject { ["secureBootEnabled"] = true } },
            "properties.securityProfile.uefiSettings.secureBootEnabled", "securityType should be set to TrustedLaunch when secureBootEnabled is true"),
        new("VTpmRequiresTrustedLaunch", b => P(b)["securityProfile"] = new JsonObject
            {
                ["securityType"] = "Standard", ["uefiSettings"] = new JsonObject { ["vTpmEnabled"] = true },
            },
            "properties.securityProfile.uefiSettings.vTpmEnabled", "securityType should be set to TrustedLaunch when vTpmEnabled is true"),
        new("InvalidVmSize", b => P(b)["hardwareProfile"] = new JsonObject { ["vmSize"] = "Standard_Z9" }, "properties.hardwareProfile.vmSize",
            "The value 'Standard_Z9' provided for the VM size is not valid: it is not in this platform's size catalog (GET .../providers/Microsoft.Compute/locations/<location>/vmSizes lists the sizes)."),
        new("PlatformImageNotFound", b => Storage(b)["imageReference"]!["sku"] = "11", "properties.storageProfile.imageReference",
            "The platform image 'Debian:debian-12:11:latest' is not available. Verify that all fields in the storage profile are correct. For more details about storage profile information, please refer to https://aka.ms/storageprofile"),
        new("ImageResourceNotFound", b => Storage(b)["imageReference"] = new JsonObject { ["id"] = "/subscriptions/x/resourceGroups/g/providers/Microsoft.Compute/galleries/gal/images/i" },
            "properties.storageProfile.imageReference.id",
            "The image resource '/subscriptions/x/resourceGroups/g/providers/Microsoft.Compute/galleries/gal/images/i' does not exist: this platform has no managed images or galleries yet; use a platform image (publisher, offer, sku, version)."),
        new("DedicatedHostResourceNotFound", b => P(b)["hostGroup"] = new JsonObject { ["id"] = "/subscriptions/x/resourceGroups/g/providers/Microsoft.Compute/hostGroups/hg" },
            "properties.hostGroup.id",
            "The dedicated host '/subscriptions/x/resourceGroups/g/providers/Microsoft.Compute/hostGroups/hg' does not exist: this platform has no dedicated host resources; VMs are placed on the hosts registered with the control plane."),
        new("TrustedLaunchImageNotSupported", b => { Tl(b); Storage(b)["imageReference"]!["sku"] = ArmTestService.Gen1Sku; }, "properties.storageProfile.imageReference",
            $"Use of TrustedLaunch setting is not supported for the provided image. Please select Trusted Launch Supported Gen2 OS Image. For more information, see {Faq}."),
        new("TrustedLaunchVmSizeNotSupported", b => { Tl(b); P(b)["hardwareProfile"] = new JsonObject { ["vmSize"] = "Standard_A4_v2" }; }, "properties.hardwareProfile.vmSize",
            $"The VM size 'Standard_A4_v2' is not supported for creation of VMs and Virtual Machine Scale Set with 'TrustedLaunch' security type. For more information, see {Faq}"),
        new("EphemeralOSDiskNotSupportedWithTrustedLaunch", b => { Tl(b); Storage(b)["osDisk"]!["diffDiskSettings"] = new JsonObject { ["option"] = "Local" }; },
            "properties.storageProfile.osDisk.diffDiskSettings",
            "Ephemeral OS disks (diffDiskSettings) are not supported with 'TrustedLaunch' security type: the VM guest state (UEFI variables and vTPM) lives with the OS disk, and an ephemeral disk is reset with every reimage, losing secrets sealed to the vTPM."),
        new("SharedDiskNotSupportedWithTrustedLaunch", b => { Tl(b); Storage(b)["dataDisks"] = new JsonArray(Disk(0), Disk(1, maxShares: 2)); },
            "properties.storageProfile.dataDisks[1].maxShares",
            "Shared disks (maxShares 2) are not supported with 'TrustedLaunch' security type: a disk that other VMs can write is outside this VM's trust boundary, and Azure does not offer them on Trusted Launch VMs either."),
        new("UltraSSDNotSupportedWithTrustedLaunch", b => { Tl(b); P(b)["additionalCapabilities"] = new JsonObject { ["ultraSSDEnabled"] = true }; },
            "properties.additionalCapabilities.ultraSSDEnabled",
            "Ultra disks (ultraSSDEnabled) are not supported with 'TrustedLaunch' security type: Azure does not offer them on Trusted Launch VMs, and a request accepted here should be one Azure accepts."),
        new("ManagedImageNotSupportedWithTrustedLaunch", b => { Tl(b); Storage(b)["imageReference"] = new JsonObject { ["id"] = "/subscriptions/x/resourceGroups/g/providers/Microsoft.Compute/images/golden" }; },
            "properties.storageProfile.imageReference.id",
            "Managed images (Microsoft.Compute/images) are not supported with 'TrustedLaunch' security type: a managed image does not declare that it is a Gen2, Trusted Launch capable image; use a platform image."),
        new("DedicatedHostNotSupportedWithTrustedLaunch", b => { Tl(b); P(b)["host"] = new JsonObject { ["id"] = "/subscriptions/x/resourceGroups/g/providers/Microsoft.Compute/hostGroups/hg/hosts/h1" }; },
            "properties.host.id",
            "Dedicated hosts (/subscriptions/x/resourceGroups/g/providers/Microsoft.Compute/hostGroups/hg/hosts/h1) are not supported with 'TrustedLaunch' security type: a Trusted Launch VM runs on the host the control plane places it on, where its VM guest state is created and stays."),
        new("NestedVirtualizationNotSupportedWithTrustedLaunch", b => { Tl(b); P(b)["trustedLaunchExtensions"] = new JsonObject { ["nestedVirtualizationEnabled"] = true }; },
            "properties.trustedLaunchExtensions.nestedVirtualizationEnabled",
            "Nested virtualization is not supported with 'TrustedLaunch' security type: exposing VMX/SVM lets the guest run a hypervisor of its own, whose guests the VM's Secure Boot and measured boot do not cover."),
        new("InvalidSecureBootTemplate", b => P(b)["trustedLaunchExtensions"] = new JsonObject { ["secureBootTemplate"] = "vendor" },
            "properties.trustedLaunchExtensions.secureBootTemplate",
            "The Secure Boot template 'vendor' is not valid: use 'microsoft' (Microsoft's 2011 and 2023 KEKs and CAs, as Azure), 'microsoft-2023' (only the 2023 CAs), 'microsoft-2011' (only the 2011 CAs) or 'custom' (only the keys in secureBootKeys)."),
        new("SecureBootKeysRequired", b => P(b)["trustedLaunchExtensions"] = new JsonObject { ["secureBootTemplate"] = "custom" },
            "properties.trustedLaunchExtensions.secureBootKeys.db",
            "The 'custom' Secure Boot template needs at least one certificate in secureBootKeys.db: with an empty db the firmware refuses every boot loader."),
        new("InvalidSecureBootKey", b => P(b)["trustedLaunchExtensions"] = new JsonObject
            {
                ["secureBootKeys"] = new JsonObject { ["dbx"] = new JsonArray("sha256:abc") },
            },
            "properties.trustedLaunchExtensions.secureBootKeys.dbx[0]", "The Secure Boot key is not usable: a sha256: entry needs 64 hexadecimal digits."),
        new("InvalidAttestationInterval", b => P(b)["trustedLaunchExtensions"] = new JsonObject { ["attestationIntervalSeconds"] = 5 },
            "properties.trustedLaunchExtensions.attestationIntervalSeconds", "The attestation interval 5 is not valid: it must be 10 to 86400 seconds."),
        new("ReferencePolicyNotFound", b => P(b)["trustedLaunchExtensions"] = new JsonObject { ["referencePolicy"] = "lax" },
            "properties.trustedLaunchExtensions.referencePolicy", "No reference policy is named 'lax': store it first (PUT /v1/policies/<name>, or tl server policy add)."),
        new("TrustedLaunchExtensionsRequireTrustedLaunch", b =>
            {
                P(b)["securityProfile"] = new JsonObject { ["securityType"] = "Standard" };
                P(b)["trustedLaunchExtensions"] = new JsonObject { ["attestationIntervalSeconds"] = 30 };
            },
            "properties.trustedLaunchExtensions",
            "secureBootTemplate, secureBootKeys, attestationIntervalSeconds and referencePolicy apply to Trusted Launch VMs only (they configure Secure Boot and the vTPM); this VM's security type is Standard."),
    ];

    public static TheoryData<RuleCase> Cases => new(CreateCases);

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Put_RuleViolated_RefusedWithTheRulesCodeMessageAndTarget(RuleCase rule)
    {
        string group = await arm.CreateGroupAsync();
        JsonObject body = ArmTestService.VmBody();
        rule.Mutate(body);

        ArmAnswer answer = await arm.PutVmAsync(group, "vm1", body);

        Assert.True((int)answer.Status == rule.Status, answer.ToString());
        Assert.Equal("application/json", answer.ContentHeaders?.ContentType?.MediaType);
        JsonElement error = answer.Error;
        JsonElement[] details = error.GetProperty("details").EnumerateArray().ToArray();
        JsonElement detail = Assert.Single(details, d => d.GetProperty("code").GetString() == rule.Code);
        Assert.Equal(rule.Message, detail.GetProperty("message").GetString());
        Assert.Equal(rule.Target, detail.GetProperty("target").GetString());
        // Alone, the violation is the error itself; with others (an image or host that also does not exist), one of the details.
        Assert.Equal(details.Length == 1 ? rule.Code : "MultipleErrorsOccurred", error.GetProperty("code").GetString());
        // Atomic: a refused create leaves nothing behind.
        Assert.Equal(HttpStatusCode.NotFound, (await arm.GetAsync(ArmTestService.WithApi(arm.VmPath(group, "vm1")))).Status);
    }

    [Fact]
    public async Task Put_SeveralViolations_AllInDetails()
    {
        string group = await arm.CreateGroupAsync();
        JsonObject body = ArmTestService.VmBody(sku: ArmTestService.Gen1Sku, size: "Standard_M8ms");
        P(body)["securityProfile"] = ArmTestService.TrustedLaunch();
        Storage(body)["osDisk"]!["diffDiskSettings"] = new JsonObject { ["option"] = "Local" };
        Storage(body)["dataDisks"] = new JsonArray(Disk(0, type: "UltraSSD_LRS"), Disk(1, maxShares: 3));

        ArmAnswer answer = await arm.PutVmAsync(group, "vm1", body);

        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("MultipleErrorsOccurred", answer.ErrorCode);
        Assert.Equal(
            [
                ("TrustedLaunchImageNotSupported", "properties.storageProfile.imageReference"),
                ("TrustedLaunchVmSizeNotSupported", "properties.hardwareProfile.vmSize"),
                ("EphemeralOSDiskNotSupportedWithTrustedLaunch", "properties.storageProfile.osDisk.diffDiskSettings"),
                ("SharedDiskNotSupportedWithTrustedLaunch", "properties.storageProfile.dataDisks[1].maxShares"),
                ("UltraSSDNotSupportedWithTrustedLaunch", "properties.storageProfile.dataDisks[0].managedDisk.storageAccountType"),
            ],
            answer.Error.GetProperty("details").EnumerateArray().Select(d => (d.GetProperty("code").GetString()!, d.GetProperty("target").GetString()!)));
    }

    [Fact]
    public async Task Put_UltraOsDiskAndRequestErrors_ReportedWithTheRules()
    {
        string group = await arm.CreateGroupAsync();
        JsonObject body = ArmTestService.VmBody();
        Tl(body);
        Storage(body)["osDisk"]!["managedDisk"] = new JsonObject { ["storageAccountType"] = "UltraSSD_LRS" };
        body.Remove("location");

        ArmAnswer answer = await arm.PutVmAsync(group, "vm1", body);

        string[] codes = answer.Error.GetProperty("details").EnumerateArray().Select(d => d.GetProperty("code").GetString()!).ToArray();
        Assert.Equal(["LocationRequired", "UltraSSDNotSupportedWithTrustedLaunch"], codes);
    }

    [Fact]
    public async Task Put_GalleryImageWithTrustedLaunch_BothImageRulesOnlyWhereTheyApply()
    {
        string group = await arm.CreateGroupAsync();
        JsonObject body = ArmTestService.VmBody();
        Tl(body);
        Storage(body)["imageReference"] = new JsonObject { ["id"] = "/subscriptions/x/resourceGroups/g/providers/Microsoft.Compute/images/golden" };

        ArmAnswer answer = await arm.PutVmAsync(group, "vm1", body);

        Assert.Equal(["ImageResourceNotFound", "ManagedImageNotSupportedWithTrustedLaunch"],
            answer.Error.GetProperty("details").EnumerateArray().Select(d => d.GetProperty("code").GetString()));
    }

    [Fact]
    public void Cases_WithTheUpdateRules_CoverEveryRuleOfTheTable()
    {
        string[] covered = [.. CreateCases.Select(c => c.Code), .. VmUpdateRuleTests.Covered];

        Assert.Equal(RuleTable.Default.Rules.Select(r => r.Code).Order(StringComparer.Ordinal), covered.Order(StringComparer.Ordinal));
    }
}
