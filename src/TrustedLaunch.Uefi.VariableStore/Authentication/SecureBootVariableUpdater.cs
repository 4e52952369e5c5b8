using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.Format.VariableStore;

namespace TrustedLaunch.Uefi.VariableStore;

/// <summary>The EFI_STATUS a firmware SetVariable would return for an update.</summary>
public enum VariableUpdateStatus
{
    /// <summary>EFI_SUCCESS: the store now holds the update.</summary>
    Applied,

    /// <summary>EFI_SECURITY_VIOLATION: bad or untrusted signature, or a replayed (not newer) timestamp.</summary>
    SecurityViolation,

    /// <summary>EFI_INVALID_PARAMETER: wrong attributes or malformed signature lists.</summary>
    InvalidParameter,
}

/// <summary>What applying an authenticated write did, and why.</summary>
public sealed record VariableUpdateResult(VariableUpdateStatus Status, string Message, X509Certificate2? Signer = null);

/// <summary>
/// Applies a time-based authenticated write to PK, KEK, db, dbx or dbt offline, deciding exactly as edk2's
/// AuthVariableLibProcessVariable → ProcessVarWithPk / ProcessVarWithKek → VerifyTimeBasedPayloadAndUpdate and
/// Variable.c UpdateVariable would on this store (SecurityPkg/Library/AuthVariableLib/AuthService.c).
/// </summary>
public static class SecureBootVariableUpdater
{
    /// <param name="data">The SetVariable Data: EFI_VARIABLE_AUTHENTICATION_2 followed by the new value (a .auth file).</param>
    /// <param name="attributes">The SetVariable Attributes: 0x27, plus APPEND_WRITE (0x40) to append.</param>
    public static VariableUpdateResult Apply(OvmfVariableStore store, VariableKey variable, EfiVariableAttributes attributes, ReadOnlyMemory<byte> data)
    {
        ArgumentNullException.ThrowIfNull(store);
        bool isPk = variable == WellKnownVariables.PK;
        bool isKek = variable == WellKnownVariables.KEK;
        bool isDb = variable == WellKnownVariables.Db || variable == WellKnownVariables.Dbx || variable == WellKnownVariables.Dbt;
        if (!isPk && !isKek && !isDb)
            return new(VariableUpdateStatus.InvalidParameter, $"{variable.Name} is not a Secure Boot database (PK, KEK, db, dbx, dbt).");

        // ProcessVarWithPk/ProcessVarWithKek: these variables must be NV and time-based authenticated.
        if ((attributes & EfiVariableAttributes.NonVolatile) == 0 || (attributes & EfiVariableAttributes.TimeBasedAuthenticatedWriteAccess) == 0)
            return new(VariableUpdateStatus.InvalidParameter, $"Attributes 0x{(uint)attributes:X} lack NON_VOLATILE or TIME_BASED_AUTHENTICATED_WRITE_ACCESS.");
        bool append = (attributes & EfiVariableAttributes.AppendWrite) != 0;
        var stored = attributes & ~EfiVariableAttributes.AppendWrite;
        store.TryGet(variable.VendorGuid, variable.Name, out var existing);
        // Variable.c UpdateVariable: an existing variable's attributes cannot change.
        if (existing is not null && existing.Attributes != stored)
            return new(VariableUpdateStatus.InvalidParameter, $"{variable.Name} is stored with attributes 0x{(uint)existing.Attributes:X}; the update has 0x{(uint)stored:X}.");

        if (!EfiVariableAuthentication2.TryParse(data, out var auth, out string? parseError))
            return new(VariableUpdateStatus.SecurityViolation, $"Not an EFI_VARIABLE_AUTHENTICATION_2: {parseError}");
        if (!auth!.TimeStamp.IsValidAuthenticationTime)
            return new(VariableUpdateStatus.SecurityViolation, "TimeStamp has non-zero Pad1/Nanosecond/TimeZone/Daylight/Pad2.");

        var sb = store.SecureBoot;
        bool customMode = sb.CustomMode == 1; // OVMF's UserPhysicalPresent() is always TRUE
        X509Certificate2? signer = null;
        string how;
        if (sb.PlatformMode == PlatformMode.User && !customMode)
        {
            // VerifyTimeBasedPayload: a non-append write must be strictly newer than the stored one.
            if (existing is not null && !append && auth.TimeStamp <= existing.TimeStamp)
                return new(VariableUpdateStatus.SecurityViolation, $"TimeStamp {auth.TimeStamp} is not later than the stored {existing.TimeStamp} (replay protection); use APPEND_WRITE or a newer time.");
            var pkCerts = Certificates(sb.PK);
            var verdict = AuthenticatedVariableVerifier.Verify(auth, variable, attributes, AuthenticationAnchorKind.PlatformKey, pkCerts);
            if (!verdict.Verified && isDb)
            {
                var kekVerdict = AuthenticatedVariableVerifier.Verify(auth, variable, attributes, AuthenticationAnchorKind.KeyExchangeKey, Certificates(sb.KEK));
                verdict = kekVerdict.Verified ? kekVerdict : verdict with { Reason = $"{verdict.Reason} Against KEK: {kekVerdict.Reason}" };
            }

            if (!verdict.Verified)
                return new(VariableUpdateStatus.SecurityViolation, verdict.Reason, verdict.Signer);
            signer = verdict.Signer;
            how = verdict.Reason;
        }
        else
        {
            how = sb.PlatformMode == PlatformMode.Setup ? "setup mode: no signature required" : "custom mode: no signature required";
        }

        // CheckSignatureListFormat on the payload.
        if (CheckSignatureListFormat(variable, auth.Payload) is { } formatError)
            return new(VariableUpdateStatus.InvalidParameter, formatError, signer);

        Commit(store, variable, stored, append, auth, existing);
        return new(VariableUpdateStatus.Applied, how, signer);
    }

