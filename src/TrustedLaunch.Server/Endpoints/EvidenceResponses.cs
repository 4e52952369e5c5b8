using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace TrustedLaunch.Server.Endpoints;

/// <summary>
/// The two answers every attestation gets (its challenge, its pass), written straight to the response with one
/// <see cref="Utf8JsonWriter"/>: the same JSON as <see cref="ServiceJson.Options"/> would give, without the serializer's
/// reflection and, for a pass, without parsing the stored claims into a document only to write them out again.
/// </summary>
internal static class EvidenceResponses
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>201 <c>{"nonce","expiresAt"}</c>.</summary>
    public static IResult Challenge(byte[] nonce, DateTimeOffset expiresAt) => new JsonAnswer(StatusCodes.Status201Created, writer =>
    {
        writer.WriteBase64String("nonce", nonce);
        writer.WriteString("expiresAt", expiresAt);
    });

    /// <summary>200 <c>{"verdict":"pass","resultId","token","claims","baselineLearned"[,"tokenEncryption"]}</c>; the claims as stored.</summary>
    public static IResult Pass(long resultId, string token, string claimsJson, bool baselineLearned, string? tokenEncryption) =>
        new JsonAnswer(StatusCodes.Status200OK, writer =>
        {
            writer.WriteString("verdict", "pass");
            writer.WriteNumber("resultId", resultId);
            writer.WriteString("token", token);
            writer.WritePropertyName("claims");
            writer.WriteRawValue(claimsJson); // validated as JSON by the writer: the service wrote it, but a store is a boundary
            writer.WriteBoolean("baselineLearned", baselineLearned);
            if (tokenEncryption is not null)
                writer.WriteString("tokenEncryption", tokenEncryption);
        });

    private sealed class JsonAnswer(int status, Action<Utf8JsonWriter> members) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            HttpResponse response = context.Response;
            response.StatusCode = status;
            response.ContentType = "application/json; charset=utf-8";
            await using (var writer = new Utf8JsonWriter(response.BodyWriter, WriterOptions))
            {
                writer.WriteStartObject();
                members(writer);
                writer.WriteEndObject();
            }

            await response.BodyWriter.FlushAsync(context.RequestAborted);
        }
    }
}
