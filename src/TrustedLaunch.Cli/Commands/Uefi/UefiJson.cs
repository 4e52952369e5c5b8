using System.Text.Json.Serialization;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.Cli.Commands.Uefi;

/// <summary>The <c>--json</c> decision of <c>tl uefi vars apply-update</c>.</summary>
internal sealed record VarsUpdateDecision(VariableUpdateStatus Status, string Message, string? Signer, string Variable, string? Written);

/// <summary>The <c>--json</c> summary of <c>tl uefi vars sign-update</c>.</summary>
internal sealed record VarsSignedUpdate(
    string File, string Variable, Guid VendorGuid, uint Attributes, bool Append, string TimeStamp, string Signer, int SignedDataBytes,
    int PayloadBytes, int Size);

/// <summary>The uefi family's contracts (<c>tl uefi vars create|show|apply-update|sign-update --json</c>).</summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(VariableStoreReport))]
[JsonSerializable(typeof(VarsUpdateDecision))]
[JsonSerializable(typeof(VarsSignedUpdate))]
internal sealed partial class UefiJsonContext : JsonSerializerContext
{
    public static UefiJsonContext Shapes { get; } = new(CliJson.ContextOptions(
        CliJson.Enum<VariableUpdateStatus>(), CliJson.Enum<PlatformMode>(), CliJson.Enum<EfiSignatureKind>()));
}
