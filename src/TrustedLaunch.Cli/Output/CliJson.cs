namespace TrustedLaunch.Cli;

/// <summary>Prints a command's <c>--json</c> output (CliJson.Service.cs in the JIT host; the native <c>tl</c> forwards <c>--json</c>).</summary>
internal static partial class CliJson
{
    /// <summary>Writes <paramref name="value"/> as the one JSON shape of <c>tl</c>, then a newline.</summary>
    public static partial void Write<T>(T value, TextWriter writer);
}
