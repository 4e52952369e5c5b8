using System.Buffers.Text;
using System.Text;
using TrustedLaunch.Attestation.Evidence;
using TrustedLaunch.GuestChannel.Messages;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Tpm.Transport;

namespace TrustedLaunch.GuestAgent.Tokens;

/// <summary>
/// Opens the bound tokens the host hands over (docs/attestation.md, "Tokens bound to the vTPM"): picks the key by the
/// envelope's <c>kid</c> among the keys this agent made, re-creates it in the vTPM from its template, unwraps the content
/// key with TPM2_RSA_Decrypt in a PolicyPCR session (the vTPM refuses unless the PCRs still hold the attested values),
/// decrypts with AES-256-GCM, verifies the signed token against the service's keys and the <c>cnf</c> binding, then
/// stores it for guest software (mode 0600, written aside and renamed so a reader never sees half a token).
/// </summary>
public sealed class BoundTokenReceiver(Func<ITpmTransport> openTpm, string tokenFile, string? pinnedJwksFile, TimeProvider time)
{
    /// <summary>Keys kept for tokens still to come: one per bound attestation, the newest few.</summary>
    public const int KeptKeys = 4;

    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(2);
    private readonly Lock _gate = new();
    private readonly List<(string KeyId, PcrBoundKey Key)> _keys = [];

    public string TokenFile => tokenFile;

    /// <summary>Keeps a key made for a bound attestation (its template only: nothing secret; the TPM re-creates it).</summary>
    public void Remember(PcrBoundKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_gate)
        {
            _keys.Add((Base64Url.EncodeToString(key.Name), key));
            if (_keys.Count > KeptKeys)
                _keys.RemoveAt(0);
        }
    }

    /// <summary>Opens, verifies and stores <paramref name="message"/>'s token.</summary>
    /// <exception cref="BoundTokenException">Not for a key of this agent, does not decrypt, or does not verify.</exception>
    /// <exception cref="TpmResponseException">The vTPM refused (TPM_RC_POLICY_FAIL when a bound PCR changed).</exception>
    public TokenStoredMessage Receive(TokenMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        string kid = BoundTokenJwe.KeyId(message.Token);
        PcrBoundKey key;
        lock (_gate)
        {
            key = _keys.LastOrDefault(k => k.KeyId == kid).Key
                ?? throw new BoundTokenException($"the envelope is for key '{kid}', which this agent did not make (it keeps the last {KeptKeys})");
        }

        string jws;
        using (var tpm = new TpmClient(openTpm()))
        {
            uint handle = key.Load(tpm);
            try
            {
                jws = BoundTokenJwe.Decrypt(message.Token, encrypted => key.Decrypt(tpm, handle, encrypted));
            }
            finally
            {
                tpm.FlushContext(handle);
            }
        }

        // A pinned key set (put in the image) is the one that proves the service signed it; keys from the host only
        // prove the token is intact, since the host relays both.
        string jwks = pinnedJwksFile is not null ? File.ReadAllText(pinnedJwksFile)
            : message.Jwks ?? throw new BoundTokenException("no key set to verify the token with: the message has no 'jwks' and none is pinned (--token-jwks)");
        VerifiedBoundToken verified = BoundTokenSignature.Verify(jws, jwks);
        if (verified.BoundKeyId != kid)
            throw new BoundTokenException($"the token's cnf names key '{verified.BoundKeyId}', not '{kid}' it was encrypted to");
        if (verified.Expires + ClockSkew <= time.GetUtcNow())
            throw new BoundTokenException($"the token expired at {verified.Expires:O}");
        Store(Encoding.ASCII.GetBytes(jws));
        return new TokenStoredMessage(message.RequestId, verified.KeyId, verified.Expires, tokenFile);
    }

    private void Store(byte[] token)
    {
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException("The guest agent stores tokens with Unix permissions.");
        string directory = Path.GetDirectoryName(Path.GetFullPath(tokenFile))!;
        Directory.CreateDirectory(directory, OwnerOnly | UnixFileMode.UserExecute);
        string aside = tokenFile + ".new";
        File.Delete(aside);
        using (var stream = new FileStream(aside, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnly }))
        {
            stream.Write(token);
            stream.Flush(flushToDisk: true);
        }

        File.Move(aside, tokenFile, overwrite: true);
    }
}
