using System.Security.Cryptography;
using TrustedLaunch.Uefi.Format;
using TrustedLaunch.Uefi.VariableStore;

namespace TrustedLaunch.SecureBoot.Rollover;

/// <summary>
/// What the next boot of a store will prove in PCR 7, in the attestation's own terms (the verifier's
/// <c>SecureBootKeys</c>): each KEK and db entry as the SHA-256 of a certificate's DER or a hash's hex, and dbx as its
/// entry count and the SHA-256 over its entries' data in order. Armed as a sanctioned key change, it lets exactly this
/// change of PCR 7 relearn the baseline (docs/secureboot-rollover.md).
/// </summary>
public sealed record ExpectedAttestedKeys(IReadOnlyList<string> Kek, IReadOnlyList<string> Db, int DbxCount, string DbxDigest)
{
    public static ExpectedAttestedKeys From(OvmfVariableStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        SecureBootDatabases sb = store.SecureBoot;
        using var dbx = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        int count = 0;
        foreach (EfiSignatureList list in sb.Dbx?.Lists ?? [])
        {
            foreach (EfiSignatureData entry in list.Signatures)
            {
                dbx.AppendData(entry.Data.Span);
                count++;
            }
        }

        return new ExpectedAttestedKeys(Entries(sb.KEK), Entries(sb.Db), count, Convert.ToHexStringLower(dbx.GetHashAndReset()));
    }

    private static string[] Entries(SignatureDatabase? database) =>
        [.. (database?.Lists ?? []).SelectMany(l => l.Signatures.Select(s => l.Kind == EfiSignatureKind.X509
            ? Convert.ToHexStringLower(SHA256.HashData(s.Data.Span))
            : Convert.ToHexStringLower(s.Data.Span)))];
}
