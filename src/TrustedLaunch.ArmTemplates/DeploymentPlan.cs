using System.Text.Json.Nodes;
using TrustedLaunch.ArmTemplates.Expressions;

namespace TrustedLaunch.ArmTemplates;

/// <summary>
/// A template with its parameters, validated and expanded: every expression parsed and every function known,
/// parameters checked, copy loops expanded, conditions evaluated, <c>dependsOn</c> resolved to resource ids and
/// free of cycles. Nothing is deployed here; the caller deploys <see cref="Waves"/> in order (each wave's resources
/// in parallel), evaluating each body with <see cref="EvaluateResource"/> when its turn comes.
/// </summary>
public sealed class DeploymentPlan
{
    private static readonly HashSet<string> NonBodyMembers = new(StringComparer.OrdinalIgnoreCase)
    {
        "type", "name", "apiVersion", "dependsOn", "condition", "copy", "resources", "comments", "metadata",
    };

    private readonly TemplateScope _scope;
    private readonly ArmTemplate _template;
    private readonly Lock _evaluation = new();

    private DeploymentPlan(ArmTemplate template, TemplateScope scope, IReadOnlyList<PlannedResource> resources, IReadOnlyList<IReadOnlyList<PlannedResource>> waves)
    {
        _template = template;
        _scope = scope;
        Resources = resources;
        Waves = waves;
    }

    public IReadOnlyList<PlannedResource> Resources { get; }

    /// <summary>The resources in dependency order: every resource's dependencies are in earlier waves.</summary>
    public IReadOnlyList<IReadOnlyList<PlannedResource>> Waves { get; }

    public DeploymentScope Scope => _scope.Deployment;

    /// <summary>Plans <paramref name="template"/> with the given parameter values (names case-insensitive).</summary>
    public static DeploymentPlan Create(ArmTemplate template, IReadOnlyDictionary<string, JsonNode?> parameters, DeploymentScope scope)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(scope);
        var given = new Dictionary<string, JsonNode?>(parameters, StringComparer.OrdinalIgnoreCase);
        string[] unknown = given.Keys.Where(name => template.FindParameter(name) is null).ToArray();
        if (unknown.Length > 0)
        {
            throw new TemplateParameterException(
                $"The template parameters '{string.Join(", ", unknown)}' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. " +
                $"The only supported parameters for this template are '{string.Join(", ", template.Parameters.Select(p => p.Name))}'.");
        }

        TemplateSyntaxCheck.Check(template.Root);
        var scopeOfNames = new TemplateScope(template, given, scope);
        var context = new EvaluationContext(scopeOfNames, null, null);
        foreach (TemplateParameter parameter in template.Parameters)
            scopeOfNames.Parameter(parameter.Name, context);
        foreach ((string name, _) in template.Variables)
            scopeOfNames.Variable(name, context);

        IReadOnlyList<PlannedResource> resources = ResourceExpansion.Expand(template, scopeOfNames);
        return new DeploymentPlan(template, scopeOfNames, resources, DependencyOrder.Waves(resources));
    }

    /// <summary>The parameters as a deployment answer shows them: <c>{name: {type, value}}</c>, secure ones without their value.</summary>
    public JsonObject ParametersForDisplay()
    {
        var display = new JsonObject();
        var context = new EvaluationContext(_scope, null, null);
        lock (_evaluation)
        {
            foreach (TemplateParameter parameter in _template.Parameters)
            {
                var entry = new JsonObject { ["type"] = parameter.TypeName };
                if (!parameter.IsSecure)
                    entry["value"] = TemplateValues.Detach(_scope.Parameter(parameter.Name, context));
                display[parameter.Name] = entry;
            }
        }

        return display;
    }

    /// <summary>
    /// The resource's body as its provider receives it (<c>location</c>, <c>tags</c>, <c>sku</c>, <c>properties</c>, …, every
    /// expression evaluated), with <c>id</c>, <c>name</c> and <c>type</c>.
    /// </summary>
    public JsonObject EvaluateResource(PlannedResource resource, IReferenceResolver references)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var body = new JsonObject { ["id"] = resource.Id, ["name"] = resource.Name, ["type"] = resource.Type };
        EvaluationContext context = ResourceExpansion.ContextOf(resource, new EvaluationContext(_scope, references, resource.Target));
        lock (_evaluation)
        {
            foreach ((string name, JsonNode? member) in resource.Declaration)
            {
                if (!NonBodyMembers.Contains(name))
                    body[name] = TemplateValues.Detach(ExpressionEvaluator.EvaluateValue(member, context.At($"{resource.Target}.{name}")));
            }
        }

        return body;
    }

    /// <summary>The template's outputs, <c>{name: {type, value}}</c> (secure outputs without their value, as ARM answers).</summary>
    public JsonObject EvaluateOutputs(IReferenceResolver references)
    {
        var outputs = new JsonObject();
        lock (_evaluation)
        {
            foreach ((string name, JsonNode? definition) in _template.Outputs)
            {
                string target = $"outputs.{name}";
                var context = new EvaluationContext(_scope, references, target);
                if (definition is not JsonObject output || !TemplateValues.TryGetMember(output, "type", out JsonNode? typeNode))
                    throw new TemplateSyntaxException($"The template output '{name}' must be an object with a 'type' and a 'value'.", target);
                if (TemplateValues.TryGetMember(output, "condition", out JsonNode? condition))
                {
                    if (!TemplateValues.TryGetBool(ExpressionEvaluator.EvaluateValue(condition, context), out bool include))
                        throw new TemplateEvaluationException($"The condition of output '{name}' is not a boolean.", $"{target}.condition");
                    if (!include)
                        continue;
                }

                string type = TemplateValues.ToText(ExpressionEvaluator.EvaluateValue(typeNode, context));
                TemplateValues.TryGetMember(output, "value", out JsonNode? valueNode);
                var entry = new JsonObject { ["type"] = type };
                if (!type.StartsWith("secure", StringComparison.OrdinalIgnoreCase))
                    entry["value"] = TemplateValues.Detach(ExpressionEvaluator.EvaluateValue(valueNode, context.At($"{target}.value")));
                outputs[name] = entry;
            }
        }

        return outputs;
    }
}
