using System.Text.Json.Serialization;
using TrustedLaunch.SecureBoot;
using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.Cli.Commands.SecureBoot;

/// <summary><c>tl secureboot verify --json</c>: the file, ALLOWED/DENIED, and the verifier's whole verdict.</summary>
internal sealed record SecureBootVerifyJson(string File, string Verdict, SecureBootVerdict Detail);

/// <summary>The secureboot family's contract.</summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(SecureBootVerifyJson))]
internal sealed partial class SecureBootJsonContext : JsonSerializerContext
{
    public static SecureBootJsonContext Shapes { get; } = new(CliJson.ContextOptions(
        CliJson.Enum<VerdictReason>(), CliJson.Enum<SignatureOutcome>(), CliJson.Enum<EfiSignatureKind>()));
}
