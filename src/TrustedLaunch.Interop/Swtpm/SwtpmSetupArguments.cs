namespace TrustedLaunch.Interop.Swtpm;

/// <summary>
/// <c>swtpm_setup</c>'s command line as libvirt runs it on a VM's first start (<c>--tpm2 --tpm-state D --vmid NAME:UUID
/// --logfile F --createek --create-ek-cert --create-platform-cert --lock-nvram --not-overwrite [--pwdfile-fd N --cipher
/// aes-256-cbc] [--pcr-banks …]</c>) and on later starts of a domain with <c>&lt;active_pcr_banks&gt;</c> (<c>--tpm2 --tpm-state D
/// --reconfigure --pcr-banks … [--pwdfile-fd N --cipher …] --logfile F</c>), plus the platform CA folder the shim adds
/// (<c>--tl-platform-ca DIR</c>, our extension). Options that would give the TPM another shape than tl-vtpm's manufacture makes are
/// refused by name.
/// </summary>
public sealed record SwtpmSetupArguments
{
    /// <summary>Our extension option: the platform CA folder (the installed shim passes it).</summary>
    public const string PlatformCaOption = "--tl-platform-ca";

    public bool PrintCapabilities { get; init; }

    /// <summary><c>--create-config-files</c>: swtpm's own config files; tl-vtpm has none, so this only succeeds.</summary>
    public bool CreateConfigFiles { get; init; }
    public bool Tpm2 { get; init; }
    public string? StateDirectory { get; init; }
    public string? VmId { get; init; }
    public string? LogFile { get; init; }
    public bool Overwrite { get; init; }

    /// <summary><c>--reconfigure</c>: change an existing TPM's active PCR banks (<see cref="PcrBanks"/>) and nothing else.</summary>
    public bool Reconfigure { get; init; }
    public bool NotOverwrite { get; init; }
    public bool LockNvram { get; init; }
    public bool CreateEkCertificate { get; init; }
    public bool CreatePlatformCertificate { get; init; }
    public IReadOnlyList<string>? PcrBanks { get; init; }
    public SwtpmKeySource? Key { get; init; }
    public string? WriteEkCertificateFiles { get; init; }
    public string? PlatformCa { get; init; }

    /// <exception cref="SwtpmArgumentException">The command line is malformed or asks for something tl-vtpm does not do.</exception>
    public static SwtpmSetupArguments Parse(IReadOnlyList<string> args)
    {
        var result = new SwtpmSetupArguments();
        string? keyPath = null, pwdPath = null, cipher = null;
        int? keyFd = null, pwdFd = null;
        for (int i = 0; i < args.Count; i++)
        {
            string option = args[i];
            string Value() => ++i < args.Count ? args[i] : throw new SwtpmArgumentException($"{option} needs a value");
            switch (option)
            {
                case "--print-capabilities": result = result with { PrintCapabilities = true }; break;
                case "--create-config-files":
                    result = result with { CreateConfigFiles = true };
                    if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                        i++; // [overwrite][,root][,skip-if-exist]
                    break;
                case "--tpm2": result = result with { Tpm2 = true }; break;
                case "--tpm-state" or "--tpmstate":
                    string state = Value();
                    result = result with { StateDirectory = state.StartsWith("dir://", StringComparison.Ordinal) ? state["dir://".Length..] : state };
                    if (state.StartsWith("file://", StringComparison.Ordinal))
                        throw new SwtpmArgumentException($"{option} '{state}': tl-vtpm keeps its sealed state in a folder; give dir:// or a path");
                    break;
                case "--vmid": result = result with { VmId = Value() }; break;
                case "--logfile": result = result with { LogFile = Value() }; break;
                case "--overwrite": result = result with { Overwrite = true }; break;
                case "--not-overwrite": result = result with { NotOverwrite = true }; break;
                case "--lock-nvram": result = result with { LockNvram = true }; break;
                case "--createek" or "--decryption" or "--display": break; // always done / the default / nothing extra to show
                case "--create-ek-cert": result = result with { CreateEkCertificate = true }; break;
                case "--create-platform-cert": result = result with { CreatePlatformCertificate = true, CreateEkCertificate = true }; break;
                case "--pcr-banks": result = result with { PcrBanks = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) }; break;
                case "--keyfile": keyPath = Value(); break;
                case "--keyfile-fd": keyFd = ParseFd(option, Value()); break;
                case "--pwdfile": pwdPath = Value(); break;
                case "--pwdfile-fd": pwdFd = ParseFd(option, Value()); break;
                case "--cipher": cipher = SwtpmKeySource.CheckCipher(option, Value()); break;
                case "--rsa-keysize":
                    if (Value() != "2048")
                        throw new SwtpmArgumentException("--rsa-keysize: tl-vtpm's RSA EK is 2048 bits (TCG template L-1)");
                    break;
                case "--write-ek-cert-files": result = result with { WriteEkCertificateFiles = Value() }; break;
                case "--config" or "--tpm" or "--swtpm_ioctl": _ = Value(); break; // swtpm's own tools and config: tl-vtpm needs neither
                case PlatformCaOption: result = result with { PlatformCa = Value() }; break;
                case "--reconfigure": result = result with { Reconfigure = true }; break;
                case "--allow-signing" or "--take-ownership" or "--create-spk" or "--ecc" or "--runas" or "--print-profiles" or "--profile":
                    throw new SwtpmArgumentException($"{option} is not supported by tl-vtpm's manufacture");
                default:
                    throw new SwtpmArgumentException($"unknown option '{option}'");
            }
        }

