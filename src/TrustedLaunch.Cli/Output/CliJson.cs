using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace TrustedLaunch.Cli;

/// <summary>
/// Prints a command's <c>--json</c> output: camelCase, enums as camelCase strings, nulls left out, indented. Each tool
/// verb's shapes are source-generated records (one <see cref="JsonSerializerContext"/> per output family), which the
/// NativeAOT <c>tl</c> serializes without reflection (CliJson.Native.cs); the JIT host serializes the same value by
/// reflection with <see cref="Configure"/>'s settings (CliJson.Service.cs), so comparing the two binaries proves the
/// generated contracts print what reflection printed.
/// </summary>
internal static partial class CliJson
{
    /// <summary>Writes <paramref name="value"/> as the one JSON shape of <c>tl</c>, then a newline.</summary>
    /// <param name="shape">The source-generated contract of <typeparamref name="T"/>, from its family's context.</param>
    public static partial void Write<T>(T value, JsonTypeInfo<T> shape, TextWriter writer);

    /// <summary>
    /// The options a family's context is created with. The encoder and the enum converters cannot be given in
    /// <see cref="JsonSourceGenerationOptionsAttribute"/>; and NativeAOT cannot make a generic converter at run time,
    /// so each enum a family prints names its own <see cref="JsonStringEnumConverter{TEnum}"/> (<see cref="Enum{TEnum}"/>).
    /// </summary>
    public static JsonSerializerOptions ContextOptions(params JsonConverter[] enums)
    {
        var options = Configure(new JsonSerializerOptions());
        foreach (JsonConverter converter in enums)
            options.Converters.Add(converter);
        return options;
    }

    /// <summary>An enum printed as its camelCase name, as the reflection options' converter prints every enum.</summary>
    public static JsonStringEnumConverter<TEnum> Enum<TEnum>() where TEnum : struct, System.Enum => new(JsonNamingPolicy.CamelCase);

    private static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.WriteIndented = true;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        return options;
    }
}
