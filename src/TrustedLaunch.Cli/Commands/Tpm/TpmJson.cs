using System.Text.Json.Serialization;
using TrustedLaunch.Tpm.Crypto;

namespace TrustedLaunch.Cli.Commands.Tpm;

/// <summary>The tpm family's contracts (<c>tl tpm checkquote|pcrread --json</c>).</summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(CheckQuoteCommand.CheckQuoteReport))]
[JsonSerializable(typeof(List<CheckQuoteCommand.PcrValue>))]
internal sealed partial class TpmJsonContext : JsonSerializerContext
{
    public static TpmJsonContext Shapes { get; } = new(CliJson.ContextOptions(CliJson.Enum<QuoteFailure>()));
}
