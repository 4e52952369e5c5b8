using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace TrustedLaunch.Server.Endpoints;

/// <summary>Reads a request body into memory up to a limit, refusing larger ones before and while reading.</summary>
internal static class RequestBody
{
    /// <summary>The whole body, or null when it is (or announces itself as) larger than <paramref name="limit"/>.</summary>
    public static async Task<byte[]?> ReadAsync(HttpContext context, long limit, CancellationToken cancellationToken)
    {
        if (context.Request.ContentLength is long announced && announced > limit)
            return null;
        if (context.Request.ContentLength is long exact)
            return await ReadExactAsync(context, (int)exact, cancellationToken);
        using var buffer = new MemoryStream(context.Request.ContentLength is long length ? (int)Math.Min(length, limit) : 4096);
        byte[] chunk = new byte[81920];
        while (true)
        {
            int read;
            try
            {
                read = await context.Request.Body.ReadAsync(chunk, cancellationToken);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return null; // Kestrel's own limit (chunked bodies without Content-Length)
            }

            if (read == 0)
                return buffer.ToArray();
            if (buffer.Length + read > limit)
                return null;
            buffer.Write(chunk, 0, read);
        }
    }

    /// <summary>
    /// The whole body in an array rented from <see cref="ArrayPool{T}.Shared"/> when it announced its length (the evidence,
    /// ~33 KB on every attestation), returned when the caller disposes it; null as for <see cref="ReadAsync"/>. Only for a
    /// caller that keeps nothing of the bytes past the disposal (the evidence parser copies what it keeps).
    /// </summary>
    public static async Task<RentedBody?> ReadRentedAsync(HttpContext context, long limit, CancellationToken cancellationToken)
    {
        if (context.Request.ContentLength is not long exact || exact > limit)
            return await ReadAsync(context, limit, cancellationToken) is byte[] body ? new RentedBody(body, body.Length, rented: false) : null;
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)exact + 1);
        var rented = new RentedBody(buffer, (int)exact, rented: true);
        try
        {
            if (await FillAsync(context, buffer, (int)exact, cancellationToken))
                return rented;
        }
        catch
        {
            rented.Dispose();
            throw;
        }

        rented.Dispose();
        return null;
    }

    // Fills buffer[..length] from the body; false when the body is longer than it announced or over Kestrel's limit.
    private static async Task<bool> FillAsync(HttpContext context, byte[] buffer, int length, CancellationToken cancellationToken)
    {
        int filled = 0;
        try
        {
            while (true)
            {
                // The buffer has at least one byte of room past the end: a body longer than it announced is refused.
                int read = await context.Request.Body.ReadAsync(buffer.AsMemory(filled, Math.Min(buffer.Length, length + 1) - filled), cancellationToken);
                if (read == 0)
                {
                    if (filled != length)
                        throw new BadHttpRequestException("The request body ended before its Content-Length.");
                    return true;
                }

                filled += read;
                if (filled > length)
                    return false;
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return false;
        }
    }

    // A body that announced its length (every client of ours does): one array of that size, filled in place, rather
    // than an 80 KB chunk, a growing stream and its copy (the evidence body is ~33 KB per attestation).
    private static async Task<byte[]?> ReadExactAsync(HttpContext context, int length, CancellationToken cancellationToken)
    {
        byte[] body = new byte[length];
        int filled = 0;
        try
        {
            while (true)
            {
                // One byte of room past the end: a body longer than it announced is refused (Kestrel ends it first anyway).
                int read = await context.Request.Body.ReadAsync(filled < length ? body.AsMemory(filled) : new byte[1], cancellationToken);
                if (read == 0)
                    return filled == length ? body : throw new BadHttpRequestException("The request body ended before its Content-Length.");
                if (filled == length)
                    return null;
                filled += read;
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
    }

    /// <summary>The string <paramref name="property"/> of a JSON object body; null when the body is not an object or lacks it.</summary>
    /// <exception cref="JsonException">The body is not JSON.</exception>
    public static string? StringProperty(byte[] body, string property)
    {
        using JsonDocument document = JsonDocument.Parse(body, new JsonDocumentOptions { AllowDuplicateProperties = false });
        return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(property, out JsonElement value)
            && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
    }
}

/// <summary>A request body in memory; its array goes back to the shared pool when disposed (if it came from there).</summary>
internal sealed class RentedBody : IDisposable
{
    private byte[]? _array;
    private readonly bool _rented;

    public RentedBody(byte[] array, int length, bool rented)
    {
        _array = array;
        Length = length;
        _rented = rented;
    }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => (_array ?? throw new ObjectDisposedException(nameof(RentedBody))).AsMemory(0, Length);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _array, null) is byte[] array && _rented)
            ArrayPool<byte>.Shared.Return(array);
    }
}
