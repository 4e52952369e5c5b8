using System.Text.Json;
using System.Text.Json.Nodes;

namespace TrustedLaunch.ArmTemplates;

/// <summary>
/// A deployment template (ARM JSON, also what Bicep compiles to): its parameters, variables, resources and outputs,
/// checked for shape when parsed. Templates with symbolic resource names (<c>languageVersion</c> 2.0) and
/// user-defined functions are refused by name.
/// </summary>
public sealed class ArmTemplate
{
    private static readonly HashSet<string> KnownSections = new(StringComparer.OrdinalIgnoreCase)
    {
        "$schema", "contentVersion", "apiProfile", "metadata", "parameters", "variables", "functions", "resources", "outputs", "definitions",
    };

    private ArmTemplate(JsonObject root, IReadOnlyList<TemplateParameter> parameters, JsonObject variables, JsonArray resources, JsonObject outputs)
    {
        Root = root;
        Parameters = parameters;
        Variables = variables;
        Resources = resources;
        Outputs = outputs;
    }

    public JsonObject Root { get; }

    public IReadOnlyList<TemplateParameter> Parameters { get; }

    public JsonObject Variables { get; }

    public JsonArray Resources { get; }

    public JsonObject Outputs { get; }

    /// <summary>The Bicep version that compiled the template (<c>metadata._generator</c>), when it says so.</summary>
    public string? Generator => Root["metadata"]?["_generator"] is JsonObject g ? $"{g["name"]} {g["version"]}" : null;

    public static ArmTemplate Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json, new JsonNodeOptions { PropertyNameCaseInsensitive = false },
                new JsonDocumentOptions { MaxDepth = 128, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new TemplateSyntaxException($"The template is not valid JSON: {e.Message}");
        }

        return FromJson(node as JsonObject ?? throw new TemplateSyntaxException("The template must be a JSON object."));
    }

    public static ArmTemplate FromJson(JsonObject root)
    {
        ArgumentNullException.ThrowIfNull(root);
        foreach ((string name, _) in root)
        {
            if (!KnownSections.Contains(name) && !name.Equals("languageVersion", StringComparison.OrdinalIgnoreCase))
                throw new TemplateSyntaxException($"The template section '{name}' is not valid: a template has $schema, contentVersion, parameters, variables, functions, resources and outputs.", name);
        }

        if (TemplateValues.TryGetMember(root, "languageVersion", out JsonNode? languageVersion))
            throw new TemplateSyntaxException($"Template languageVersion '{TemplateValues.ToText(languageVersion)}' (symbolic resource names) is not supported; compile Bicep without it (the default).", "languageVersion");
        if (TemplateValues.TryGetMember(root, "functions", out JsonNode? functions) && functions is JsonArray { Count: > 0 } userFunctions)
        {
            string names = string.Join(", ", userFunctions.Select(f => TemplateValues.ToText(f?["namespace"])));
            throw new TemplateSyntaxException($"User-defined template functions are not supported (namespace: {names}).", "functions");
        }

        JsonObject parameterSection = Section<JsonObject>(root, "parameters") ?? [];
        var parameters = new List<TemplateParameter>();
        foreach ((string name, JsonNode? definition) in parameterSection)
            parameters.Add(TemplateParameter.Parse(name, definition));
        JsonObject variables = Section<JsonObject>(root, "variables") ?? [];
        if (TemplateValues.TryGetMember(variables, "copy", out _))
            throw new TemplateSyntaxException("Variable copy loops are not supported; use a property copy loop or range().", "variables.copy");
        JsonArray resources = Section<JsonArray>(root, "resources")
            ?? throw new TemplateSyntaxException("The template has no 'resources' array.", "resources");
        JsonObject outputs = Section<JsonObject>(root, "outputs") ?? [];
        return new ArmTemplate(root, parameters, variables, resources, outputs);
    }

    public TemplateParameter? FindParameter(string name) =>
        Parameters.FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    private static T? Section<T>(JsonObject root, string name)
        where T : JsonNode
    {
        if (!TemplateValues.TryGetMember(root, name, out JsonNode? section) || section is null)
            return null;
        return section as T ?? throw new TemplateSyntaxException($"The template section '{name}' must be a JSON {(typeof(T) == typeof(JsonArray) ? "array" : "object")}.", name);
    }
}
