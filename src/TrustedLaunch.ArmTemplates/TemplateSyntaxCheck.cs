using System.Text.Json.Nodes;
using TrustedLaunch.ArmTemplates.Expressions;
using TrustedLaunch.ArmTemplates.Functions;

namespace TrustedLaunch.ArmTemplates;

/// <summary>
/// Validation before anything runs: every expression anywhere in the template parses, and every function it calls
/// is one this engine has (all unknown ones named in one error), including in resources whose condition is false.
/// </summary>
internal static class TemplateSyntaxCheck
{
    public static void Check(JsonObject root)
    {
        var unknown = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        string? firstTarget = null;
        Walk(root, "", unknown, ref firstTarget);
        if (unknown.Count > 0)
        {
            string names = string.Join(", ", unknown.Select(n => $"'{n}'"));
            throw new TemplateSyntaxException(unknown.Count == 1
                ? FunctionTable.UnknownFunctionMessage(unknown.Min!)
                : $"The template functions {names} are not valid. Please see https://aka.ms/arm-template-expressions for usage details.", firstTarget);
        }
    }

    private static void Walk(JsonNode? node, string path, SortedSet<string> unknown, ref string? firstTarget)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach ((string name, JsonNode? member) in obj)
                    Walk(member, path.Length == 0 ? name : $"{path}.{name}", unknown, ref firstTarget);
                break;
            case JsonArray array:
                for (int i = 0; i < array.Count; i++)
                    Walk(array[i], $"{path}[{i}]", unknown, ref firstTarget);
                break;
            default:
                if (TemplateValues.TryGetString(node, out string text) && ExpressionParser.IsExpression(text))
                {
                    int before = unknown.Count;
                    CollectUnknown(ExpressionParser.Parse(text, path), unknown);
                    if (unknown.Count > before)
                        firstTarget ??= path;
                }

                break;
        }
    }

    private static void CollectUnknown(Expression expression, SortedSet<string> unknown)
    {
        switch (expression)
        {
            case FunctionCallExpression call:
                if (!FunctionTable.IsKnown(call.Name))
                    unknown.Add(call.Name);
                foreach (Expression argument in call.Arguments)
                    CollectUnknown(argument, unknown);
                break;
            case PropertyAccessExpression access:
                CollectUnknown(access.Target, unknown);
                break;
            case IndexAccessExpression index:
                CollectUnknown(index.Target, unknown);
                CollectUnknown(index.Index, unknown);
                break;
        }
    }
}
