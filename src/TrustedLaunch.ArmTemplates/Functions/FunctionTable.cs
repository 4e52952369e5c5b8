using System.Collections.Frozen;

namespace TrustedLaunch.ArmTemplates.Functions;

/// <summary>
/// The template functions this engine implements, by name (case-insensitive, as ARM's). A template that calls any
/// other function fails validation, naming it, before anything is deployed.
/// </summary>
public static class FunctionTable
{
    private static readonly FrozenDictionary<string, TemplateFunction> Functions = Build();

    /// <summary>The names of every supported function (<c>if</c> included), for docs and validation.</summary>
    public static IReadOnlyCollection<string> Names { get; } = [.. Functions.Keys.Append("if").Order(StringComparer.Ordinal)];

    public static bool IsKnown(string name) => name.Equals("if", StringComparison.OrdinalIgnoreCase) || Functions.ContainsKey(name);

    internal static TemplateFunction? Find(string name) => Functions.GetValueOrDefault(name);

    internal static string UnknownFunctionMessage(string name) =>
        $"The template function '{name}' is not valid. Please see https://aka.ms/arm-template-expressions for usage details.";

    private static FrozenDictionary<string, TemplateFunction> Build()
    {
        var table = new Dictionary<string, TemplateFunction>(StringComparer.OrdinalIgnoreCase);
        StringFunctions.Register(table);
        LogicalFunctions.Register(table);
        ValueFunctions.Register(table);
        DeploymentFunctions.Register(table);
        ResourceFunctions.Register(table);
        return table.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }
}
