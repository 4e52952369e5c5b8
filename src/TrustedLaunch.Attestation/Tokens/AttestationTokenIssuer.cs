using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TrustedLaunch.Attestation.Evidence;

namespace TrustedLaunch.Attestation;

/// <summary>
/// Issues JWS-compact attestation tokens (RFC 7515/7519) for passed attestations, with the <c>azurevm</c> claim
/// vocabulary plus ours. Hand-written on the BCL's ECDsa/RSA: the token is a fixed shape, so a JSON writer and a
/// signature are all it takes, and the library stays reflection-free and AOT-compatible.
/// </summary>
public sealed class AttestationTokenIssuer
{
    private readonly TokenSigningKey _key;
    private readonly string _issuer;
    private readonly TimeProvider _time;
    private readonly byte[] _encodedHeader;

    /// <summary>Creates an issuer signing with <paramref name="key"/> as <paramref name="issuer"/>.</summary>
    public AttestationTokenIssuer(TokenSigningKey key, string issuer, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(issuer);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _key = key;
        _issuer = issuer;
        _time = timeProvider;
        var header = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(header))
        {
            writer.WriteStartObject();
            writer.WriteString("alg", key.Algorithm.ToString());
            writer.WriteString("typ", "JWT");
            writer.WriteString("kid", key.KeyId);
            writer.WriteEndObject();
        }

