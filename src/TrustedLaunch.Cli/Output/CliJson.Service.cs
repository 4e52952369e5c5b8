using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TrustedLaunch.Cli;

/// <summary>
/// The one JSON shape of every <c>--json</c> output: camelCase, enums as strings, indented. Reflection-based, so only
/// the JIT host has it: the NativeAOT <c>tl</c> forwards an invocation with <c>--json</c> to <c>tl-server</c>.
/// </summary>
internal static partial class CliJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static partial void Write<T>(T value, TextWriter writer) => writer.WriteLine(JsonSerializer.Serialize(value, Options));
}
