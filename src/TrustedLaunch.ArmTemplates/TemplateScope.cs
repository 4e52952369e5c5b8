using System.Text.Json.Nodes;
using TrustedLaunch.ArmTemplates.Expressions;

namespace TrustedLaunch.ArmTemplates;

/// <summary>
/// The names a deployment's expressions resolve: parameter values (given, or their defaults, which may themselves be
/// expressions), variables (evaluated on first use, with loops in them detected), and the scope.
/// </summary>
internal sealed class TemplateScope
{
    private readonly ArmTemplate _template;
    private readonly IReadOnlyDictionary<string, JsonNode?> _given;
    private readonly Dictionary<string, JsonNode?> _parameters = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, JsonNode?> _variables = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _resolving = new(StringComparer.OrdinalIgnoreCase);

    public TemplateScope(ArmTemplate template, IReadOnlyDictionary<string, JsonNode?> given, DeploymentScope deployment)
    {
        _template = template;
        _given = given;
        Deployment = deployment;
    }

    public DeploymentScope Deployment { get; }

    /// <summary>Template resource names (full <c>parent/child</c> names) to their ids, for <c>reference('name')</c>.</summary>
    public Dictionary<string, string> ResourceIdsByName { get; } = new(StringComparer.OrdinalIgnoreCase);

    public JsonNode? Parameter(string name, EvaluationContext context)
    {
        if (_parameters.TryGetValue(name, out JsonNode? known))
            return known;
        TemplateParameter definition = _template.FindParameter(name)
            ?? throw context.Fail($"The template parameter '{name}' is not found. Please see https://aka.ms/arm-template/#parameters for usage details.");
        JsonNode? value = Guard($"parameters('{definition.Name}')", context, () => definition.Resolve(_given, this));
        _parameters[name] = value;
        return value;
    }

    public JsonNode? Variable(string name, EvaluationContext context)
    {
        if (_variables.TryGetValue(name, out JsonNode? known))
            return known;
        if (!TemplateValues.TryGetMember(_template.Variables, name, out JsonNode? definition))
            throw context.Fail($"The template variable '{name}' is not found. Please see https://aka.ms/arm-template/#variables for usage details.");
        JsonNode? value = Guard($"variables('{name}')", context,
            () => ExpressionEvaluator.EvaluateValue(definition, new EvaluationContext(this, null, $"variables.{name}")));
        _variables[name] = value;
        return value;
    }

    private JsonNode? Guard(string what, EvaluationContext context, Func<JsonNode?> resolve)
    {
        if (!_resolving.Add(what))
            throw context.Fail($"The template has a circular reference: {what} depends on itself.");
        try
        {
            return resolve();
        }
        finally
        {
            _resolving.Remove(what);
        }
    }
}
