using System.Text.Json;
using TrustedLaunch.ControlPlane.Arm;

namespace TrustedLaunch.ControlPlane.Rules;

/// <summary>One refusal the rules table produced.</summary>
public sealed record RuleViolation(VmRule Rule, ArmErrorDetail Error);

/// <summary>Evaluates the rules table on a request's facts; every rule is evaluated, so one answer lists every violation.</summary>
public static class RuleEngine
{
    public static IReadOnlyList<RuleViolation> Evaluate(RuleTable table, VmFacts facts)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(facts);
        var violations = new List<RuleViolation>();
        foreach (VmRule rule in table.Rules)
        {
            if (!rule.When.All(condition => Holds(condition, facts.Get(condition.Fact))))
                continue;
            if (rule.Each is null)
            {
                violations.Add(new RuleViolation(rule, Error(rule, facts, null)));
                continue;
            }

            foreach (FactLocation entry in facts.GetList(rule.Each))
                violations.Add(new RuleViolation(rule, Error(rule, facts, entry)));
        }

        return violations;
    }

    /// <summary>The failure for <paramref name="violations"/>: 400 when any is a 400, else the first's status (409).</summary>
    public static ArmFailure ToFailure(IReadOnlyList<RuleViolation> violations)
    {
        ArgumentNullException.ThrowIfNull(violations);
        int status = violations.Any(v => v.Rule.Status == ArmErrors.BadRequest) ? ArmErrors.BadRequest : violations[0].Rule.Status;
        return ArmFailure.FromViolations(status, violations.Select(v => v.Error).ToArray());
    }

    internal static bool Holds(RuleCondition condition, FactValue value)
    {
        if (condition.Is is JsonElement expected)
            return EqualsJson(value, expected);
        if (condition.IsNot is JsonElement other)
            return !EqualsJson(value, other);
        return condition.In!.Any(candidate => EqualsJson(value, candidate));
    }

    private static bool EqualsJson(FactValue value, JsonElement json) => json.ValueKind switch
    {
        JsonValueKind.Null => value.Kind == FactKind.Null,
        JsonValueKind.True => value.Kind == FactKind.Boolean && value.Boolean,
        JsonValueKind.False => value.Kind == FactKind.Boolean && !value.Boolean,
        JsonValueKind.String => value.Kind == FactKind.Text && string.Equals(value.Text, json.GetString(), StringComparison.Ordinal),
        JsonValueKind.Number => value.Kind == FactKind.Number && json.TryGetInt64(out long n) && n == value.Number,
        _ => throw new InvalidOperationException($"A rule condition compares with a JSON {json.ValueKind}; only null, booleans, strings and integers are allowed."),
    };

    private static ArmErrorDetail Error(VmRule rule, VmFacts facts, FactLocation? entry) => new()
    {
        Code = rule.Code,
        Message = Fill(rule.Message, facts, entry),
        Target = Fill(rule.Target, facts, entry),
    };

    private static string Fill(string template, VmFacts facts, FactLocation? entry) =>
        RuleTable.Placeholder().Replace(template, match => match.Groups[1].Value switch
        {
            "location" when entry is not null => entry.Location,
            "value" when entry is not null => entry.Value ?? "",
            string name => facts.Get(name).ToString(),
        });
}
