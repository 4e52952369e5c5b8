using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using TrustedLaunch.ControlPlane.Arm;
using TrustedLaunch.ControlPlane.Catalogs;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.ControlPlane.Rules;
using TrustedLaunch.ControlPlane.State;

namespace TrustedLaunch.ControlPlane;

/// <summary>
/// The control plane's JSON, source-generated (no reflection): ARM's camelCase, nulls left out, property names
/// matched case-insensitively on input as ARM does, enums as strings, a member given twice refused.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = true,
    UseStringEnumConverter = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowDuplicateProperties = false, // a member given twice is refused, not read as its last value
    MaxDepth = 32)]
[JsonSerializable(typeof(VirtualMachineResource))]
[JsonSerializable(typeof(ArmList<VirtualMachineResource>))]
[JsonSerializable(typeof(VirtualMachineModel))]
[JsonSerializable(typeof(SnapshotResource))]
[JsonSerializable(typeof(ArmList<SnapshotResource>))]
[JsonSerializable(typeof(Snapshots.SnapshotRecord))]
[JsonSerializable(typeof(Snapshots.RestoreFromSnapshotRequest))]
[JsonSerializable(typeof(DiskResource))]
[JsonSerializable(typeof(ArmList<DiskResource>))]
[JsonSerializable(typeof(Disks.DiskRecord))]
[JsonSerializable(typeof(VirtualMachineScaleSetResource))]
[JsonSerializable(typeof(ArmList<VirtualMachineScaleSetResource>))]
[JsonSerializable(typeof(VirtualMachineInstanceView))]
[JsonSerializable(typeof(ShieldedInstanceIdentity))]
[JsonSerializable(typeof(RetrieveBootDiagnosticsDataResult))]
[JsonSerializable(typeof(AttestationRequestResult))]
[JsonSerializable(typeof(ResourceGroupResource))]
[JsonSerializable(typeof(ArmList<ResourceGroupResource>))]
[JsonSerializable(typeof(SubscriptionResource))]
[JsonSerializable(typeof(ArmList<SubscriptionResource>))]
[JsonSerializable(typeof(OperationStatusResource))]
[JsonSerializable(typeof(ArmErrorResponse))]
[JsonSerializable(typeof(ArmErrorDetail))]
[JsonSerializable(typeof(ArmList<VirtualMachineSizeResource>))]
[JsonSerializable(typeof(ArmList<ResourceSkuResource>))]
[JsonSerializable(typeof(IReadOnlyList<VirtualMachineImageResource>))]
[JsonSerializable(typeof(VirtualMachineImage))]
[JsonSerializable(typeof(ImageRegistrationRequest))]
[JsonSerializable(typeof(SecureBootFinding))]
[JsonSerializable(typeof(VmHostReport))]
[JsonSerializable(typeof(SecureBootKeyUpdateRecord))]
[JsonSerializable(typeof(SecureBootKeyUpdateRequest))]
[JsonSerializable(typeof(SecureBootKeyUpdateFleetResult))]
[JsonSerializable(typeof(SecureBootKeyUpdateVmResult))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(HostRegistration))]
[JsonSerializable(typeof(LibvirtDomainRegistration))]
[JsonSerializable(typeof(LibvirtDomainRegistered))]
[JsonSerializable(typeof(Disks.RestoredDiskRegistration))]
[JsonSerializable(typeof(HostView))]
[JsonSerializable(typeof(IReadOnlyList<HostView>))]
[JsonSerializable(typeof(HostReportResult))]
[JsonSerializable(typeof(HostAssignments))]
[JsonSerializable(typeof(HostReport))]
[JsonSerializable(typeof(SizeCatalogDocument))]
[JsonSerializable(typeof(RuleTableDocument))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonObject))]
[JsonSerializable(typeof(Deployments.DeploymentRecord))]
[JsonSerializable(typeof(IReadOnlyList<Deployments.DeploymentOperation>))]
public sealed partial class ControlPlaneJson : JsonSerializerContext
{
    /// <summary>
    /// For answers: the same contract, with only the characters JSON requires escaped (ARM's messages quote names with
    /// <c>'</c>, which the default encoder would write as <c>\u0027</c>).
    /// </summary>
    public static ControlPlaneJson Web => WebInstance.Value;

    // Lazy, so it is built after the generated half of this class has initialised its own statics.
    private static readonly Lazy<ControlPlaneJson> WebInstance = new(() => new ControlPlaneJson(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowDuplicateProperties = false,
        MaxDepth = 32,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    }));

    /// <summary>Reads <paramref name="json"/> as <typeparamref name="T"/>; malformed input becomes ARM's <c>InvalidRequestContent</c>.</summary>
    public static ArmResult<T> Read<T>(ReadOnlySpan<byte> json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            T? value = JsonSerializer.Deserialize(json, type);
            return value is null ? ArmErrors.InvalidRequestContent("The body is empty or null.") : ArmResult.Ok<T>(value);
        }
        catch (JsonException e)
        {
            return ArmErrors.InvalidRequestContent(e.Message);
        }
    }
}
