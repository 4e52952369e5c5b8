using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace TrustedLaunch.Cli;

/// <summary>
/// The JIT host's half: reflection-based serialization (anonymous types of the service verbs, and the tool verbs'
/// records by reflection: the oracle the native <c>tl</c>'s source-generated output is compared with).
/// </summary>
internal static partial class CliJson
{
    public static readonly JsonSerializerOptions Options = CreateReflectionOptions();

    public static partial void Write<T>(T value, JsonTypeInfo<T> shape, TextWriter writer) =>
        writer.WriteLine(JsonSerializer.Serialize(value, shape.Type, Options));

    /// <summary>Writes <paramref name="value"/> by reflection (the service verbs' anonymous shapes), then a newline.</summary>
    public static void Write<T>(T value, TextWriter writer) => writer.WriteLine(JsonSerializer.Serialize(value, Options));

    private static JsonSerializerOptions CreateReflectionOptions()
    {
        var options = Configure(new JsonSerializerOptions());
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        return options;
    }
}
