using System.Text;
using System.Text.Json;
using TrustedLaunch.ControlPlane.Rules;
using TrustedLaunch.Testing;

namespace TrustedLaunch.ControlPlane.Tests;

/// <summary>
/// docs/control-plane.md shows the rules table and the facts rendered from the data; this keeps them in step. To
/// refresh the page after changing the data, run the test with <c>TL_UPDATE_DOCS=1</c>.
/// </summary>
public sealed class RulesTableDocsTests
{
    private const string Begin = "<!-- rules-table:begin (generated from Rules/trusted-launch-rules.json by RulesTableDocsTests; TL_UPDATE_DOCS=1 refreshes it) -->";
    private const string End = "<!-- rules-table:end -->";

    [Fact]
    public void Docs_RulesTable_RenderedFromTheData()
    {
        string path = Path.Combine(RepositoryPaths.RepositoryRoot, "docs", "control-plane.md");
        string page = File.ReadAllText(path);
        int begin = page.IndexOf(Begin, StringComparison.Ordinal);
        int end = page.IndexOf(End, StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, $"{path} lacks the generated rules section markers.");
        string expected = Begin + "\n" + Render(RuleTable.Default) + End;
        string actual = page[begin..(end + End.Length)];
        if (actual != expected && Environment.GetEnvironmentVariable("TL_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, page[..begin] + expected + page[(end + End.Length)..]);
            return;
        }

        Assert.True(actual == expected, "docs/control-plane.md's rules table differs from the data; run with TL_UPDATE_DOCS=1 to refresh it.");
    }

    internal static string Render(RuleTable table)
    {
        var text = new StringBuilder();
        text.Append("\n| code | status | when | target | message | source |\n|---|---|---|---|---|---|\n");
        foreach (VmRule rule in table.Rules)
        {
            var parts = new List<string>(rule.When.Select(Condition));
            if (rule.Each is not null)
                parts.Add($"once per entry of `{rule.Each}`");
            string when = parts.Count == 0 ? "always" : string.Join(" and ", parts);
            string source = rule.Source + (rule.AzureCode is null ? "" : $" (Azure's code: {rule.AzureCode})");
            text.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"| `{rule.Code}` | {rule.Status} | {when} | `{rule.Target}` | {Cell(rule.Message)} | {source} |\n");
        }

        text.Append("\nWhat each rule covers:\n\n");
        foreach (VmRule rule in table.Rules)
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"- `{rule.Code}`: {rule.Summary}\n");
        text.Append("\nThe facts the conditions test (computed for every PUT, after Azure's defaults are applied):\n\n| fact | meaning |\n|---|---|\n");
        foreach ((string name, string meaning) in VmFacts.Scalars)
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"| `{name}` | {Cell(meaning)} |\n");
        foreach ((string name, string meaning) in VmFacts.Lists)
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"| `{name}` (list) | {Cell(meaning)} |\n");
        text.Append('\n');
        return text.ToString();
    }

    private static string Condition(RuleCondition condition)
    {
        if (condition.Is is JsonElement value)
            return $"`{condition.Fact}` = {Value(value)}";
        if (condition.IsNot is JsonElement other)
            return $"`{condition.Fact}` ≠ {Value(other)}";
        return $"`{condition.Fact}` in {{{string.Join(", ", condition.In!.Select(Value))}}}";
    }

    private static string Value(JsonElement value) => value.ValueKind == JsonValueKind.String ? $"`{value.GetString()}`" : $"`{value.GetRawText()}`";

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);
}
