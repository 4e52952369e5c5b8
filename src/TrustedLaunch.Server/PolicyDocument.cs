using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using TrustedLaunch.Attestation;

namespace TrustedLaunch.Server;

/// <summary>
/// A reference policy as the service stores it: <see cref="ReferencePolicy"/> JSON whose name is usable in a URL and
/// is not the built-in <c>minimum</c>, with no property the policy does not define and no null in its lists, and with
/// every rule it leaves out at the policy's declared default. Each of these closes a way a policy could silently be
/// weaker than written: the JSON reader ignores a misspelt rule (<c>allowedAuthority</c>); a null authority would match
/// every boot application that has no logged authority; and the source-generated reader sets an absent init-only
/// property to false, not to its initializer, so <c>{"name": "p"}</c> alone would not require Secure Boot.
/// </summary>
public static partial class PolicyDocument
{
    /// <summary>Names: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.</summary>
    public const string NameRule = "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit";

    private static readonly HashSet<string> KnownProperties =
        AttestationJsonContext.Default.ReferencePolicy.Properties.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>True when <paramref name="name"/> can name a stored policy.</summary>
    public static bool IsValidName(string name) =>
        NamePattern().IsMatch(name) && !string.Equals(name, ReferencePolicy.Minimum.Name, StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses and checks a policy; with <paramref name="expectedName"/>, its name must be that one.</summary>
    /// <exception cref="FormatException">The message says what is wrong.</exception>
    public static ReferencePolicy Parse(ReadOnlySpan<byte> utf8Json, string? expectedName = null)
    {
        ReferencePolicy policy;
        try
        {
            policy = ReferencePolicy.FromJson(utf8Json);
        }
        catch (NotSupportedException e)
        {
            // NonBacktracking refuses backreferences and lookarounds this way, not as a syntax error.
            throw new FormatException($"kernelCommandLinePattern uses a construct the non-backtracking regex engine does not support: {e.Message}", e);
        }

        if (!IsValidName(policy.Name))
            throw new FormatException($"the policy name '{policy.Name}' is not usable: a name has {NameRule}, and 'minimum' is the built-in policy");
        if (expectedName is not null && !string.Equals(policy.Name, expectedName, StringComparison.Ordinal))
            throw new FormatException($"the document names the policy '{policy.Name}', not '{expectedName}'");
        JsonObject document = CheckShape(utf8Json);
        return WithDeclaredDefaults(policy, document);
    }

    // The written rules over a policy that has only its name, i.e. the defaults its declaration gives.
    private static ReferencePolicy WithDeclaredDefaults(ReferencePolicy policy, JsonObject document)
    {
        JsonObject merged = JsonNode.Parse(new ReferencePolicy { Name = policy.Name }.ToJson())!.AsObject();
        foreach ((string property, JsonNode? value) in document)
            merged[property] = value?.DeepClone();
        return ReferencePolicy.FromJson(Encoding.UTF8.GetBytes(merged.ToJsonString()));
    }

    private static JsonObject CheckShape(ReadOnlySpan<byte> utf8Json)
    {
        // FromJson has accepted the document, so it is a JSON object.
        JsonObject document = JsonNode.Parse(utf8Json)!.AsObject();
        foreach ((string property, JsonNode? value) in document)
        {
            if (!KnownProperties.Contains(property))
                throw new FormatException($"'{property}' is not a reference policy property (known: {string.Join(", ", KnownProperties.Order(StringComparer.Ordinal))})");
            if (value is not JsonArray items)
                continue;
            for (int index = 0; index < items.Count; index++)
            {
                if (items[index]?.GetValueKind() != JsonValueKind.String)
                    throw new FormatException($"{property}[{index}] must be a string, not {items[index]?.GetValueKind().ToString().ToLowerInvariant() ?? "null"}");
            }
        }

        return document;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
