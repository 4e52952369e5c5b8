using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace TrustedLaunch.ArmTemplates.Functions;

/// <summary>String functions (ARM "template-functions-string").</summary>
internal static class StringFunctions
{
    public static void Register(Dictionary<string, TemplateFunction> table)
    {
        table["concat"] = Concat;
        table["format"] = Format;
        table["toLower"] = call => JsonValue.Create(call.Arity(1, 1).String(0).ToLowerInvariant());
        table["toUpper"] = call => JsonValue.Create(call.Arity(1, 1).String(0).ToUpperInvariant());
        table["uniqueString"] = UniqueStringOf;
        table["substring"] = Substring;
        table["replace"] = call => JsonValue.Create(call.Arity(3, 3).String(0).Replace(call.String(1), call.String(2), StringComparison.Ordinal));
        table["trim"] = call => JsonValue.Create(call.Arity(1, 1).String(0).Trim());
        table["startsWith"] = call => JsonValue.Create(call.Arity(2, 2).String(0).StartsWith(call.String(1), StringComparison.OrdinalIgnoreCase));
        table["endsWith"] = call => JsonValue.Create(call.Arity(2, 2).String(0).EndsWith(call.String(1), StringComparison.OrdinalIgnoreCase));
        table["indexOf"] = call => JsonValue.Create((long)call.Arity(2, 2).String(0).IndexOf(call.String(1), StringComparison.OrdinalIgnoreCase));
        table["lastIndexOf"] = call => JsonValue.Create((long)call.Arity(2, 2).String(0).LastIndexOf(call.String(1), StringComparison.OrdinalIgnoreCase));
        table["split"] = Split;
        table["padLeft"] = PadLeft;
        table["base64"] = call => JsonValue.Create(Convert.ToBase64String(Encoding.UTF8.GetBytes(call.Arity(1, 1).String(0))));
    }

    // concat: all arrays make one array; otherwise the texts of all values joined.
    private static JsonNode? Concat(FunctionCall call)
    {
        call.Arity(1);
        if (call.Arguments.All(a => a is JsonArray))
        {
            var joined = new JsonArray();
            foreach (JsonNode? item in call.Arguments.SelectMany(a => a!.AsArray()))
                joined.Add(TemplateValues.Detach(item));
            return joined;
        }

        var text = new StringBuilder();
        for (int i = 0; i < call.Count; i++)
        {
            if (call.Kind(i) is TemplateValueKind.Array or TemplateValueKind.Object)
                throw call.Fail($"argument {i + 1} is of type '{call.Kind(i)}': concat joins strings and numbers, or only arrays");
            text.Append(TemplateValues.ToText(call.Arguments[i]));
        }

        return JsonValue.Create(text.ToString());
    }

    // format: .NET composite formatting, as ARM's ("{0}", "{0:N2}", "{{" for a brace).
    private static JsonNode? Format(FunctionCall call)
    {
        call.Arity(1);
        string format = call.String(0);
        object?[] values = call.Arguments.Skip(1).Select(FormatArgument).ToArray();
        try
        {
            return JsonValue.Create(string.Format(CultureInfo.InvariantCulture, format, values));
        }
        catch (FormatException)
        {
            throw call.Fail($"the format string '{format}' is not valid for {values.Length} argument(s)");
        }
    }

    private static object? FormatArgument(JsonNode? value) => TemplateValues.KindOf(value) switch
    {
        TemplateValueKind.Int => TemplateValues.TryGetInt(value, out long n) ? n : 0L,
        TemplateValueKind.Bool => value!.GetValue<bool>(),
        TemplateValueKind.Float => value!.GetValue<double>(),
        _ => TemplateValues.ToText(value),
    };

    private static JsonNode? UniqueStringOf(FunctionCall call)
    {
        call.Arity(1);
        var parts = new string[call.Count];
        for (int i = 0; i < parts.Length; i++)
            parts[i] = call.String(i);
        return JsonValue.Create(UniqueString.Compute(parts));
    }

    private static JsonNode? Substring(FunctionCall call)
    {
        call.Arity(1, 3);
        string text = call.String(0);
        long start = call.Count > 1 ? call.Int(1) : 0;
        long length = call.Count > 2 ? call.Int(2) : text.Length - start;
        if (start < 0 || length < 0 || start > text.Length || start + length > text.Length)
            throw call.Fail($"the index and length parameters must refer to a location within the string (start {start}, length {length}, string length {text.Length})");
        return JsonValue.Create(text.Substring((int)start, (int)length));
    }

    private static JsonNode? Split(FunctionCall call)
    {
        call.Arity(2, 2);
        string[] delimiters = call.Arguments[1] is JsonArray many
            ? many.Select(d => TemplateValues.TryGetString(d, out string s) ? s : throw call.WrongType(1, "String")).ToArray()
            : [call.String(1)];
        return new JsonArray(call.String(0).Split(delimiters, StringSplitOptions.None).Select(p => (JsonNode?)JsonValue.Create(p)).ToArray());
    }

    private static JsonNode? PadLeft(FunctionCall call)
    {
        call.Arity(2, 3);
        string padding = call.Count > 2 ? call.String(2) : " ";
        if (padding.Length != 1)
            throw call.Fail("the padding character must be one character");
        string text = call.Kind(0) == TemplateValueKind.Int ? TemplateValues.ToText(call.Arguments[0]) : call.String(0);
        return JsonValue.Create(text.PadLeft((int)Math.Clamp(call.Int(1), 0, 16 * 1024), padding[0]));
    }
}
