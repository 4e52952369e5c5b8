using System.Text.Json;
using System.Text.RegularExpressions;

namespace TrustedLaunch.ControlPlane.Rules;

/// <summary>
/// One rule of the VM rules table (<c>Rules/trusted-launch-rules.json</c>): when every condition of <see cref="When"/>
/// holds for a request's facts (an empty list always holds), the request is refused with <see cref="Code"/>, <see cref="Message"/> and
/// <see cref="Target"/>. With <see cref="Each"/> naming a list fact, the rule refuses once per entry (one per offending
/// data disk, say), with <c>{location}</c> and <c>{value}</c> filled from the entry.
/// </summary>
public sealed record VmRule
{
    public required string Code { get; init; }

    /// <summary>trustedLaunch, catalog, update or extension.</summary>
    public required string Category { get; init; }

    /// <summary>400, or 409 for a rule about the VM's current state (it must be deallocated first).</summary>
    public required int Status { get; init; }

    public required IReadOnlyList<RuleCondition> When { get; init; }

    public string? Each { get; init; }

    public required string Target { get; init; }

    public required string Message { get; init; }

    /// <summary>
    /// Where the message comes from: <c>azure</c> (Azure's text, verbatim, from the control-plane fact sheet),
    /// <c>azure-unverified</c> (Azure's wording as clients report it, not confirmed in a primary source), <c>capz</c>
    /// (Cluster API Azure's client-side mirror of Azure's check) or <c>ours</c> (Azure's is not public or not offered).
    /// </summary>
    public required string Source { get; init; }

    /// <summary>The code Azure answers with, where it differs from ours and is known.</summary>
    public string? AzureCode { get; init; }

    /// <summary>A sentence for the documentation: the case and why.</summary>
    public required string Summary { get; init; }
}

/// <summary>
/// A condition on one fact: <see cref="Is"/> equal to a JSON value, <see cref="IsNot"/> different from one, or
/// <see cref="In"/> one of several. Null facts equal JSON null.
/// </summary>
public sealed record RuleCondition
{
    public required string Fact { get; init; }

    public JsonElement? Is { get; init; }

    public JsonElement? IsNot { get; init; }

    public IReadOnlyList<JsonElement>? In { get; init; }
}

/// <summary>The rules table: loaded once from the embedded JSON, checked against the fact names at load.</summary>
public sealed partial class RuleTable
{
    private RuleTable(string description, IReadOnlyList<VmRule> rules)
    {
        Description = description;
        Rules = rules;
    }

    public static RuleTable Default { get; } = Load();

    public string Description { get; }

    public IReadOnlyList<VmRule> Rules { get; }

    /// <summary>Parses a rules document and checks it names only known facts and placeholders.</summary>
    /// <exception cref="InvalidOperationException">The document is malformed or names an unknown fact.</exception>
    public static RuleTable Parse(Stream json)
    {
        RuleTableDocument document = JsonSerializer.Deserialize(json, ControlPlaneJson.Default.RuleTableDocument)
            ?? throw new InvalidOperationException("The rules table is empty.");
        foreach (VmRule rule in document.Rules)
            Check(rule);
        if (document.Rules.GroupBy(r => r.Code, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
            throw new InvalidOperationException($"Rule code {duplicate.Key} appears twice: each rule has its own code.");
        return new RuleTable(document.Description, document.Rules);
    }

    private static RuleTable Load()
    {
        using Stream stream = typeof(RuleTable).Assembly.GetManifestResourceStream("TrustedLaunch.ControlPlane.trusted-launch-rules.json")
            ?? throw new InvalidOperationException("The embedded rules table trusted-launch-rules.json is missing from the assembly.");
        return Parse(stream);
    }

    private static void Check(VmRule rule)
    {
        foreach (RuleCondition condition in rule.When)
        {
            if (!VmFacts.ScalarNames.Contains(condition.Fact))
                throw new InvalidOperationException($"Rule {rule.Code}: unknown fact '{condition.Fact}'.");
            int operators = (condition.Is is null ? 0 : 1) + (condition.IsNot is null ? 0 : 1) + (condition.In is null ? 0 : 1);
            if (operators != 1)
                throw new InvalidOperationException($"Rule {rule.Code}: the condition on '{condition.Fact}' needs exactly one of is, isNot, in.");
        }

        if (rule.Each is not null && !VmFacts.ListNames.Contains(rule.Each))
            throw new InvalidOperationException($"Rule {rule.Code}: unknown list fact '{rule.Each}'.");
        foreach (string text in new[] { rule.Message, rule.Target })
        {
            foreach (Match placeholder in Placeholder().Matches(text))
            {
                string name = placeholder.Groups[1].Value;
                bool known = VmFacts.ScalarNames.Contains(name) || (rule.Each is not null && name is "location" or "value");
                if (!known)
                    throw new InvalidOperationException($"Rule {rule.Code}: unknown placeholder '{{{name}}}'.");
            }
        }
    }

    [GeneratedRegex(@"\{([A-Za-z.]+)\}")]
    internal static partial Regex Placeholder();
}

/// <summary>The shape of <c>trusted-launch-rules.json</c>.</summary>
public sealed record RuleTableDocument
{
    public required string Description { get; init; }

    public required IReadOnlyList<VmRule> Rules { get; init; }
}
