using System.Text.Json.Nodes;
using TrustedLaunch.ArmTemplates;

namespace TrustedLaunch.ControlPlane.Deployments;

/// <summary>
/// What a deployment would do, as ARM's what-if answers it (WhatIfOperationResult): one change per resource the
/// template deploys, <c>Create</c> when it does not exist, <c>NoChange</c> when every value the template sends is already
/// so, <c>Modify</c> with the property-level <c>delta</c> otherwise, and <c>Deploy</c> when the body depends on resources
/// the deployment would make first (<c>reference()</c> of something not deployed yet), so it cannot be compared.
/// The group's resources the template does not name are listed as ARM lists them: <c>Ignore</c> in Incremental mode (left
/// alone), <c>Delete</c> in Complete mode (with their current state as <c>before</c>).
/// </summary>
public static class DeploymentWhatIf
{
    // Members a provider answers with but a template names differently (a child's "parent/child" name) or that are identity, not state.
    private static readonly HashSet<string> Identity = new(StringComparer.OrdinalIgnoreCase) { "id", "name", "type", "apiVersion" };

    public static ResourceChange Compare(string resourceId, JsonObject? current, JsonObject? declared, JsonObject? comparable)
    {
        if (current is null)
            return new ResourceChange(resourceId, WhatIfChangeTypes.Create, null, declared, []);
        if (declared is null || comparable is null)
            return new ResourceChange(resourceId, WhatIfChangeTypes.Deploy, current, null, []);
        var delta = new List<PropertyChange>();
        foreach ((string name, JsonNode? value) in comparable)
        {
            if (!Identity.Contains(name))
                Walk(TemplateValues.TryGetMember(current, name, out JsonNode? have) ? have : null, value, name, delta);
        }

        return new ResourceChange(resourceId, delta.Count == 0 ? WhatIfChangeTypes.NoChange : WhatIfChangeTypes.Modify, current, declared, delta);
    }

    // The template's value against the resource's: a member the template leaves out (or sets to null) is not a change, as
    // in an incremental PUT; strings compare case-insensitively (Azure's enums and ids); arrays compare whole.
    private static void Walk(JsonNode? have, JsonNode? want, string path, List<PropertyChange> delta)
    {
        switch (want)
        {
            case null:
                return;
            case JsonObject wanted when have is JsonObject existing:
                foreach ((string name, JsonNode? value) in wanted)
                    Walk(TemplateValues.TryGetMember(existing, name, out JsonNode? member) ? member : null, value, $"{path}.{name}", delta);
                return;
            default:
                if (have is null)
                    delta.Add(new PropertyChange(path, WhatIfChangeTypes.Create, null, want.DeepClone()));
                else if (!Same(have, want))
                    delta.Add(new PropertyChange(path, WhatIfChangeTypes.Modify, have.DeepClone(), want.DeepClone()));
                return;
        }
    }

    private static bool Same(JsonNode? have, JsonNode? want) => want switch
    {
        JsonArray w => have is JsonArray h && h.Count == w.Count && w.Select((item, i) => item is null || Same(h[i], item)).All(b => b),
        JsonObject w => have is JsonObject h && w.All(m => m.Value is null || (TemplateValues.TryGetMember(h, m.Key, out JsonNode? v) && Same(v, m.Value))),
        _ when TemplateValues.TryGetString(want, out string text) => TemplateValues.TryGetString(have, out string other) && other.Equals(text, StringComparison.OrdinalIgnoreCase),
        _ => TemplateValues.DeepEquals(have, want),
    };

    /// <summary>ARM's WhatIfOperationResult: <c>{status, properties: {changes: [...]}}</c>.</summary>
    public static JsonObject Result(IEnumerable<ResourceChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var list = new JsonArray();
        foreach (ResourceChange change in changes)
        {
            var node = new JsonObject
            {
                ["resourceId"] = change.ResourceId,
                ["changeType"] = change.ChangeType,
                ["before"] = change.Before?.DeepClone(),
                ["after"] = change.After?.DeepClone(),
            };
            if (change.ChangeType == WhatIfChangeTypes.Modify)
            {
                node["delta"] = new JsonArray(change.Delta.Select(d => (JsonNode?)new JsonObject
                {
                    ["path"] = d.Path,
                    ["propertyChangeType"] = d.PropertyChangeType,
                    ["before"] = d.Before,
                    ["after"] = d.After,
                }).ToArray());
            }

            list.Add((JsonNode)node);
        }

        return new JsonObject { ["status"] = "Succeeded", ["properties"] = new JsonObject { ["changes"] = list } };
    }
}

/// <summary>ARM's ChangeType and PropertyChangeType values.</summary>
public static class WhatIfChangeTypes
{
    public const string Create = "Create";
    public const string Modify = "Modify";
    public const string NoChange = "NoChange";
    public const string Deploy = "Deploy";
    public const string Delete = "Delete";
    public const string Ignore = "Ignore";
}

/// <summary>One resource's change (WhatIfChange).</summary>
public sealed record ResourceChange(string ResourceId, string ChangeType, JsonObject? Before, JsonObject? After, IReadOnlyList<PropertyChange> Delta);

/// <summary>One property's change (WhatIfPropertyChange): <c>path</c> dotted from the resource's root.</summary>
public sealed record PropertyChange(string Path, string PropertyChangeType, JsonNode? Before, JsonNode? After);
