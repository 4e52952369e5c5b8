using System.Text.Json;
using System.Text.Json.Serialization;
using TrustedLaunch.Attestation;
using TrustedLaunch.Tpm.Protocol;

namespace TrustedLaunch.Cli.Commands.Attest;

#pragma warning disable IDE1006 // camelCase members: they are the JSON field names
/// <summary><c>tl attest verify-token --json</c> when the token is refused.</summary>
internal sealed record TokenRefusal(bool valid, string reason, string message);

/// <summary><c>tl attest verify-token --json</c> when the token is valid: its validated claims.</summary>
internal sealed record TokenAccepted(bool valid, string algorithm, string? keyId, Guid vmId, DateTimeOffset expires, JsonElement claims);
#pragma warning restore IDE1006

/// <summary>The attest family's contracts (<c>tl attest verify|verify-token --json</c>).</summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(VerifyCommand.VerifyOutput))]
[JsonSerializable(typeof(TokenRefusal))]
[JsonSerializable(typeof(TokenAccepted))]
internal sealed partial class AttestJsonContext : JsonSerializerContext
{
    public static AttestJsonContext Shapes { get; } = new(CliJson.ContextOptions(
        CliJson.Enum<AttestationFailureReason>(), CliJson.Enum<BaselineVerdict>(), CliJson.Enum<BoundKeyFailureReason>(), CliJson.Enum<BootStage>(), CliJson.Enum<TpmAlgId>(),
        CliJson.Enum<TpmaObject>(), CliJson.Enum<TpmEccCurve>()));
}
