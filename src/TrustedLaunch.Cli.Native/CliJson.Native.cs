using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace TrustedLaunch.Cli;

/// <summary>The native half: the source-generated contract, no reflection.</summary>
internal static partial class CliJson
{
    public static partial void Write<T>(T value, JsonTypeInfo<T> shape, TextWriter writer) => writer.WriteLine(JsonSerializer.Serialize(value, shape));
}
