using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TrustedLaunch.ArmTemplates.Expressions;

namespace TrustedLaunch.ArmTemplates;

/// <summary>The types a template parameter can declare (names case-insensitive in templates).</summary>
public enum TemplateParameterType
{
    String,
    SecureString,
    Int,
    Bool,
    Object,
    SecureObject,
    Array,
}

/// <summary>
/// One declared parameter: its type, <c>defaultValue</c> (may be an expression), <c>allowedValues</c> and bounds.
/// Values of secure types are never written into messages, the plan's display or outputs.
/// </summary>
public sealed record TemplateParameter
{
    public required string Name { get; init; }

    public required TemplateParameterType Type { get; init; }

    public JsonNode? DefaultValue { get; init; }

    public bool HasDefault { get; init; }

    public JsonArray? AllowedValues { get; init; }

    public long? MinValue { get; init; }

    public long? MaxValue { get; init; }

    public long? MinLength { get; init; }

    public long? MaxLength { get; init; }

    public bool IsSecure => Type is TemplateParameterType.SecureString or TemplateParameterType.SecureObject;

    /// <summary>The name ARM's deployment answers give the type (<c>String</c>, <c>SecureString</c>, <c>Int</c>, …).</summary>
    public string TypeName => Type.ToString();

    internal static TemplateParameter Parse(string name, JsonNode? definition)
    {
        string target = $"parameters.{name}";
        if (definition is not JsonObject obj)
            throw new TemplateSyntaxException($"The template parameter '{name}' must be an object with a 'type'.", target);
        if (!TemplateValues.TryGetMember(obj, "type", out JsonNode? typeNode) || !TemplateValues.TryGetString(typeNode, out string typeText)
            || !Enum.TryParse(typeText, ignoreCase: true, out TemplateParameterType type) || int.TryParse(typeText, out _))
        {
            throw new TemplateSyntaxException(
                $"The template parameter '{name}' has type '{TemplateValues.ToText(typeNode)}': the types are string, securestring, int, bool, object, secureobject and array.",
                $"{target}.type");
        }

        bool hasDefault = TemplateValues.TryGetMember(obj, "defaultValue", out JsonNode? defaultValue);
        JsonArray? allowed = null;
        if (TemplateValues.TryGetMember(obj, "allowedValues", out JsonNode? allowedNode))
            allowed = allowedNode as JsonArray ?? throw new TemplateSyntaxException($"The allowedValues of parameter '{name}' must be an array.", $"{target}.allowedValues");
        return new TemplateParameter
        {
            Name = name,
            Type = type,
            DefaultValue = defaultValue,
            HasDefault = hasDefault,
            AllowedValues = allowed,
            MinValue = Bound(obj, "minValue", target),
            MaxValue = Bound(obj, "maxValue", target),
            MinLength = Bound(obj, "minLength", target),
            MaxLength = Bound(obj, "maxLength", target),
        };
    }

    /// <summary>
    /// A value given as text on a command line (<c>name=value</c>), read as this parameter's type: strings as they
    /// are, numbers and booleans parsed, objects and arrays as JSON.
    /// </summary>
    public JsonNode? FromText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        switch (Type)
        {
            case TemplateParameterType.String or TemplateParameterType.SecureString:
                return JsonValue.Create(text);
            case TemplateParameterType.Int when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n):
                return JsonValue.Create(n);
            case TemplateParameterType.Bool when bool.TryParse(text, out bool b):
                return JsonValue.Create(b);
            case TemplateParameterType.Object or TemplateParameterType.SecureObject or TemplateParameterType.Array:
                try
                {
                    return JsonNode.Parse(text);
                }
                catch (JsonException)
                {
                    throw new TemplateParameterException($"The value given for the template parameter '{Name}' is not valid JSON for its type '{TypeName}'.", $"parameters.{Name}");
                }

            default:
                throw new TemplateParameterException(IsSecure
                    ? $"The value given for the template parameter '{Name}' is not of its type '{TypeName}'."
                    : $"The value '{text}' given for the template parameter '{Name}' is not of its type '{TypeName}'.", $"parameters.{Name}");
        }
    }

    /// <summary>The given value (or the default, evaluated), checked against the type, allowed values and bounds.</summary>
    internal JsonNode? Resolve(IReadOnlyDictionary<string, JsonNode?> given, TemplateScope scope)
    {
        string target = $"parameters.{Name}";
        JsonNode? value;
        if (given.TryGetValue(Name, out JsonNode? supplied))
            value = supplied;
        else if (HasDefault)
            value = ExpressionEvaluator.EvaluateValue(DefaultValue, new EvaluationContext(scope, null, $"{target}.defaultValue"));
        else
            throw new TemplateParameterException($"The value for the template parameter '{Name}' is not provided. Please see https://aka.ms/arm-deploy/#parameter-file for usage details.", target);

        CheckType(value, target);
        if (AllowedValues is not null && !AllowedValues.Any(a => TemplateValues.DeepEquals(a, value)))
        {
            string allowed = string.Join(",", AllowedValues.Select(TemplateValues.ToText));
            throw new TemplateParameterException(IsSecure
                ? $"The provided value for the template parameter '{Name}' is not valid: it is not one of the allowed values."
                : $"The provided value for the template parameter '{Name}' is not valid. The value '{TemplateValues.ToText(value)}' is not part of the allowed value(s): '{allowed}'.", target);
        }

        CheckBounds(value, target);
        return value;
    }

    private void CheckType(JsonNode? value, string target)
    {
        TemplateValueKind kind = TemplateValues.KindOf(value);
        bool ok = Type switch
        {
            TemplateParameterType.String or TemplateParameterType.SecureString => kind == TemplateValueKind.String,
            TemplateParameterType.Int => kind == TemplateValueKind.Int,
            TemplateParameterType.Bool => kind == TemplateValueKind.Bool,
            TemplateParameterType.Object or TemplateParameterType.SecureObject => kind is TemplateValueKind.Object or TemplateValueKind.Null,
            _ => kind is TemplateValueKind.Array,
        };
        if (!ok)
        {
            throw new TemplateParameterException(
                $"Template parameter '{Name}' was provided an invalid value. Expected a value of type '{TypeName}', but received a value of type '{kind}'.", target);
        }
    }

    private void CheckBounds(JsonNode? value, string target)
    {
        if (TemplateValues.TryGetInt(value, out long number) && (number < MinValue || number > MaxValue))
            throw new TemplateParameterException($"The provided value for the template parameter '{Name}' is not valid: it must be from {MinValue?.ToString(CultureInfo.InvariantCulture) ?? "-∞"} to {MaxValue?.ToString(CultureInfo.InvariantCulture) ?? "∞"}.", target);
        long? length = value switch
        {
            JsonArray a => a.Count,
            _ when TemplateValues.TryGetString(value, out string s) => s.Length,
            _ => null,
        };
        if (length < MinLength || length > MaxLength)
            throw new TemplateParameterException($"The provided value for the template parameter '{Name}' is not valid: its length must be from {MinLength ?? 0} to {MaxLength?.ToString(CultureInfo.InvariantCulture) ?? "∞"}.", target);
    }

    private static long? Bound(JsonObject definition, string name, string target)
    {
        if (!TemplateValues.TryGetMember(definition, name, out JsonNode? node))
            return null;
        return TemplateValues.TryGetInt(node, out long value) ? value : throw new TemplateSyntaxException($"The {name} of the template parameter must be an integer.", $"{target}.{name}");
    }
}
