using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.ArmTemplates;

/// <summary>The template language's value kinds, named as ARM's messages name them.</summary>
public enum TemplateValueKind
{
    Null,
    String,
    Int,
    Bool,
    Array,
    Object,
    Float,
}

/// <summary>
/// Template values are JSON values (<see cref="JsonNode"/>; null is JSON null). These are the conversions and
/// comparisons the functions share.
/// </summary>
public static class TemplateValues
{
    public static TemplateValueKind KindOf(JsonNode? value) => value switch
    {
        null => TemplateValueKind.Null,
        JsonArray => TemplateValueKind.Array,
        JsonObject => TemplateValueKind.Object,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => TemplateValueKind.String,
            JsonValueKind.True or JsonValueKind.False => TemplateValueKind.Bool,
            JsonValueKind.Number => v.TryGetValue(out long _) || IsIntegral(v) ? TemplateValueKind.Int : TemplateValueKind.Float,
            JsonValueKind.Null => TemplateValueKind.Null,
            _ => TemplateValueKind.Null,
        },
        _ => TemplateValueKind.Null,
    };

    /// <summary>A node that can be placed in a new parent (nodes belong to one parent at a time).</summary>
    public static JsonNode? Detach(JsonNode? value) => value is null ? null : value.Parent is null ? value : value.DeepClone();

    public static bool TryGetString(JsonNode? value, out string text)
    {
        if (KindOf(value) == TemplateValueKind.String)
        {
            text = value!.GetValue<string>();
            return true;
        }

        text = "";
        return false;
    }

    public static bool TryGetInt(JsonNode? value, out long number)
    {
        number = 0;
        if (KindOf(value) != TemplateValueKind.Int)
            return false;
        var v = (JsonValue)value!;
        if (v.TryGetValue(out number))
            return true;
        number = (long)v.GetValue<double>();
        return true;
    }

    public static bool TryGetBool(JsonNode? value, out bool flag)
    {
        flag = false;
        if (KindOf(value) != TemplateValueKind.Bool)
            return false;
        flag = value!.GetValue<bool>();
        return true;
    }

    /// <summary>Deep equality: strings ordinal, numbers by value, objects by their property names (case-insensitive) and values.</summary>
    public static bool DeepEquals(JsonNode? left, JsonNode? right)
    {
        TemplateValueKind kind = KindOf(left);
        if (kind != KindOf(right))
            return false;
        switch (kind)
        {
            case TemplateValueKind.Null:
                return true;
            case TemplateValueKind.String:
                return string.Equals(left!.GetValue<string>(), right!.GetValue<string>(), StringComparison.Ordinal);
            case TemplateValueKind.Int:
                TryGetInt(left, out long a);
                TryGetInt(right, out long b);
                return a == b;
            case TemplateValueKind.Bool:
                return left!.GetValue<bool>() == right!.GetValue<bool>();
            case TemplateValueKind.Float:
                return left!.GetValue<double>().Equals(right!.GetValue<double>());
            case TemplateValueKind.Array:
                JsonArray x = left!.AsArray(), y = right!.AsArray();
                return x.Count == y.Count && x.Zip(y).All(pair => DeepEquals(pair.First, pair.Second));
            default:
                JsonObject o = left!.AsObject(), p = right!.AsObject();
                return o.Count == p.Count && o.All(member => TryGetMember(p, member.Key, out JsonNode? other) && DeepEquals(member.Value, other));
        }
    }

    /// <summary>Looks a property up as ARM does: exact name first, then case-insensitively.</summary>
    public static bool TryGetMember(JsonObject value, string name, out JsonNode? member)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.TryGetPropertyValue(name, out member))
            return true;
        foreach (KeyValuePair<string, JsonNode?> pair in value)
        {
            if (string.Equals(pair.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                member = pair.Value;
                return true;
            }
        }

        member = null;
        return false;
    }

    /// <summary>The text of a value as <c>string()</c>, <c>concat</c> and <c>format</c> write it (ARM: booleans as True/False, objects as compact JSON).</summary>
    public static string ToText(JsonNode? value) => KindOf(value) switch
    {
        TemplateValueKind.Null => "",
        TemplateValueKind.String => value!.GetValue<string>(),
        TemplateValueKind.Int => TryGetInt(value, out long n) ? n.ToString(CultureInfo.InvariantCulture) : "",
        TemplateValueKind.Bool => value!.GetValue<bool>() ? "True" : "False",
        TemplateValueKind.Float => value!.GetValue<double>().ToString(CultureInfo.InvariantCulture),
        _ => value!.ToJsonString(),
    };

    private static bool IsIntegral(JsonValue value) =>
        value.TryGetValue(out double d) && Math.Abs(d) < 9.2e18 && d == Math.Floor(d) && !value.ToJsonString().Contains('.', StringComparison.Ordinal);
}
