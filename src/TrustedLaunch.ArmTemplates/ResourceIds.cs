namespace TrustedLaunch.ArmTemplates;

/// <summary>ARM resource ids from a type (<c>Namespace/type[/childType…]</c>) and a name (<c>name[/childName…]</c>).</summary>
public static class ResourceIds
{
    public static string InGroup(string subscriptionId, string resourceGroup, string type, string name) =>
        $"/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/{Interleave(type, name)}";

    public static string InSubscription(string subscriptionId, string type, string name) =>
        $"/subscriptions/{subscriptionId}/providers/{Interleave(type, name)}";

    /// <summary><c>Microsoft.Network/virtualNetworks/subnets</c> + <c>vnet/default</c> → <c>Microsoft.Network/virtualNetworks/vnet/subnets/default</c>.</summary>
    public static string Interleave(string type, string name)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(name);
        string[] types = type.Trim('/').Split('/');
        string[] names = name.Split('/');
        if (names.Length != types.Length - 1)
            throw new TemplateEvaluationException($"The resource name '{name}' does not match the type '{type}': it needs {types.Length - 1} segment(s).");
        var parts = new List<string> { types[0] };
        for (int i = 1; i < types.Length; i++)
        {
            parts.Add(types[i]);
            parts.Add(names[i - 1]);
        }

        return string.Join('/', parts);
    }
}
