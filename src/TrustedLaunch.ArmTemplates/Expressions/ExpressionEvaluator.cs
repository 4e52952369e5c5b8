using System.Text.Json.Nodes;
using TrustedLaunch.ArmTemplates.Functions;

namespace TrustedLaunch.ArmTemplates.Expressions;

/// <summary>Evaluates parsed expressions and template JSON (every string in it that is an expression).</summary>
internal static class ExpressionEvaluator
{
    /// <summary>Evaluates a template value: expressions in strings are replaced by their values, recursively.</summary>
    public static JsonNode? EvaluateValue(JsonNode? value, EvaluationContext context)
    {
        switch (value)
        {
            case null:
                return null;
            case JsonObject obj:
                return EvaluateObject(obj, context);
            case JsonArray array:
                var result = new JsonArray();
                for (int i = 0; i < array.Count; i++)
                    result.Add(TemplateValues.Detach(EvaluateValue(array[i], context.At($"{context.Target}[{i}]"))));
                return result;
            default:
                if (TemplateValues.TryGetString(value, out string text))
                {
                    return ExpressionParser.IsExpression(text)
                        ? TemplateValues.Detach(Evaluate(ExpressionParser.Parse(text, context.Target), context))
                        : JsonValue.Create(ExpressionParser.Unescape(text));
                }

                return value.DeepClone();
        }
    }

    public static JsonNode? Evaluate(Expression expression, EvaluationContext context)
    {
        switch (expression)
        {
            case LiteralExpression literal:
                return literal.Value?.DeepClone();
            case FunctionCallExpression call when call.Name.Equals("if", StringComparison.OrdinalIgnoreCase):
                // Only the branch the condition picks is evaluated, so the other may be invalid (ARM's documented rule).
                if (call.Arguments.Count != 3)
                    throw context.Fail($"Unable to evaluate template language function 'if': it takes 3 arguments, not {call.Arguments.Count}.");
                JsonNode? condition = Evaluate(call.Arguments[0], context);
                if (!TemplateValues.TryGetBool(condition, out bool flag))
                    throw context.Fail($"Unable to evaluate template language function 'if': the condition is of type '{TemplateValues.KindOf(condition)}', not 'Bool'.");
                return Evaluate(call.Arguments[flag ? 1 : 2], context);
            case FunctionCallExpression call:
                TemplateFunction function = FunctionTable.Find(call.Name)
                    ?? throw context.Fail(FunctionTable.UnknownFunctionMessage(call.Name));
                var arguments = new JsonNode?[call.Arguments.Count];
                for (int i = 0; i < arguments.Length; i++)
                    arguments[i] = Evaluate(call.Arguments[i], context);
                return function(new FunctionCall(call.Name, arguments, context));
            case PropertyAccessExpression access:
                return Member(Evaluate(access.Target, context), access.Property, context);
            case IndexAccessExpression index:
                JsonNode? target = Evaluate(index.Target, context);
                JsonNode? key = Evaluate(index.Index, context);
                if (TemplateValues.TryGetInt(key, out long position))
                {
                    if (target is not JsonArray array)
                        throw context.Fail($"The language expression property array index '{position}' cannot be applied to a value of type '{TemplateValues.KindOf(target)}'.");
                    if (position < 0 || position >= array.Count)
                        throw context.Fail($"The language expression property array index '{position}' is out of bounds (the array has {array.Count} elements).");
                    return array[(int)position];
                }

                if (TemplateValues.TryGetString(key, out string name))
                    return Member(target, name, context);
                throw context.Fail($"The language expression index must be an integer or a string, not '{TemplateValues.KindOf(key)}'.");
            default:
                throw context.Fail("Unsupported expression.");
        }
    }

    private static JsonObject EvaluateObject(JsonObject obj, EvaluationContext context)
    {
        var result = new JsonObject();
        foreach ((string name, JsonNode? member) in obj)
        {
            // Property copy loops: "copy": [{"name", "count", "input"}] makes an array property per entry.
            if (name.Equals("copy", StringComparison.OrdinalIgnoreCase) && member is JsonArray loops)
            {
                foreach (JsonNode? loop in loops)
                {
                    (string loopName, JsonArray values) = PropertyCopy.Expand(loop, context.At($"{context.Target}.copy"));
                    result[loopName] = values;
                }

                continue;
            }

            result[name] = TemplateValues.Detach(EvaluateValue(member, context.At(context.Target is null ? name : $"{context.Target}.{name}")));
        }

        return result;
    }

    private static JsonNode? Member(JsonNode? target, string name, EvaluationContext context)
    {
        if (target is not JsonObject obj)
            throw context.Fail($"The language expression property '{name}' can't be evaluated, property name must be a string or the target must be an object; the target is of type '{TemplateValues.KindOf(target)}'.");
        if (!TemplateValues.TryGetMember(obj, name, out JsonNode? member))
        {
            string available = string.Join(", ", obj.Select(p => p.Key));
            throw context.Fail($"The language expression property '{name}' doesn't exist, available properties are '{available}'.");
        }

        return member;
    }
}

/// <summary>Property-level copy loops (<c>"copy": [{"name": "dataDisks", "count": 2, "input": {…}}]</c>).</summary>
internal static class PropertyCopy
{
    public const int MaxCount = 800; // ARM's copy limit

    public static (string Name, JsonArray Values) Expand(JsonNode? loop, EvaluationContext context)
    {
        if (loop is not JsonObject definition
            || !TemplateValues.TryGetMember(definition, "name", out JsonNode? nameNode) || !TemplateValues.TryGetString(nameNode, out string name)
            || !TemplateValues.TryGetMember(definition, "input", out JsonNode? input))
            throw context.Fail("A property copy loop needs a 'name', a 'count' and an 'input'.");
        int count = Count(definition, context);
        var values = new JsonArray();
        for (int i = 0; i < count; i++)
            values.Add(TemplateValues.Detach(ExpressionEvaluator.EvaluateValue(input, context.InLoop(name, i))));
        return (name, values);
    }

    public static int Count(JsonObject definition, EvaluationContext context)
    {
        TemplateValues.TryGetMember(definition, "count", out JsonNode? countNode);
        JsonNode? value = ExpressionEvaluator.EvaluateValue(countNode, context);
        if (!TemplateValues.TryGetInt(value, out long count) || count < 0 || count > MaxCount)
            throw context.Fail($"The copy count must be an integer from 0 to {MaxCount}, not '{TemplateValues.ToText(value)}'.");
        return (int)count;
    }
}
