using System.Text.Json.Serialization;

namespace TrustedLaunch.Attestation;

/// <summary>Source-generated JSON for baselines, policies and results (camelCase; AOT-safe).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    WriteIndented = true,
    RespectNullableAnnotations = true,
    AllowDuplicateProperties = false)] // a policy or baseline with a rule given twice is refused, not read as its last value
[JsonSerializable(typeof(AttestationBaseline))]
[JsonSerializable(typeof(ReferencePolicy))]
[JsonSerializable(typeof(AttestationResult))]
public sealed partial class AttestationJsonContext : JsonSerializerContext;