        int keySources = (keyPath is null ? 0 : 1) + (keyFd is null ? 0 : 1) + (pwdPath is null ? 0 : 1) + (pwdFd is null ? 0 : 1);
        if (keySources > 1)
            throw new SwtpmArgumentException("give one of --keyfile, --keyfile-fd, --pwdfile, --pwdfile-fd");
        string chosenCipher = cipher ?? "aes-128-cbc";
        SwtpmKeySource? key = keyPath is not null ? new SwtpmKeySource(SwtpmKeyKind.KeyFile, keyPath, null, chosenCipher)
            : keyFd is not null ? new SwtpmKeySource(SwtpmKeyKind.KeyFd, null, keyFd, chosenCipher)
            : pwdPath is not null ? new SwtpmKeySource(SwtpmKeyKind.PassphraseFile, pwdPath, null, chosenCipher)
            : pwdFd is not null ? new SwtpmKeySource(SwtpmKeyKind.PassphraseFd, null, pwdFd, chosenCipher)
            : null;
        result = result with { Key = key };
        if (result.PrintCapabilities || result.CreateConfigFiles)
            return result;
        if (!result.Tpm2)
            throw new SwtpmArgumentException("--tpm2 is required: tl-vtpm is a TPM 2.0 only (no TPM 1.2)");
        if (result.StateDirectory is null)
            throw new SwtpmArgumentException("--tpm-state DIR is required");
        if (result.Overwrite && result.NotOverwrite)
            throw new SwtpmArgumentException("--overwrite and --not-overwrite exclude each other");
        if (result.Reconfigure)
        {
            // swtpm_setup 0.7: --reconfigure changes the active PCR banks of an existing TPM, nothing else.
            if (result.PcrBanks is null)
                throw new SwtpmArgumentException("--reconfigure needs --pcr-banks: the active PCR banks are the only thing it changes");
            if (result.Overwrite)
                throw new SwtpmArgumentException("--reconfigure and --overwrite exclude each other: --overwrite makes a new TPM, --reconfigure keeps it");
            return result;
        }

        if (result.PlatformCa is null)
            throw new SwtpmArgumentException($"{PlatformCaOption} DIR is required (the installed swtpm_setup shim passes it)");
        return result;
    }

    /// <summary>The VM id the certificates carry: the UUID of libvirt's <c>NAME:UUID</c>, or the whole vmid when it is one.</summary>
    public Guid? VmUuid =>
        VmId is null ? null
        : Guid.TryParse(VmId, out Guid whole) ? whole
        : Guid.TryParse(VmId[(VmId.LastIndexOf(':') + 1)..], out Guid suffix) ? suffix
        : null;

    private static int ParseFd(string option, string value) =>
        int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int fd)
            ? fd
            : throw new SwtpmArgumentException($"{option} '{value}' is not a file descriptor number");
}
