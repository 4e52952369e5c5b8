using System.Text.Json;

namespace TrustedLaunch.Portal.Data;

/// <summary>Reading ARM answers by path without a schema of our own: a missing member reads as null.</summary>
public static class JsonRead
{
    public static JsonElement? At(this JsonElement element, params string[] path)
    {
        ArgumentNullException.ThrowIfNull(path);
        JsonElement current = element;
        foreach (string name in path)
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(name, out current))
                return null;
        }

        return current;
    }

    public static string? Text(this JsonElement element, params string[] path) => element.At(path) is JsonElement found
        ? found.ValueKind switch { JsonValueKind.String => found.GetString(), JsonValueKind.Null or JsonValueKind.Undefined => null, _ => found.GetRawText() }
        : null;

    /// <summary>The <c>value</c> array of an ARM list answer (empty when the answer failed).</summary>
    public static IReadOnlyList<JsonElement> Values(this ArmReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        return reply.Succeeded && reply.Body is JsonElement body && body.At("value") is { ValueKind: JsonValueKind.Array } list ? list.EnumerateArray().ToList() : [];
    }
}