        _encodedHeader = Encoding.ASCII.GetBytes(Base64Url.Encode(header.WrittenSpan));
    }

    /// <summary>The issuer (<c>iss</c>).</summary>
    public string Issuer => _issuer;

    /// <summary>Issues a token for a passed result.</summary>
    /// <exception cref="ArgumentException">The result did not pass: failures get no token.</exception>
    public string Issue(AttestationResult result, Guid vmId)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!result.Passed || result.BootState is null)
            throw new ArgumentException($"no token for a failed attestation ({result.Failure})", nameof(result));

        DateTimeOffset now = _time.GetUtcNow();
        var payload = new ArrayBufferWriter<byte>(2048);
        using (var writer = new Utf8JsonWriter(payload))
            WriteClaims(writer, result, vmId, now);

        int payloadLength = System.Buffers.Text.Base64Url.GetEncodedLength(payload.WrittenCount);
        byte[] signingInput = new byte[_encodedHeader.Length + 1 + payloadLength];
        _encodedHeader.CopyTo(signingInput, 0);
        signingInput[_encodedHeader.Length] = (byte)'.';
        System.Buffers.Text.Base64Url.EncodeToUtf8(payload.WrittenSpan, signingInput.AsSpan(_encodedHeader.Length + 1));
        byte[] signature = _key.Sign(signingInput);
        return string.Concat(Encoding.ASCII.GetString(signingInput), ".", Base64Url.Encode(signature));
    }

    // RFC 7800 §3.2 with an RFC 7517 §4 / RFC 7518 §6.3.1 RSA public JWK; kid is the JWE's (the key's TPM Name), alg and use
    // say it only decrypts (RSA-OAEP-256, the TPM key's fixed scheme).
    private static void WriteConfirmation(Utf8JsonWriter w, VerifiedBoundKey bound)
    {
        using RSA rsa = bound.Public.ToRsa();
        RSAParameters parameters = rsa.ExportParameters(includePrivateParameters: false);
        w.WriteStartObject(AttestationClaims.Confirmation);
        w.WriteStartObject("jwk");
        w.WriteString("kty", "RSA");
        w.WriteString("n", Base64Url.Encode(parameters.Modulus!));
        w.WriteString("e", Base64Url.Encode(parameters.Exponent!));
        w.WriteString("kid", bound.KeyId);
        w.WriteString("alg", "RSA-OAEP-256");
        w.WriteString("use", "enc");
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private void WriteClaims(Utf8JsonWriter w, AttestationResult result, Guid vmId, DateTimeOffset now)
    {
        AttestedBootState boot = result.BootState!;
        long iat = now.ToUnixTimeSeconds();
        w.WriteStartObject();
        w.WriteString(AttestationClaims.Issuer, _issuer);
        w.WriteNumber(AttestationClaims.IssuedAt, iat);
        w.WriteNumber(AttestationClaims.NotBefore, iat);
        w.WriteNumber(AttestationClaims.Expiry, iat + (long)AttestationClaims.Lifetime.TotalSeconds);
        w.WriteString(AttestationClaims.TokenId, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        w.WriteBoolean(AttestationClaims.SecureBoot, boot.SecureBootEnabled == true);
        w.WriteString(AttestationClaims.AttestationType, AttestationClaims.AzureVmType);
        w.WriteString(AttestationClaims.ProtocolVersion, "1.0");
        w.WriteString(AttestationClaims.VmId, vmId.ToString("D").ToUpperInvariant());
        if (result.BoundKey is VerifiedBoundKey bound)
            WriteConfirmation(w, bound);
        w.WriteStartArray(AttestationClaims.AttestedPcrs);
        foreach (int pcr in boot.AttestedPcrs)
            w.WriteNumberValue(pcr);
        w.WriteEndArray();
        w.WriteBoolean(AttestationClaims.DbValidated, boot.DbValidated);
        w.WriteBoolean(AttestationClaims.DbxValidated, boot.DbxValidated);
        w.WriteBoolean(AttestationClaims.DefaultSecureBootKeysValidated, boot.DefaultSecureBootKeys);
        // Absent when nothing measured can tell (no kernel arguments, no Windows boot record): never a reassuring default.
        if (boot.KernelDebugEnabled is bool kernelDebug)
            w.WriteBoolean(AttestationClaims.KernelDebugEnabled, kernelDebug);
        w.WriteBoolean(AttestationClaims.BootDebugEnabled, boot.FirmwareDebugMode || boot.Windows?.BootDebugging == true);
        if (boot.KernelArguments.Any(a => a.Executed))
        {
            // A measured Linux command line is evidence of a Linux boot; Windows boots measure none.
            w.WriteBoolean(AttestationClaims.IsWindows, false);
            w.WriteString(AttestationClaims.OsType, "Linux");
            if (boot.KernelCommandLine is not null)
                w.WriteString(AttestationClaims.KernelCommandLine, boot.KernelCommandLine);
        }
        else if (boot.Windows is { } windows)
        {
            WindowsClaims.Write(w, windows, boot.FirmwareDebugMode);
        }

        WriteOs(w, result.Os);
        w.WriteString(AttestationClaims.Version, "1.0");
        w.WriteString(AttestationClaims.BaselineEarly, Verdict(result.EarlyBoot));
        w.WriteString(AttestationClaims.BaselineLate, Verdict(result.LateBoot));
        if (result.PolicyName is not null)
            w.WriteString(AttestationClaims.Policy, result.PolicyName);
        w.WriteStartArray(AttestationClaims.BootComponents);
        foreach (BootComponent c in boot.BootChain)
        {
            w.WriteStartObject();
            w.WriteNumber("pcr", c.Pcr);
            w.WriteString("name", c.Name);
            w.WriteString("nameSource", c.NameSource);
            w.WriteString("digest", c.Digest);
            w.WriteString("bank", c.Bank);
            if (c.AuthorityName is not null)
                w.WriteString("inferredAuthority", c.AuthorityName);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray(AttestationClaims.Authorities);
        foreach (AttestedAuthority a in boot.AuthorityEntries)
        {
            w.WriteStartObject();
            w.WriteString("variable", a.Variable);
            w.WriteString("name", a.Name);
            if (a.Sha256.Length > 0)
                w.WriteString("sha256", a.Sha256);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        SecureBootKeysClaim.Write(w, boot.Keys);
        w.WriteStartArray(AttestationClaims.Findings);
        foreach (GuestFinding f in result.Findings)
        {
            w.WriteStartObject();
            w.WriteString("kind", f.Kind);
            if (f.Module is not null)
                w.WriteString("module", f.Module);
            w.WriteString("message", f.Message);
            w.WriteString("at", f.At.ToString("O", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    // Reported by the guest (os-release), as Azure's client reports it; not covered by the quote.
    private static void WriteOs(Utf8JsonWriter w, OsIdentity? os)
    {
        if (os?.Id is { Length: > 0 } id)
            w.WriteString(AttestationClaims.OsDistro, id);
        if (os?.VersionId is not { Length: > 0 } version)
            return;
        string[] parts = version.Split('.');
        if (int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int major))
            w.WriteNumber(AttestationClaims.OsVersionMajor, major);
        int minor = 0;
        if (parts.Length < 2 || int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out minor))
            w.WriteNumber(AttestationClaims.OsVersionMinor, minor);
    }

    private static string Verdict(BaselineVerdict verdict) => verdict switch
    {
        BaselineVerdict.Pass => "pass",
        BaselineVerdict.Fail => "fail",
        _ => "none",
    };
}
