using System.Security.Cryptography;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.Format.VariableStore;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.SecureBoot.Rollover;

/// <summary>
/// Brings KEK and db to a Microsoft template's CAs, as the platform (the PK's owner) writes them: Microsoft's CAs the
/// template holds are appended when missing, Microsoft's CAs it does not hold are dropped, and every other entry (the
/// VM's own keys, hashes) stays where it was. The variables keep their attributes and timestamps, so a later
/// authenticated write by the guest is judged as before.
/// </summary>
internal static class MicrosoftKeyRewrite
{
    public static IReadOnlyList<KeyChange> Apply(OvmfVariableStore store, SecureBootTemplate template)
    {
        IReadOnlyList<MicrosoftCertificate> wanted = SecureBootTemplates.MicrosoftKeys(template);
        if (wanted.Count == 0)
            throw new ArgumentException($"'{SecureBootTemplates.NameOf(template)}' is not a Microsoft template.", nameof(template));
        var changes = new List<KeyChange>();
        Rewrite(store, WellKnownVariables.KEK, "KEK", [.. wanted.Where(c => c.Database == MicrosoftCertificateDatabase.Kek)], changes);
        Rewrite(store, WellKnownVariables.Db, "db", [.. wanted.Where(c => c.Database == MicrosoftCertificateDatabase.Db)], changes);
        return changes;
    }

    private static void Rewrite(OvmfVariableStore store, VariableKey key, string name, List<MicrosoftCertificate> wanted, List<KeyChange> changes)
    {
        if (!store.TryGet(key.VendorGuid, key.Name, out UefiVariable? variable))
            throw new VariableStoreException($"The store has no {name}: it was not made by a Secure Boot template, so there is nothing to roll over.");
        var entries = new List<SignatureDatabaseEntry>();
        foreach (EfiSignatureList list in EfiSignatureList.ParseAll(variable.Data))
        {
            foreach (EfiSignatureData data in list.Signatures)
            {
                MicrosoftCertificate? microsoft = list.Kind == EfiSignatureKind.X509 ? MicrosoftCertificates.Find(data.Data.Span) : null;
                if (microsoft is not null && !wanted.Contains(microsoft))
                {
                    changes.Add(new KeyChange(name, "removed", Subject(microsoft)));
                    continue;
                }

                entries.Add(new SignatureDatabaseEntry(list.Kind, data.Owner, data.Data));
            }
        }

        foreach (MicrosoftCertificate certificate in wanted)
        {
            if (entries.Exists(e => e.Kind == EfiSignatureKind.X509 && e.Data.Span.SequenceEqual(certificate.Der.Span)))
                continue;
            entries.Add(new SignatureDatabaseEntry(EfiSignatureKind.X509, EfiGuids.MicrosoftOwner, certificate.Der));
            changes.Add(new KeyChange(name, "added", Subject(certificate)));
        }

        if (changes.Exists(c => c.Database == name))
            store.Set(variable with { Data = SignatureDatabaseEntry.EncodeLists(entries) });
    }

    private static string Subject(MicrosoftCertificate certificate) => $"CN={certificate.CommonName} (sha256:{certificate.Sha256[..16]}…)";

    /// <summary>The dbx entries <paramref name="after"/> holds and <paramref name="before"/> does not, as changes.</summary>
    public static IEnumerable<KeyChange> DbxAdditions(ReadOnlyMemory<byte> before, ReadOnlyMemory<byte> after)
    {
        byte[] added = SecureBootVariableUpdater.FilterSignatureList(before, after);
        foreach (EfiSignatureList list in EfiSignatureList.ParseAll(added))
        {
            foreach (EfiSignatureData data in list.Signatures)
                yield return new KeyChange("dbx", "added", Describe(list.Kind, data.Data));
        }
    }

    private static string Describe(EfiSignatureKind kind, ReadOnlyMemory<byte> data) => kind switch
    {
        EfiSignatureKind.X509 => SignatureEntrySummary.Describe(kind, new EfiSignatureData(Guid.Empty, data)).Subject ?? $"x509 sha256:{Convert.ToHexStringLower(SHA256.HashData(data.Span))}",
        _ => $"{kind.ToString().ToLowerInvariant()}:{Convert.ToHexStringLower(data.Span)}",
    };
}
