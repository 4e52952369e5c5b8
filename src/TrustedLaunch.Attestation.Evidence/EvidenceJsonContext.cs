using System.Text.Json.Serialization;

namespace TrustedLaunch.Attestation.Evidence;

/// <summary>
/// Source-generated (reflection-free, NativeAOT-safe) JSON metadata for the evidence model: camelCase names,
/// byte arrays as base64, nullable annotations and <c>required</c> enforced on read.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    AllowDuplicateProperties = false, // {"nonce":A,"nonce":B}: two readers of one document must never see two bundles
    MaxDepth = 16)]
[JsonSerializable(typeof(AttestationEvidence))]
public sealed partial class EvidenceJsonContext : JsonSerializerContext;
