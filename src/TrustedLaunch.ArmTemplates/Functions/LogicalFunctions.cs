using System.Text.Json.Nodes;

namespace TrustedLaunch.ArmTemplates.Functions;

/// <summary>Logical and comparison functions (ARM "template-functions-logical" and "-comparison"); <c>if</c> is in the evaluator.</summary>
internal static class LogicalFunctions
{
    public static void Register(Dictionary<string, TemplateFunction> table)
    {
        table["true"] = call => JsonValue.Create(call.Arity(0, 0).Count == 0);
        table["false"] = call => JsonValue.Create(call.Arity(0, 0).Count != 0);
        table["and"] = call => JsonValue.Create(Bools(call.Arity(2)).All(b => b));
        table["or"] = call => JsonValue.Create(Bools(call.Arity(2)).Any(b => b));
        table["not"] = call => JsonValue.Create(!call.Arity(1, 1).Bool(0));
        table["equals"] = call => JsonValue.Create(TemplateValues.DeepEquals(call.Arity(2, 2).Arguments[0], call.Arguments[1]));
        table["less"] = call => JsonValue.Create(Compare(call) < 0);
        table["lessOrEquals"] = call => JsonValue.Create(Compare(call) <= 0);
        table["greater"] = call => JsonValue.Create(Compare(call) > 0);
        table["greaterOrEquals"] = call => JsonValue.Create(Compare(call) >= 0);
        table["bool"] = ToBool;
        table["coalesce"] = call => TemplateValues.Detach(call.Arity(1).Arguments.FirstOrDefault(a => a is not null));
    }

    private static bool[] Bools(FunctionCall call)
    {
        var values = new bool[call.Count];
        for (int i = 0; i < values.Length; i++)
            values[i] = call.Bool(i);
        return values;
    }

    private static int Compare(FunctionCall call)
    {
        call.Arity(2, 2);
        if (call.Kind(0) == TemplateValueKind.Int && call.Kind(1) == TemplateValueKind.Int)
            return call.Int(0).CompareTo(call.Int(1));
        if (call.Kind(0) == TemplateValueKind.String && call.Kind(1) == TemplateValueKind.String)
            return string.CompareOrdinal(call.String(0), call.String(1));
        throw call.Fail($"it compares two integers or two strings, not '{call.Kind(0)}' and '{call.Kind(1)}'");
    }

    // bool: a bool, the strings 'true'/'false' (any case), or an integer (0 is false).
    private static JsonNode? ToBool(FunctionCall call)
    {
        call.Arity(1, 1);
        return call.Kind(0) switch
        {
            TemplateValueKind.Bool => JsonValue.Create(call.Bool(0)),
            TemplateValueKind.Int => JsonValue.Create(call.Int(0) != 0),
            TemplateValueKind.String when bool.TryParse(call.String(0), out bool flag) => JsonValue.Create(flag),
            _ => throw call.Fail($"the value '{TemplateValues.ToText(call.Arguments[0])}' cannot be converted to a boolean"),
        };
    }
}
