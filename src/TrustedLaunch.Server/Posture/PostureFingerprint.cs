using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TrustedLaunch.Attestation;
using TrustedLaunch.Server.Stores;

namespace TrustedLaunch.Server.Posture;

/// <summary>
/// A digest of everything posture reads of an attestation result except its id and time: the verdict, the reason,
/// component and message, and the raw JSON of the top-level claims <see cref="AttestationObservations"/> parses (policy,
/// findings, deviations, violations, Secure Boot keys). Two results with the same fingerprint are one observation at two
/// instants, so a result whose fingerprint is the one posture marked for its VM (<c>posture_work.repeat_fp</c>) is folded
/// in its own transaction (docs/posture.md, "A repeat folded where it is stored"). A forward scan of the claims, no
/// document: the attestation pays for it.
/// </summary>
public static class PostureFingerprint
{
    // Every claim AttestationObservations reads, whatever the verdict (a pass's token claims, a failure's summary).
    private static readonly byte[][] ReadClaims =
    [
        .. new[] { AttestationClaims.Policy, AttestationClaims.Findings, AttestationClaims.SecureBootKeys, "policy", "findings", "pcrDeviations", "policyViolations" }
            .Select(Encoding.UTF8.GetBytes),
    ];

    /// <summary>The fingerprint (32 hex digits); null when the claims are not JSON (such a result always goes through the engine).</summary>
    public static string? Of(AttestationRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Field(hash, record.Verdict == AttestationVerdict.Pass ? "pass" : "fail");
        Field(hash, AttestationObservations.IsAgentAnswer(record) ? "answer" : "silence");
        Field(hash, record.Reason);
        Field(hash, record.Component);
        Field(hash, record.Message);
        if (record.ClaimsJson is string json && !Claims(hash, json))
            return null;
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return Convert.ToHexStringLower(digest[..16]);
    }

    // Each read claim's name and raw value, in document order (duplicates included: whichever one a parser keeps, equal
    // fingerprints mean it is equal). False when the text is not one JSON object.
    private static bool Claims(IncrementalHash hash, string json)
    {
        byte[] rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
        try
        {
            int length = Encoding.UTF8.GetBytes(json, rented);
            var reader = new Utf8JsonReader(rented.AsSpan(0, length));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                int claim = ReadClaimIndex(ref reader);
                if (!reader.Read())
                    return false;
                int start = (int)reader.TokenStartIndex;
                reader.Skip();
                if (claim >= 0)
                {
                    ReadOnlySpan<byte> value = rented.AsSpan(start, (int)reader.BytesConsumed - start);
                    hash.AppendData(BitConverter.GetBytes(claim));
                    hash.AppendData(BitConverter.GetBytes(value.Length));
                    hash.AppendData(value);
                }
            }

            return reader.TokenType == JsonTokenType.EndObject;
        }
        catch (JsonException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static int ReadClaimIndex(ref Utf8JsonReader reader)
    {
        for (int i = 0; i < ReadClaims.Length; i++)
        {
            if (reader.ValueTextEquals(ReadClaims[i]))
                return i;
        }

        return -1;
    }

    // Length-prefixed, so that ("ab", "c") and ("a", "bc") differ; null differs from empty.
    private static void Field(IncrementalHash hash, string? value)
    {
        hash.AppendData(BitConverter.GetBytes(value is null ? -1 : value.Length));
        if (value is not null)
            hash.AppendData(Encoding.UTF8.GetBytes(value));
    }
}
