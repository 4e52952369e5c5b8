using System.Text.Json.Serialization;
using TrustedLaunch.VTpm.Identity;

namespace TrustedLaunch.Cli.Commands.Vtpm;

/// <summary>The vtpm family's contract (<c>tl vtpm manufacture|show --json</c>).</summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(VTpmIdentity))]
internal sealed partial class VtpmJsonContext : JsonSerializerContext
{
    public static VtpmJsonContext Shapes { get; } = new(CliJson.ContextOptions());
}
