using System.Text.Json.Serialization;
using TrustedLaunch.Linux.ModuleSignature;

namespace TrustedLaunch.Cli.Commands.Module;

/// <summary><c>tl module verify --json</c>.</summary>
internal sealed record ModuleVerifyJson(string File, string? Compression, ModuleVerification Result);

/// <summary><c>tl module kernel-certs --json</c>.</summary>
internal sealed record ModuleCertsJson(string File, string Compression, List<ModuleCertificateJson> Certificates);

/// <summary>One certificate built into the kernel.</summary>
internal sealed record ModuleCertificateJson(int Index, string Subject, string Issuer, string SerialNumber, string Sha256);

/// <summary>The module family's contracts.</summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(ModuleVerifyJson))]
[JsonSerializable(typeof(ModuleCertsJson))]
internal sealed partial class ModuleJsonContext : JsonSerializerContext
{
    public static ModuleJsonContext Shapes { get; } = new(CliJson.ContextOptions(CliJson.Enum<ModuleSignatureStatus>()));
}
