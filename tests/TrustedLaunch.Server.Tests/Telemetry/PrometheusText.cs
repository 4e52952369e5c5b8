using System.Globalization;
using System.Text.RegularExpressions;

namespace TrustedLaunch.Server.Tests.Telemetry;

/// <summary>
/// Reads the Prometheus text exposition format (what a Prometheus server scrapes): sample lines
/// <c>name{label="value",…} number</c>; <c>#</c> lines are metadata.
/// </summary>
internal static partial class PrometheusText
{
    /// <summary>The sum of every sample of <paramref name="name"/> whose labels include all of <paramref name="labels"/>; null when none.</summary>
    public static double? Sum(string exposition, string name, params (string Label, string Value)[] labels)
    {
        double? sum = null;
        foreach (string line in exposition.Split('\n'))
        {
            Match sample = Sample().Match(line);
            if (!sample.Success || sample.Groups["name"].Value != name)
                continue;
            Dictionary<string, string> present = Label().Matches(sample.Groups["labels"].Value)
                .ToDictionary(m => m.Groups["label"].Value, m => m.Groups["value"].Value, StringComparer.Ordinal);
            if (labels.All(l => present.TryGetValue(l.Label, out string? v) && v == l.Value))
                sum = (sum ?? 0) + double.Parse(sample.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        return sum;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>[-+0-9.eE]+|NaN|\+Inf|-Inf)(\s+\d+)?\s*$")]
    private static partial Regex Sample();

    [GeneratedRegex(@"(?<label>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
