using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestChannel.Framing;

namespace TrustedLaunch.GuestChannel.Messages;

/// <summary>
/// Writes and reads <see cref="GuestMessage"/>s as the JSON payload of one frame. The envelope is hand-written over
/// <see cref="Utf8JsonWriter"/>/<see cref="JsonDocument"/> (no reflection, NativeAOT-safe); the evidence inside an
/// <c>evidence</c> message is the evidence library's own JSON, validated by <see cref="EvidenceJson.Parse"/>.
/// Unknown members are ignored so either end can add some without breaking the other.
/// </summary>
public static class GuestMessageCodec
{
    private const int MaxPcrIndex = 23; // IMPLEMENTATION_PCR of a PC Client TPM (TPM 2.0 Part 2 §11.1.3)
    private const int MaxTextLength = 8192;
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 32, AllowDuplicateProperties = false };

    public static byte[] Encode(GuestMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", message.Type);
            if (message.Id is long id)
                json.WriteNumber("id", id);
            switch (message)
            {
                case AttestRequest attest:
                    json.WriteBase64String("nonce", attest.Nonce);
                    if (attest.Pcrs is not null)
                    {
                        json.WriteStartArray("pcrs");
                        foreach (int pcr in attest.Pcrs)
                            json.WriteNumberValue(pcr);
                        json.WriteEndArray();
                    }

                    if (attest.BindToken)
                        json.WriteBoolean("bindToken", true);
                    break;
                case PingRequest:
                    break;
                case EvidenceMessage evidence:
                    json.WritePropertyName("evidence");
                    json.WriteRawValue(EvidenceJson.Serialize(evidence.Evidence), skipInputValidation: true);
                    break;
                case HeartbeatMessage heartbeat:
                    json.WriteString("status", heartbeat.Status);
                    json.WriteNumber("uptimeSeconds", heartbeat.UptimeSeconds);
                    json.WriteString("agentVersion", heartbeat.AgentVersion);
                    json.WriteNumber("protocolVersion", heartbeat.ProtocolVersion);
                    break;
                case FindingMessage finding:
                    json.WritePropertyName("finding");
                    WriteFinding(json, finding.Finding);
                    break;
                case TokenMessage token:
                    json.WriteString("token", token.Token);
                    if (token.Jwks is not null)
                    {
                        json.WritePropertyName("jwks");
                        json.WriteRawValue(token.Jwks);
                    }

                    break;
                case TokenStoredMessage stored:
                    json.WriteString("kid", stored.KeyId);
                    json.WriteString("expires", stored.Expires);
                    json.WriteString("path", stored.Path);
                    break;
                case ErrorMessage error:
                    json.WriteString("code", error.Code);
                    json.WriteString("message", error.Message);
                    break;
                default:
                    throw new ArgumentException($"No encoding for {message.GetType().Name}.", nameof(message));
            }

            json.WriteEndObject();
        }

        if (buffer.WrittenCount > GuestFrame.MaxPayloadBytes)
        {
            throw new GuestChannelException(GuestChannelError.Oversized,
                string.Create(CultureInfo.InvariantCulture, $"A {message.Type} message of {buffer.WrittenCount} bytes exceeds the frame limit."));
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads one message without throwing: false with the typed error (its <see cref="GuestChannelException.MessageId"/>
    /// when the id was readable) for anything <see cref="Decode"/> refuses.
    /// </summary>
    public static bool TryDecode(ReadOnlyMemory<byte> payload, [NotNullWhen(true)] out GuestMessage? message, [NotNullWhen(false)] out GuestChannelException? error)
    {
        try
        {
            message = Decode(payload);
            error = null;
            return true;
        }
        catch (GuestChannelException e)
        {
            message = null;
            error = e;
            return false;
        }
    }

    /// <summary>Reads one message; throws <see cref="GuestChannelException"/> naming what is wrong (and the id when readable).</summary>
    public static GuestMessage Decode(ReadOnlyMemory<byte> payload)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(payload, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new GuestChannelException(GuestChannelError.MalformedJson, $"Payload is not JSON: {e.Message}", e);
        }

        using (document)
        {
            try
            {
                return DecodeRoot(document.RootElement);
            }
            catch (InvalidOperationException e)
            {
                // JsonDocument.Parse leaves string contents unchecked; reading one that is not UTF-8 throws here.
                throw new GuestChannelException(GuestChannelError.MalformedJson, "Payload has a string that is not valid UTF-8.", e);
            }
        }
    }

    private static GuestMessage DecodeRoot(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new GuestChannelException(GuestChannelError.MalformedJson, $"Payload is a JSON {root.ValueKind}, not an object.");
        long? id = ReadId(root);
        if (!root.TryGetProperty("type", out JsonElement typeElement) || typeElement.ValueKind != JsonValueKind.String)
            throw new GuestChannelException(GuestChannelError.UnknownType, "Message has no string member 'type'.", messageId: id);
        string type = typeElement.GetString()!;
        return type switch
        {
            GuestMessageTypes.Attest => new AttestRequest(RequireId(id, type), ReadNonce(root, id), ReadPcrs(root, id), ReadBindToken(root, id)),
            GuestMessageTypes.Ping => new PingRequest(RequireId(id, type)),
            GuestMessageTypes.Evidence => new EvidenceMessage(RequireId(id, type), ReadEvidence(root, id)),
            GuestMessageTypes.Heartbeat => new HeartbeatMessage(id, RequireString(root, "status", id), RequireInt64(root, "uptimeSeconds", id),
                RequireString(root, "agentVersion", id),
                root.TryGetProperty("protocolVersion", out JsonElement v) && v.TryGetInt32(out int version) ? version : 1),
            GuestMessageTypes.Finding => new FindingMessage(ReadFinding(Require(root, "finding", JsonValueKind.Object, id), id)),
            GuestMessageTypes.Token => new TokenMessage(RequireId(id, type), ReadToken(root, id), ReadJwks(root, id)),
            GuestMessageTypes.TokenStored => new TokenStoredMessage(RequireId(id, type), RequireString(root, "kid", id), ReadInstant(root, "expires", id),
                RequireString(root, "path", id)),
            GuestMessageTypes.Error => new ErrorMessage(id, RequireString(root, "code", id), RequireString(root, "message", id)),
            _ => throw new GuestChannelException(GuestChannelError.UnknownType, $"Unknown message type '{Truncate(type)}'.", messageId: id),
        };
    }

    private static long? ReadId(JsonElement root)
    {
        if (!root.TryGetProperty("id", out JsonElement element))
            return null;
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out long id) || id < 0)
            throw new GuestChannelException(GuestChannelError.BadField, "Member 'id' is not a non-negative integer.");
        return id;
    }

    private static long RequireId(long? id, string type) =>
        id ?? throw new GuestChannelException(GuestChannelError.BadField, $"A '{type}' message needs an 'id'.");

    private static byte[] ReadNonce(JsonElement root, long? id)
    {
        JsonElement element = Require(root, "nonce", JsonValueKind.String, id);
        if (!element.TryGetBytesFromBase64(out byte[]? nonce))
            throw new GuestChannelException(GuestChannelError.BadField, "Member 'nonce' is not base64.", messageId: id);
        if (nonce.Length < EvidenceJson.MinNonceBytes || nonce.Length > EvidenceJson.MaxNonceBytes)
        {
            throw new GuestChannelException(GuestChannelError.BadField, string.Create(CultureInfo.InvariantCulture,
                $"Nonce of {nonce.Length} bytes is outside {EvidenceJson.MinNonceBytes}-{EvidenceJson.MaxNonceBytes}."), messageId: id);
        }

        return nonce;
    }

    private static bool ReadBindToken(JsonElement root, long? id)
    {
        if (!root.TryGetProperty("bindToken", out JsonElement element) || element.ValueKind == JsonValueKind.Null)
            return false;
        return element.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new GuestChannelException(GuestChannelError.BadField, "Member 'bindToken' is not a boolean.", messageId: id),
        };
    }

    private static string ReadToken(JsonElement root, long? id)
    {
        string token = Require(root, "token", JsonValueKind.String, id).GetString()!;
        if (token.Length == 0 || token.Length > TokenMessage.MaxTokenChars)
        {
            throw new GuestChannelException(GuestChannelError.BadField, string.Create(CultureInfo.InvariantCulture,
                $"Member 'token' of {token.Length} characters is outside 1-{TokenMessage.MaxTokenChars}."), messageId: id);
        }

        if (!BoundTokenJwe.IsJwe(token))
            throw new GuestChannelException(GuestChannelError.BadField, "Member 'token' is not a JWE compact serialization (5 dot-separated parts).", messageId: id);
        return token;
    }

    private static string? ReadJwks(JsonElement root, long? id)
    {
        if (!root.TryGetProperty("jwks", out JsonElement element) || element.ValueKind == JsonValueKind.Null)
            return null;
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("keys", out JsonElement keys) || keys.ValueKind != JsonValueKind.Array)
            throw new GuestChannelException(GuestChannelError.BadField, "Member 'jwks' is not a JWK Set (an object with a 'keys' array, RFC 7517 §5).", messageId: id);
        string raw = element.GetRawText();
        if (Encoding.UTF8.GetByteCount(raw) > TokenMessage.MaxJwksBytes)
            throw new GuestChannelException(GuestChannelError.BadField, $"Member 'jwks' is larger than {TokenMessage.MaxJwksBytes} bytes.", messageId: id);
        return raw;
    }

    private static DateTimeOffset ReadInstant(JsonElement root, string name, long? id)
    {
        JsonElement element = Require(root, name, JsonValueKind.String, id);
        return element.TryGetDateTimeOffset(out DateTimeOffset when)
            ? when
            : throw new GuestChannelException(GuestChannelError.BadField, $"Member '{name}' is not an ISO 8601 date-time.", messageId: id);
    }

    private static int[]? ReadPcrs(JsonElement root, long? id)
    {
        if (!root.TryGetProperty("pcrs", out JsonElement element) || element.ValueKind == JsonValueKind.Null)
            return null;
        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() is 0 or > MaxPcrIndex + 1)
            throw new GuestChannelException(GuestChannelError.BadField, "Member 'pcrs' is not an array of 1-24 PCR indices.", messageId: id);
        var pcrs = new SortedSet<int>();
        foreach (JsonElement item in element.EnumerateArray())
        {
            if (!item.TryGetInt32(out int pcr) || pcr is < 0 or > MaxPcrIndex || !pcrs.Add(pcr))
                throw new GuestChannelException(GuestChannelError.BadField, "Member 'pcrs' holds a PCR index outside 0-23 or twice.", messageId: id);
        }

        return [.. pcrs];
    }

    private static AttestationEvidence ReadEvidence(JsonElement root, long? id)
    {
        JsonElement element = Require(root, "evidence", JsonValueKind.Object, id);
        try
        {
            return EvidenceJson.Parse(Encoding.UTF8.GetBytes(element.GetRawText()));
        }
        catch (EvidenceFormatException e)
        {
            throw new GuestChannelException(GuestChannelError.BadField, $"Member 'evidence': {e.Message}", e, id);
        }
    }

    private static void WriteFinding(Utf8JsonWriter json, GuestFinding finding)
    {
        json.WriteStartObject();
        json.WriteString("kind", finding.Kind);
        if (finding.Module is not null)
            json.WriteString("module", finding.Module);
        json.WriteString("message", finding.Message);
        json.WriteString("at", finding.At);
        json.WriteEndObject();
    }

    private static GuestFinding ReadFinding(JsonElement element, long? id)
    {
        string? module = null;
        if (element.TryGetProperty("module", out JsonElement m) && m.ValueKind != JsonValueKind.Null)
            module = m.ValueKind == JsonValueKind.String ? m.GetString() : throw new GuestChannelException(GuestChannelError.BadField, "Member 'finding.module' is not a string.", messageId: id);
        JsonElement at = Require(element, "at", JsonValueKind.String, id);
        if (!at.TryGetDateTimeOffset(out DateTimeOffset when))
            throw new GuestChannelException(GuestChannelError.BadField, "Member 'finding.at' is not an ISO 8601 date-time.", messageId: id);
        return new GuestFinding { Kind = RequireString(element, "kind", id), Module = module, Message = RequireString(element, "message", id), At = when };
    }

    private static JsonElement Require(JsonElement parent, string name, JsonValueKind kind, long? id)
    {
        if (!parent.TryGetProperty(name, out JsonElement element) || element.ValueKind != kind)
            throw new GuestChannelException(GuestChannelError.BadField, $"Member '{name}' is missing or not a JSON {kind}.", messageId: id);
        return element;
    }

    private static string RequireString(JsonElement parent, string name, long? id)
    {
        string value = Require(parent, name, JsonValueKind.String, id).GetString()!;
        if (value.Length > MaxTextLength)
            throw new GuestChannelException(GuestChannelError.BadField, $"Member '{name}' is longer than {MaxTextLength} characters.", messageId: id);
        return value;
    }

    private static long RequireInt64(JsonElement parent, string name, long? id)
    {
        JsonElement element = Require(parent, name, JsonValueKind.Number, id);
        return element.TryGetInt64(out long value) ? value : throw new GuestChannelException(GuestChannelError.BadField, $"Member '{name}' is not an integer.", messageId: id);
    }

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
