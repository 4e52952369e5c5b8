using System.Globalization;
using TrustedLaunch.Interop.Swtpm;
using TrustedLaunch.Storage;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.VTpm.State;

namespace TrustedLaunch.VTpm.Host.Swtpm;

/// <summary>
/// <c>tl-vtpm swtpm_setup …</c>: manufactures this project's vTPM (EK RSA-2048 + EK ECC P-256 with EK certificates and the
/// AK with its certificate, all from the platform CA, NV write-locked) into libvirt's state folder. With
/// <c>--not-overwrite</c> an existing state is kept untouched, as swtpm_setup does; <c>--reconfigure --pcr-banks</c> changes an
/// existing state's active PCR banks and nothing else (<see cref="VTpmPcrBanks"/>).
/// </summary>
internal static class SwtpmSetupVerb
{
    public static int Run(IReadOnlyList<string> args)
    {
        SwtpmSetupArguments setup;
        try
        {
            setup = SwtpmSetupArguments.Parse(args);
        }
        catch (SwtpmArgumentException e)
        {
            return SwtpmVerbs.Refuse("swtpm_setup", e.Message);
        }

        if (setup.PrintCapabilities)
        {
            Console.Out.WriteLine(SwtpmCapabilityDocument.Setup(SwtpmVerbs.Version));
            return 0;
        }

        if (setup.CreateConfigFiles)
            return 0; // swtpm's config files (swtpm_setup.conf, swtpm-localca.*) have no tl-vtpm meaning

        using var log = new HostLog(setup.LogFile, 1);
        try
        {
            return setup.Reconfigure ? ReconfigurePcrBanks(setup, log) : Manufacture(setup, log);
        }
        catch (Exception e) when (e is SwtpmArgumentException or SealingKeyException or PlatformCaException or IOException
            or UnauthorizedAccessException or VTpmStateException or ArgumentException or InvalidOperationException)
        {
            log.Error(e.Message);
            return SwtpmVerbs.Refuse("swtpm_setup", e.Message);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            log.Error($"libtpms cannot be loaded ({e.Message}); install libtpms0");
            return SwtpmVerbs.Refuse("swtpm_setup", $"libtpms cannot be loaded ({e.Message}); install libtpms0");
        }
    }

    private static int Manufacture(SwtpmSetupArguments setup, HostLog log)
    {
        string directory = setup.StateDirectory!;
        string statePath = SwtpmStateFolder.StatePath(directory);
        string keyPath = SwtpmStateFolder.KeyPath(directory);
        if (File.Exists(statePath))
        {
            if (setup.NotOverwrite)
            {
                log.Info($"Not overwriting existing state file {statePath}.");
                return 0;
            }

            if (!setup.Overwrite)
                throw new SwtpmArgumentException($"TPM state {statePath} already exists; give --overwrite to replace it (a new identity) or --not-overwrite to keep it");
            File.Delete(statePath);
            File.Delete(keyPath);
        }

        Directory.CreateDirectory(directory);
        IReadOnlyList<TpmAlgId> banks = setup.PcrBanks is null ? VTpmLayout.DefaultBanks : setup.PcrBanks.Select(ParseBank).ToList();
        IPlatformCa ca = FilePlatformCa.Open(setup.PlatformCa!);
        SealingKey key;
        if (setup.Key is null)
        {
            File.Delete(keyPath); // a key left without its state seals nothing; a new TPM gets a new key
            key = SealingKey.Generate(keyPath);
        }
        else
        {
            key = SealingKey.FromBytes(setup.Key.ReadSealingKey());
        }

        Guid vmId = setup.VmUuid ?? Guid.NewGuid();
        log.Info($"Starting vTPM manufacturing (tl-vtpm {SwtpmVerbs.Version}) for vmid {setup.VmId ?? vmId.ToString()} into {directory}");
        VTpmIdentity identity = VTpmManufacturer.Manufacture(VTpmStateFile.Open(statePath, key), ca,
            new VTpmManufactureOptions { VmId = vmId, PcrBanks = banks });
        foreach (VTpmKeyIdentity k in identity.Keys)
            log.Info($"Successfully created {k.Role} with handle {k.PersistentHandle}, certificate at NV index {k.CertificateIndex} issued by {k.CertificateIssuer}.");
        if (setup.WriteEkCertificateFiles is { } certificateFolder)
            WriteEkCertificates(identity, certificateFolder, log);
        log.Info($"Successfully authored TPM state (PCR banks {string.Join(',', identity.PcrBanks)}; NV certificates write-locked).");
        return 0;
    }

    private static int ReconfigurePcrBanks(SwtpmSetupArguments setup, HostLog log)
    {
        string directory = setup.StateDirectory!;
        string statePath = SwtpmStateFolder.StatePath(directory);
        if (!File.Exists(statePath))
            throw new SwtpmArgumentException($"{directory} holds no tl-vtpm state ({SwtpmStateFolder.StateFileName}) to reconfigure; run swtpm_setup without --reconfigure first");
        SealingKey key = setup.Key is null ? SealingKey.Load(SwtpmStateFolder.KeyPath(directory)) : SealingKey.FromBytes(setup.Key.ReadSealingKey());
        PcrBankChange change = VTpmPcrBanks.Reconfigure(VTpmStateFile.Open(statePath, key), setup.PcrBanks!.Select(ParseBank).ToList());
        log.Info(change.Changed
            ? $"Reconfigured the active PCR banks of {directory}: {Names(change.Before)} -> {Names(change.After)} (EK, AK, certificates and NV kept)."
            : $"The active PCR banks of {directory} are already {Names(change.After)}; nothing changed.");
        return 0;
    }

    private static string Names(IReadOnlyList<TpmAlgId> banks) => string.Join(',', banks.Select(b => b.ToString().ToLowerInvariant()));

    /// <summary>swtpm_setup's <c>--write-ek-cert-files DIR</c>: the EK certificates as PEM files, one per EK.</summary>
    private static void WriteEkCertificates(VTpmIdentity identity, string folder, HostLog log)
    {
        Directory.CreateDirectory(folder);
        foreach (VTpmKeyIdentity key in identity.Keys.Where(k => k.Role.StartsWith("ek-", StringComparison.Ordinal) && k.CertificatePem is not null))
        {
            string path = Path.Combine(folder, key.Role + ".crt");
            TrustedLaunch.HostSystem.DurableFile.Write(path, System.Text.Encoding.ASCII.GetBytes(key.CertificatePem!), overwrite: true);
            log.Info($"Wrote EK certificate {path}");
        }
    }

    private static TpmAlgId ParseBank(string name) => name.ToLower(CultureInfo.InvariantCulture) switch
    {
        "sha1" => TpmAlgId.Sha1,
        "sha256" => TpmAlgId.Sha256,
        "sha384" => TpmAlgId.Sha384,
        "sha512" => TpmAlgId.Sha512,
        _ => throw new SwtpmArgumentException($"--pcr-banks: '{name}' is not sha1, sha256, sha384 or sha512"),
    };
}
