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
    private static readonly byte[][] ReadClaimNames =
    [
        .. new[] { AttestationClaims.Policy, AttestationClaims.Findings, AttestationClaims.SecureBootKeys, "policy", "findings", "pcrDeviations", "policyViolations" }
            .Select(Encoding.UTF8.GetBytes),
    ];

    /// <summary>The fingerprint (32 hex digits); null when the claims are not JSON (such a result always goes through the engine).</summary>
    public static string? Of(AttestationRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        string? json = record.ClaimsJson;
        int claimBytes = json is null ? 0 : Encoding.UTF8.GetMaxByteCount(json.Length);
        int fieldBytes = 64 + Encoding.UTF8.GetMaxByteCount((record.Reason?.Length ?? 0) + (record.Component?.Length ?? 0) + (record.Message?.Length ?? 0));
        // One pooled buffer: the claims' UTF-8 text first, then what is hashed (never longer than the text plus the fields).
        byte[] rented = ArrayPool<byte>.Shared.Rent(2 * claimBytes + fieldBytes + 32);
        try
        {
            Span<byte> buffer = rented;
            int claims = json is null ? 0 : Encoding.UTF8.GetBytes(json, buffer);
            var hashed = new HashInput(buffer[claims..]);
            hashed.Field(record.Verdict == AttestationVerdict.Pass ? "pass" : "fail");
            hashed.Field(AttestationObservations.IsAgentAnswer(record) ? "answer" : "silence");
            hashed.Field(record.Reason);
            hashed.Field(record.Component);
            hashed.Field(record.Message);
            if (json is not null && !ReadClaims(buffer[..claims], ref hashed))
                return null;
            Span<byte> digest = stackalloc byte[32];
            SHA256.HashData(hashed.Written, digest);
            return Convert.ToHexStringLower(digest[..16]);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // Each read claim's index and raw value, in document order (duplicates included: whichever one a parser keeps, equal
    // fingerprints mean it is equal). False when the text is not one JSON object.
    private static bool ReadClaims(ReadOnlySpan<byte> utf8, ref HashInput hashed)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8);
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
                    hashed.Int(claim);
                    hashed.Bytes(utf8[start..(int)reader.BytesConsumed]);
                }
            }

            // Anything after the object (JsonDocument.Parse, which posture reads with, refuses it) throws here too.
            return reader.TokenType == JsonTokenType.EndObject && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static int ReadClaimIndex(ref Utf8JsonReader reader)
    {
        for (int i = 0; i < ReadClaimNames.Length; i++)
        {
            if (reader.ValueTextEquals(ReadClaimNames[i]))
                return i;
        }

        return -1;
    }

    // What is hashed, written into the caller's buffer: length-prefixed fields, so ("ab", "c") and ("a", "bc") differ and
    // null differs from empty.
    private ref struct HashInput(Span<byte> buffer)
    {
        private readonly Span<byte> _buffer = buffer;
        private int _length;

        public readonly ReadOnlySpan<byte> Written => _buffer[.._length];

        public void Int(int value)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(_buffer[_length..], value);
            _length += 4;
        }

        public void Bytes(ReadOnlySpan<byte> value)
        {
            Int(value.Length);
            value.CopyTo(_buffer[_length..]);
            _length += value.Length;
        }

        public void Field(string? value)
        {
            if (value is null)
            {
                Int(-1);
                return;
            }

            int length = Encoding.UTF8.GetBytes(value, _buffer[(_length + 4)..]);
            Int(length);
            _length += length;
        }
    }
}
