using System.Text.Json.Nodes;
using TrustedLaunch.ArmTemplates.Expressions;

namespace TrustedLaunch.ArmTemplates;

/// <summary>
/// Turns the template's resource declarations into planned resources: nested child resources flattened (with an
/// implicit dependency on their parent), copy loops expanded, conditions, names and <c>dependsOn</c> evaluated.
/// </summary>
internal static class ResourceExpansion
{
    private sealed record Declared(PlannedResource Resource, IReadOnlyList<string> DependsOnText, string? Parent);

    public static IReadOnlyList<PlannedResource> Expand(ArmTemplate template, TemplateScope scope)
    {
        var declared = new List<Declared>();
        var loops = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        var root = new EvaluationContext(scope, null, "resources");
        for (int i = 0; i < template.Resources.Count; i++)
            Declare(template.Resources[i], $"resources[{i}]", null, root, declared, loops);

        var ids = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (Declared d in declared)
        {
            if (!ids.Add(d.Resource.Id))
                throw new TemplateEvaluationException($"The resource '{d.Resource.Id}' is defined multiple times in a template. Please see https://aka.ms/arm-syntax-resources for usage details.", d.Resource.Target);
            scope.ResourceIdsByName.TryAdd(d.Resource.Name, d.Resource.Id);
        }

        var resolved = new List<PlannedResource>(declared.Count);
        foreach (Declared d in declared)
        {
            var dependsOn = new List<string>();
            if (d.Parent is not null && ids.Contains(d.Parent))
                dependsOn.Add(d.Parent);
            foreach (string entry in d.DependsOnText)
                dependsOn.AddRange(Resolve(entry, d.Resource, declared, loops));
            resolved.Add(d.Resource with { DependsOn = dependsOn.Distinct(StringComparer.OrdinalIgnoreCase).ToArray() });
        }

        return resolved;
    }

    public static EvaluationContext ContextOf(PlannedResource resource, EvaluationContext context) =>
        resource.CopyLoop is null ? context : context.InLoop(resource.CopyLoop, resource.CopyIndex);

    private static void Declare(JsonNode? node, string target, PlannedResource? parent, EvaluationContext root, List<Declared> declared,
        Dictionary<string, List<string>> loops)
    {
        if (node is not JsonObject declaration)
            throw new TemplateSyntaxException("A template resource must be a JSON object.", target);
        EvaluationContext context = root.At(target);
        string? loop = null;
        int count = 1;
        if (TemplateValues.TryGetMember(declaration, "copy", out JsonNode? copyNode))
        {
            if (copyNode is not JsonObject copy || !TemplateValues.TryGetMember(copy, "name", out JsonNode? loopName)
                || !TemplateValues.TryGetString(loopName, out string name))
                throw new TemplateSyntaxException("A resource copy loop needs a 'name' and a 'count'.", $"{target}.copy");
            loop = name;
            count = PropertyCopy.Count(copy, context.At($"{target}.copy"));
            loops.TryAdd(loop, []);
        }

        for (int index = 0; index < count; index++)
        {
            EvaluationContext inner = loop is null ? context : context.InLoop(loop, index);
            string type = Text(declaration, "type", inner, target);
            string name = Text(declaration, "name", inner, target);
            if (parent is not null)
            {
                if (!type.Contains('/', StringComparison.Ordinal))
                    type = $"{parent.Type}/{type}";
                if (name.Count(c => c == '/') < type.Count(c => c == '/') - 1)
                    name = $"{parent.Name}/{name}";
            }

            int expectedSegments = type.Count(c => c == '/');
            if (!type.Contains('/', StringComparison.Ordinal) || name.Split('/').Length != expectedSegments)
                throw new TemplateEvaluationException($"The template resource '{name}' for type '{type}' has an incorrect segment length. A nested resource type must have identical number of segments as its resource name. A root resource type must have segment length one greater than its resource name.", $"{target}.name");

            string apiVersion = Text(declaration, "apiVersion", inner, target);
            bool condition = true;
            if (TemplateValues.TryGetMember(declaration, "condition", out JsonNode? conditionNode)
                && !TemplateValues.TryGetBool(ExpressionEvaluator.EvaluateValue(conditionNode, inner.At($"{target}.condition")), out condition))
                throw new TemplateEvaluationException("The resource condition must be a boolean.", $"{target}.condition");
            DeploymentScope scope = root.Scope.Deployment;
            var resource = new PlannedResource
            {
                Id = ResourceIds.InGroup(scope.SubscriptionId, scope.ResourceGroup, type, name),
                Type = type,
                Name = name,
                ApiVersion = apiVersion,
                Condition = condition && (parent?.Condition ?? true),
                DependsOn = [],
                Target = target,
                CopyLoop = loop,
                CopyIndex = index,
                Declaration = declaration,
            };
            declared.Add(new Declared(resource, DependsOnText(declaration, inner, target), parent?.Id));
            if (loop is not null)
                loops[loop].Add(resource.Id);

            if (TemplateValues.TryGetMember(declaration, "resources", out JsonNode? children) && children is JsonArray nested)
            {
                for (int c = 0; c < nested.Count; c++)
                    Declare(nested[c], $"{target}.resources[{c}]", resource, root, declared, loops);
            }
        }
    }

