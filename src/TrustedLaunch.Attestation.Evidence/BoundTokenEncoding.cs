using System.Buffers.Text;
using System.Text.Json;

namespace TrustedLaunch.Attestation.Evidence;

/// <summary>What the bound token's JWE envelope and the JWS inside it read alike: base64url parts and string members.</summary>
internal static class BoundTokenEncoding
{
    /// <summary>A string member of a JSON object; null when absent or not a string.</summary>
    public static string? Text(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>One base64url part of a compact serialization (RFC 7515 §2, RFC 7516 §2, no padding).</summary>
    /// <exception cref="BoundTokenException">The part is not base64url.</exception>
    public static byte[] Decode(string part, string what)
    {
        try
        {
            return Base64Url.DecodeFromChars(part);
        }
        catch (FormatException e)
        {
            throw new BoundTokenException($"the {what} is not base64url (RFC 7515 §2)", e);
        }
    }
}
