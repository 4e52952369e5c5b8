using System.Text.Json.Serialization;

namespace TrustedLaunch.Attestation;

/// <summary>Source-generated JSON for baselines, policies and results (camelCase; AOT-safe).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    WriteIndented = true,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(AttestationBaseline))]
[JsonSerializable(typeof(ReferencePolicy))]
[JsonSerializable(typeof(AttestationResult))]
public sealed partial class AttestationJsonContext : JsonSerializerContext;
