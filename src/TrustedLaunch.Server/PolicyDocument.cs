using System.Text.RegularExpressions;
using TrustedLaunch.Attestation;

namespace TrustedLaunch.Server;

/// <summary>
/// A reference policy as the service stores it: <see cref="ReferencePolicy"/> JSON (which refuses unknown properties,
/// nulls in its lists and patterns the non-backtracking engine cannot run, and keeps a rule left out at its declared
/// default) whose name is usable in a URL and is not the built-in <c>minimum</c>.
/// </summary>
public static partial class PolicyDocument
{
    /// <summary>Names: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.</summary>
    public const string NameRule = "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit";

    /// <summary>True when <paramref name="name"/> can name a stored policy.</summary>
    public static bool IsValidName(string name) =>
        NamePattern().IsMatch(name) && !string.Equals(name, ReferencePolicy.Minimum.Name, StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses and checks a policy; with <paramref name="expectedName"/>, its name must be that one.</summary>
    /// <exception cref="FormatException">The message says what is wrong.</exception>
    public static ReferencePolicy Parse(ReadOnlySpan<byte> utf8Json, string? expectedName = null)
    {
        ReferencePolicy policy = ReferencePolicy.FromJson(utf8Json);
        if (!IsValidName(policy.Name))
            throw new FormatException($"the policy name '{policy.Name}' is not usable: a name has {NameRule}, and 'minimum' is the built-in policy");
        if (expectedName is not null && !string.Equals(policy.Name, expectedName, StringComparison.Ordinal))
            throw new FormatException($"the document names the policy '{policy.Name}', not '{expectedName}'");
        return policy;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
