using System.Globalization;
using System.Security.Cryptography;
using TrustedLaunch.Tcg.EventLog;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.Attestation;

/// <summary>
/// Turns a replayed, PCR-matched event log into an <see cref="AttestedBootState"/>. Interpretation is delegated to
/// <see cref="BootStateSummarizer"/> (which reads only replayed events through a strict (PCR, type) dispatch); this
/// adds the checks an attestation needs on top: a separator in each of PCRs 0-7, no uninterpretable or excluded
/// events in the attested PCRs, and the derived claims (default keys, db/dbx validated, debuggers).
/// </summary>
internal static class BootAppraiser
{
    /// <summary>PCRs whose events the appraisal interprets (and the quote must cover): 0-9 and 14.</summary>
    internal static readonly int[] AttestedPcrIndices = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14];

    public static AttestedBootState Appraise(PcrComparison comparison, IReadOnlyList<int> attestedPcrs,
        IReadOnlyDictionary<string, IReadOnlyDictionary<int, string>> pcrs, ITpmDigest hash, CertificateNames names)
    {
        BootStateSummary summary = BootStateSummarizer.Summarize(comparison, hash);
        var anomalies = new List<string>();
        CheckSeparators(comparison, anomalies);
        foreach (EventReference e in summary.UninterpretedEvents)
        {
            if (IsAttested(e.PcrIndex))
                anomalies.Add(string.Create(CultureInfo.InvariantCulture, $"PCR {e.PcrIndex}: event #{e.EventIndex} of type {e.TypeName} is not expected in this PCR"));
        }

        foreach (ExcludedEvent e in summary.ExcludedEvents)
        {
            if (IsAttested(e.PcrIndex))
                anomalies.Add(string.Create(CultureInfo.InvariantCulture, $"PCR {e.PcrIndex}: event #{e.EventIndex} ({e.TypeName}) excluded: {e.Reason}"));
        }

        anomalies.AddRange(summary.Warnings);

        SecureBootState sb = summary.SecureBoot;
        SecureBootKeys keys = new()
        {
            Pk = Entries(sb.Pk, names),
            Kek = Entries(sb.Kek, names),
            Db = Entries(sb.Db, names),
            DbxCount = sb.Dbx?.Entries.Count ?? 0,
            DbxDigest = sb.Dbx is null ? null : DatabaseDigest(sb.Dbx),
        };

        var chain = new List<BootComponent>(summary.BootApplications.Count);
        for (int i = 0; i < summary.BootApplications.Count; i++)
        {
            BootApplication app = summary.BootApplications[i];
            // SHA-256 is the digest sbsign/pesign print and policies list; the strongest replayed bank otherwise.
            // Only when that bank was quoted (and so replayed): a digest in an unquoted bank is unverified.
            (string bank, string digest) = pcrs.ContainsKey("sha256") && app.Digests.TryGetValue("sha256", out string? sha256)
                ? ("sha256", sha256)
                : (TpmHashAlgorithm.BankName(app.Bank) ?? app.Bank.ToString(), app.AuthenticodeDigest);
            KeyEntry? admitting = app.Authority?.Entry is { } entry ? names.Describe(entry) : null;
            string? fileName = FileName(app.DevicePath);
            chain.Add(new BootComponent
            {
                Pcr = 4,
                Name = fileName ?? MemoryImageName(chain, i),
                NameSource = fileName is null ? ComponentNameSources.Position : ComponentNameSources.DevicePath,
                Path = app.DevicePath,
                Bank = bank,
                Digest = digest.ToLowerInvariant(),
                Authority = app.Authority is null ? null : CertificateNames.Describe(app.Authority, admitting),
                AuthorityName = admitting?.Name,
                AuthoritySha256 = admitting?.Sha256,
            });
        }

        var authorities = new List<AttestedAuthority>(summary.Authorities.Count);
        foreach (BootAuthority authority in summary.Authorities)
        {
            if (authority.VariableName == "SbatLevel" && authority.VendorGuid == EfiGuids.ShimLock)
                continue; // shim's SBAT policy, measured as an authority event; it admits nothing
            KeyEntry? described = authority.Entry is { } e ? names.Describe(e) : null;
            authorities.Add(new AttestedAuthority(authority.VariableName, described?.Name ?? authority.Describe(), described?.Sha256 ?? ""));
        }

        bool secureBoot = sb.Enabled == true;
        bool defaultKeys = keys.Kek.Count > 0 && keys.Db.Count > 0 &&
            keys.Kek.Any(k => MicrosoftSecureBootKeys.Kek.Contains(k.Sha256)) &&
            keys.Kek.All(k => MicrosoftSecureBootKeys.Kek.Contains(k.Sha256) || IsPlatformVendorKek(k, keys.Pk)) &&
            keys.Db.All(k => MicrosoftSecureBootKeys.Db.Contains(k.Sha256));
        // db admitted boot code: an authority replayed after the separator is an entry of the measured db.
        bool dbValidated = secureBoot && keys.Db.Count > 0 && chain.Count > 0 &&
            authorities.Any(a => a.Variable == "db" && keys.Db.Any(k => string.Equals(k.Sha256, a.Sha256, StringComparison.OrdinalIgnoreCase)));
        return new AttestedBootState
        {
            SecureBootEnabled = sb.Enabled,
            FirmwareDebugMode = sb.DebugMode,
            KernelDebugEnabled = KernelDebugger.Enabled(summary),
            FirmwareVersion = summary.FirmwareVersion,
            Keys = keys,
            DefaultSecureBootKeys = defaultKeys,
            DbValidated = dbValidated,
            DbxValidated = secureBoot && keys.DbxCount > 0,
            Authorities = summary.Authorities.Select(names.Describe).ToArray(),
            AuthorityEntries = authorities,
            BootChain = chain,
            GrubCommands = summary.GrubCommands,
            GrubFiles = summary.GrubFiles.Select(f => new MeasuredFileDigest(f.Path, f.Digest.ToLowerInvariant())).ToArray(),
            KernelCommandLine = summary.KernelCommandLine,
            KernelArguments = summary.KernelArguments.Select(k => new KernelArgument(OriginName(k.Origin), k.Arguments, k.Executed)).ToArray(),
            ShimVariables = summary.Shim?.MeasuredVariables ?? [],
            AttestedPcrs = attestedPcrs,
            Pcrs = pcrs,
            Anomalies = anomalies,
        };
    }

    private static string OriginName(KernelArgumentOrigin origin) => origin switch
    {
        KernelArgumentOrigin.CommandLine => "commandLine",
        KernelArgumentOrigin.LinuxCommand => "linuxCommand",
        _ => "menuEntry",
    };

    private static bool IsAttested(uint pcr) => pcr <= 9 || pcr == 14;

    /// <summary>
    /// PFP §10.4.4.1: every PCR 0-7 gets one EV_SEPARATOR before the OS runs. A separator whose type was rewritten
    /// still replays (the type is not hashed) but no longer counts here, so the rewrite is caught.
    /// </summary>
    private static void CheckSeparators(PcrComparison comparison, List<string> anomalies)
    {
        Span<int> separators = stackalloc int[8];
        foreach (TcgEvent ev in comparison.Replay.Log.Events)
        {
            if (ev.Type == TcgEventType.Separator && ev.PcrIndex < 8 && comparison.ReplayedBank(ev) is not null)
                separators[(int)ev.PcrIndex]++;
        }

        for (int pcr = 0; pcr < 8; pcr++)
        {
            if (separators[pcr] != 1)
                anomalies.Add(string.Create(CultureInfo.InvariantCulture, $"PCR {pcr}: {separators[pcr]} replayed EV_SEPARATOR events, expected exactly 1"));
        }
    }

    // The OVMF Microsoft template (like many vendors) enrols its own PK certificate in KEK too; it signs nothing in db.
    private static bool IsPlatformVendorKek(KeyEntry kek, IReadOnlyList<KeyEntry> pk) => pk.Any(p => string.Equals(p.Sha256, kek.Sha256, StringComparison.OrdinalIgnoreCase));

    private static KeyEntry[] Entries(SignatureDatabase? database, CertificateNames names) => database is null ? [] :
        database.Entries.Select(names.Describe).ToArray();

    private static string DatabaseDigest(SignatureDatabase database)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (SignatureEntry e in database.Entries)
            hash.AppendData(e.Data.Span);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    // GRUB hands the kernel to shim's verifier and LoadImage from memory (no device path): name it for what it is.
    private static string MemoryImageName(List<BootComponent> earlier, int index) =>
        earlier.Any(c => c.Name.StartsWith("grub", StringComparison.OrdinalIgnoreCase))
            ? "kernel"
            : string.Create(CultureInfo.InvariantCulture, $"image-{index + 1}");

    private static string? FileName(string? devicePath)
    {
        if (string.IsNullOrEmpty(devicePath))
            return null;
        int cut = devicePath.LastIndexOfAny(['\\', '/']);
        string name = cut >= 0 ? devicePath[(cut + 1)..] : devicePath;
        return name.Length == 0 ? null : name;
    }
}
