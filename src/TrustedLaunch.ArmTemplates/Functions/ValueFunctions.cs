using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.ArmTemplates.Functions;

/// <summary>Conversion, array, object and numeric functions (ARM "template-functions-array", "-object", "-numeric").</summary>
internal static class ValueFunctions
{
    public static void Register(Dictionary<string, TemplateFunction> table)
    {
        table["string"] = call => JsonValue.Create(TemplateValues.ToText(call.Arity(1, 1).Arguments[0]));
        table["int"] = ToInt;
        table["json"] = Json;
        table["null"] = call =>
        {
            call.Arity(0, 0);
            return null;
        };
        table["length"] = Length;
        table["empty"] = call => JsonValue.Create(IsEmpty(call.Arity(1, 1).Arguments[0]));
        table["contains"] = Contains;
        table["createArray"] = call => new JsonArray(call.Arguments.Select(TemplateValues.Detach).ToArray());
        table["array"] = call => call.Arity(1, 1).Arguments[0] is JsonArray a ? a.DeepClone() : new JsonArray(TemplateValues.Detach(call.Arguments[0]));
        table["createObject"] = CreateObject;
        table["union"] = Union;
        table["first"] = call => Element(call.Arity(1, 1), first: true);
        table["last"] = call => Element(call.Arity(1, 1), first: false);
        table["range"] = Range;
        table["add"] = call => Arithmetic(call, (a, b) => checked(a + b));
        table["sub"] = call => Arithmetic(call, (a, b) => checked(a - b));
        table["mul"] = call => Arithmetic(call, (a, b) => checked(a * b));
        table["div"] = call => Arithmetic(call, (a, b) => b == 0 ? throw call.Fail("division by zero") : a / b);
        table["mod"] = call => Arithmetic(call, (a, b) => b == 0 ? throw call.Fail("division by zero") : a % b);
        table["min"] = call => JsonValue.Create(Integers(call).Min());
        table["max"] = call => JsonValue.Create(Integers(call).Max());
    }

    private static JsonNode? ToInt(FunctionCall call)
    {
        call.Arity(1, 1);
        return call.Kind(0) switch
        {
            TemplateValueKind.Int => JsonValue.Create(call.Int(0)),
            TemplateValueKind.String when long.TryParse(call.String(0), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) => JsonValue.Create(n),
            _ => throw call.Fail($"the value '{TemplateValues.ToText(call.Arguments[0])}' cannot be converted to an integer"),
        };
    }

    private static JsonNode? Json(FunctionCall call)
    {
        string text = call.Arity(1, 1).String(0);
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw call.Fail($"the string is not valid JSON ({e.Message})");
        }
    }

    private static JsonNode? Length(FunctionCall call)
    {
        call.Arity(1, 1);
        long length = call.Arguments[0] switch
        {
            JsonArray a => a.Count,
            JsonObject o => o.Count,
            _ when call.Kind(0) == TemplateValueKind.String => call.String(0).Length,
            _ => throw call.WrongType(0, "String, Array or Object"),
        };
        return JsonValue.Create(length);
    }

    private static bool IsEmpty(JsonNode? value) => value switch
    {
        null => true,
        JsonArray a => a.Count == 0,
        JsonObject o => o.Count == 0,
        _ => TemplateValues.TryGetString(value, out string s) && s.Length == 0,
    };

    private static JsonNode? Contains(FunctionCall call)
    {
        call.Arity(2, 2);
        JsonNode? item = call.Arguments[1];
        bool found = call.Arguments[0] switch
        {
            JsonArray a => a.Any(e => TemplateValues.DeepEquals(e, item)),
            JsonObject o => TemplateValues.TryGetString(item, out string key) && TemplateValues.TryGetMember(o, key, out _),
            _ when call.Kind(0) == TemplateValueKind.String => call.String(0).Contains(TemplateValues.ToText(item), StringComparison.Ordinal),
            _ => throw call.WrongType(0, "String, Array or Object"),
        };
        return JsonValue.Create(found);
    }

    private static JsonNode? CreateObject(FunctionCall call)
    {
        if (call.Count % 2 != 0)
            throw call.Fail("it takes pairs of a property name and a value");
        var result = new JsonObject();
        for (int i = 0; i < call.Count; i += 2)
            result[call.String(i)] = TemplateValues.Detach(call.Arguments[i + 1]);
        return result;
    }

    private static JsonNode? Union(FunctionCall call)
    {
        call.Arity(1);
        if (call.Arguments.All(a => a is JsonObject))
        {
            var merged = new JsonObject();
            foreach (JsonObject o in call.Arguments.Cast<JsonObject>())
            {
                foreach ((string key, JsonNode? value) in o)
                    merged[key] = TemplateValues.Detach(value);
            }

            return merged;
        }

        if (call.Arguments.All(a => a is JsonArray))
        {
            var items = new JsonArray();
            foreach (JsonNode? item in call.Arguments.SelectMany(a => a!.AsArray()))
            {
                if (!items.Any(existing => TemplateValues.DeepEquals(existing, item)))
                    items.Add(TemplateValues.Detach(item));
            }

            return items;
        }

        throw call.Fail("it takes only objects or only arrays");
    }

    private static JsonNode? Element(FunctionCall call, bool first)
    {
        if (call.Arguments[0] is JsonArray array)
            return array.Count == 0 ? null : TemplateValues.Detach(first ? array[0] : array[^1]);
        string text = call.String(0);
        return text.Length == 0 ? JsonValue.Create("") : JsonValue.Create((first ? text[0] : text[^1]).ToString());
    }

    private static JsonNode? Range(FunctionCall call)
    {
        call.Arity(2, 2);
        long start = call.Int(0), count = call.Int(1);
        if (count < 0 || count > 10000)
            throw call.Fail("the count must be from 0 to 10000");
        return new JsonArray(Enumerable.Range(0, (int)count).Select(i => (JsonNode?)JsonValue.Create(start + i)).ToArray());
    }

    private static JsonNode? Arithmetic(FunctionCall call, Func<long, long, long> operation)
    {
        call.Arity(2, 2);
        try
        {
            return JsonValue.Create(operation(call.Int(0), call.Int(1)));
        }
        catch (OverflowException)
        {
            throw call.Fail("the result does not fit a 64-bit integer");
        }
    }

    private static long[] Integers(FunctionCall call)
    {
        call.Arity(1);
        IEnumerable<JsonNode?> values = call.Count == 1 && call.Arguments[0] is JsonArray a ? a : call.Arguments;
        long[] numbers = values.Select(v => TemplateValues.TryGetInt(v, out long n) ? n : throw call.Fail("it takes integers")).ToArray();
        return numbers.Length == 0 ? throw call.Fail("it needs at least one integer") : numbers;
    }
}