    private static string Text(JsonObject declaration, string member, EvaluationContext context, string target)
    {
        if (!TemplateValues.TryGetMember(declaration, member, out JsonNode? node))
            throw new TemplateSyntaxException($"The template resource at '{target}' has no '{member}'.", $"{target}.{member}");
        JsonNode? value = ExpressionEvaluator.EvaluateValue(node, context.At($"{target}.{member}"));
        return TemplateValues.TryGetString(value, out string text) && text.Length > 0
            ? text
            : throw new TemplateEvaluationException($"The '{member}' of the template resource at '{target}' must be a non-empty string.", $"{target}.{member}");
    }

    private static string[] DependsOnText(JsonObject declaration, EvaluationContext context, string target)
    {
        if (!TemplateValues.TryGetMember(declaration, "dependsOn", out JsonNode? node) || node is null)
            return [];
        if (ExpressionEvaluator.EvaluateValue(node, context.At($"{target}.dependsOn")) is not JsonArray entries)
            throw new TemplateSyntaxException("The 'dependsOn' of a resource must be an array.", $"{target}.dependsOn");
        return entries.Select(e => TemplateValues.TryGetString(e, out string s)
            ? s
            : throw new TemplateEvaluationException("A 'dependsOn' entry must be a string.", $"{target}.dependsOn")).ToArray();
    }

    // A dependsOn entry is a resource id, "Namespace/type/name", a resource name, or a copy loop's name (all of it).
    private static IEnumerable<string> Resolve(string entry, PlannedResource of, List<Declared> declared, Dictionary<string, List<string>> loops)
    {
        string wanted = entry.Trim();
        if (loops.TryGetValue(wanted, out List<string>? members))
            return members;
        IEnumerable<PlannedResource> all = declared.Select(d => d.Resource);
        PlannedResource[] matches = wanted.StartsWith('/')
            ? all.Where(r => r.Id.Equals(wanted, StringComparison.OrdinalIgnoreCase)).ToArray()
            : wanted.Contains('/', StringComparison.Ordinal)
                ? all.Where(r => MatchesTypeAndName(r, wanted)).ToArray()
                : all.Where(r => r.Name.Equals(wanted, StringComparison.OrdinalIgnoreCase) || r.ShortName.Equals(wanted, StringComparison.OrdinalIgnoreCase)).ToArray();
        if (matches.Length == 0)
            throw new TemplateEvaluationException($"The resource '{wanted}' is not defined in the template. Please see https://aka.ms/arm-syntax for usage details.", $"{of.Target}.dependsOn");
        return matches.Select(m => m.Id);
    }

    private static bool MatchesTypeAndName(PlannedResource resource, string wanted) =>
        ResourceIds.Interleave(resource.Type, resource.Name).Equals(wanted, StringComparison.OrdinalIgnoreCase)
        || $"{resource.Type}/{resource.Name}".Equals(wanted, StringComparison.OrdinalIgnoreCase)
        || resource.Name.Equals(wanted, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Orders planned resources into waves: a resource comes after everything it depends on; a cycle is an error.</summary>
internal static class DependencyOrder
{
    public static IReadOnlyList<IReadOnlyList<PlannedResource>> Waves(IReadOnlyList<PlannedResource> resources)
    {
        var remaining = resources.ToDictionary(r => r.Id, StringComparer.OrdinalIgnoreCase);
        var done = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var waves = new List<IReadOnlyList<PlannedResource>>();
        while (remaining.Count > 0)
        {
            PlannedResource[] ready = resources.Where(r => remaining.ContainsKey(r.Id) && r.DependsOn.All(done.Contains)).ToArray();
            if (ready.Length == 0)
            {
                PlannedResource stuck = resources.First(r => remaining.ContainsKey(r.Id));
                throw new TemplateEvaluationException($"Deployment template validation failed: Circular dependency detected on resource: '{stuck.Id}'. Please see https://aka.ms/arm-syntax-resources for usage details.", stuck.Target);
            }

            foreach (PlannedResource r in ready)
            {
                remaining.Remove(r.Id);
                done.Add(r.Id);
            }

            waves.Add(ready);
        }

        return waves;
    }
}