    private static void Commit(OvmfVariableStore store, VariableKey variable, EfiVariableAttributes stored, bool append, EfiVariableAuthentication2 auth, UefiVariable? existing)
    {
        bool wasUser = store.SecureBoot.PlatformMode == PlatformMode.User;
        if (existing is not null && auth.Payload.IsEmpty && !append)
        {
            store.Remove(variable.VendorGuid, variable.Name);
        }
        else if (existing is not null && append)
        {
            // AuthServiceInternalUpdateVariableWithTimeStamp: FilterSignatureList drops entries already present; Variable.c keeps
            // the later of the two timestamps.
            byte[] added = FilterSignatureList(existing.Data, auth.Payload);
            byte[] merged = [.. existing.Data.Span, .. added];
            store.Set(existing with { Data = merged, TimeStamp = auth.TimeStamp > existing.TimeStamp ? auth.TimeStamp : existing.TimeStamp });
        }
        else if (!auth.Payload.IsEmpty)
        {
            store.Set(new UefiVariable { Name = variable.Name, VendorGuid = variable.VendorGuid, Attributes = stored, Data = auth.Payload.ToArray(), TimeStamp = auth.TimeStamp });
        }

        // VendorKeyIsModified: any change to the key databases clears VendorKeysNv.
        store.Set(new UefiVariable
        {
            Name = WellKnownVariables.VendorKeysNv.Name, VendorGuid = WellKnownVariables.VendorKeysNv.VendorGuid,
            Attributes = EfiVariableAttributes.NonVolatile | EfiVariableAttributes.BootServiceAccess | EfiVariableAttributes.TimeBasedAuthenticatedWriteAccess,
            Data = new byte[] { 0 },
        });

        // UpdatePlatformMode: enrolling PK enters user mode and sets SecureBootEnable; deleting it returns to setup mode.
        bool isUser = store.SecureBoot.PlatformMode == PlatformMode.User;
        var sbe = WellKnownVariables.SecureBootEnable;
        if (!wasUser && isUser)
            store.Set(new UefiVariable { Name = sbe.Name, VendorGuid = sbe.VendorGuid, Attributes = EfiVariableAttributes.NonVolatile | EfiVariableAttributes.BootServiceAccess, Data = new byte[] { 1 } });
        else if (wasUser && !isUser)
            store.Remove(sbe.VendorGuid, sbe.Name);
    }

    /// <summary>edk2 FilterSignatureList: the EFI_SIGNATURE_DATA of <paramref name="update"/> not already in <paramref name="current"/>.</summary>
    public static byte[] FilterSignatureList(ReadOnlyMemory<byte> current, ReadOnlyMemory<byte> update)
    {
        var have = EfiSignatureList.TryParseAll(current, out var lists, out _, out _) ? lists : [];
        var kept = new List<EfiSignatureList>();
        foreach (var list in EfiSignatureList.ParseAll(update))
        {
            var fresh = list.Signatures.Where(s => !have.Any(h => h.SignatureType == list.SignatureType
                && h.Signatures.Any(e => e.Owner == s.Owner && e.Data.Span.SequenceEqual(s.Data.Span)))).ToList();
            if (fresh.Count > 0)
                kept.Add(list with { Signatures = fresh });
        }

        return EfiSignatureList.Encode(kept);
    }

    /// <summary>edk2 CheckSignatureListFormat: known types at exact sizes, RSA X.509 only, lists filling the data, PK ≤ 1 entry.</summary>
    public static string? CheckSignatureListFormat(VariableKey variable, ReadOnlyMemory<byte> payload)
    {
        if (payload.IsEmpty)
            return null;
        if (!EfiSignatureList.TryParseAll(payload, out var lists, out string? error, out _))
            return $"Payload is not a list of EFI_SIGNATURE_LISTs: {error}";
        int count = 0;
        foreach (var list in lists)
        {
            if (list.Kind is EfiSignatureKind.Unknown or EfiSignatureKind.Sm3 or EfiSignatureKind.X509Sm3)
                return $"Signature type {list.SignatureType} is not one edk2 accepts.";
            if (list.SignatureHeader.Length != 0)
                return "A SignatureHeaderSize other than 0 is not accepted.";
            foreach (var s in list.Signatures)
            {
                count++;
                if (list.Kind == EfiSignatureKind.X509 && !IsRsaCertificate(s.Data))
                    return "An X.509 entry is not an RSA certificate (edk2 RsaGetPublicKeyFromX509 fails).";
            }
        }

        return variable == WellKnownVariables.PK && count > 1 ? $"PK may hold one signature; the payload has {count}." : null;
    }

    private static bool IsRsaCertificate(ReadOnlyMemory<byte> der)
    {
        try
        {
            using var cert = X509CertificateLoader.LoadCertificate(der.Span);
            using var rsa = cert.GetRSAPublicKey();
            return rsa is not null;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static List<X509Certificate2> Certificates(SignatureDatabase? database)
    {
        var result = new List<X509Certificate2>();
        foreach (var der in database?.Certificates ?? [])
        {
            try
            {
                result.Add(X509CertificateLoader.LoadCertificate(der.Span));
            }
            catch (CryptographicException)
            {
                // edk2 skips entries its X.509 parser rejects; so do we.
            }
        }

        return result;
    }
}
