using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>
/// Derives <see cref="BootStateSummary"/> from a <see cref="PcrComparison"/>. An event is used only when its digest
/// is part of a matched PCR value and, where defined, its data hashes to that digest; it is then interpreted by a
/// strict (PCR, type) dispatch, so an event whose type was rewritten lands in <see cref="BootStateSummary.UninterpretedEvents"/>
/// or changes a PCR that no longer matches.
/// </summary>
public static class BootStateSummarizer
{
    /// <summary>Parses nothing: summarises an already compared log.</summary>
    public static BootStateSummary Summarize(PcrComparison comparison)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        return new Builder(comparison).Build();
    }

    /// <summary>Replays <paramref name="log"/>, compares with <paramref name="pcrs"/> (or the log itself when null) and summarises.</summary>
    public static BootStateSummary Summarize(TcgEventLog log, IEnumerable<PcrValue>? pcrs)
    {
        var replay = EventLogReplay.Replay(log);
        return Summarize(pcrs is null ? PcrComparison.SelfConsistent(replay) : replay.CompareWith(pcrs));
    }

    /// <summary>(PCR, type) pairs the PFP and the boot chains we know put there and that need no further interpretation.</summary>
    private static bool IsExpectedPlain(uint pcr, TcgEventType type) => (pcr, type) switch
    {
        (0, TcgEventType.EfiPlatformFirmwareBlob or TcgEventType.EfiPlatformFirmwareBlob2 or TcgEventType.PostCode
            or TcgEventType.NonhostInfo or TcgEventType.NonhostCode or TcgEventType.SCrtmContents or TcgEventType.EfiHcrtmEvent
            or TcgEventType.CpuMicrocode or TcgEventType.EfiHandoffTables or TcgEventType.EfiHandoffTables2 or TcgEventType.EfiVariableDriverConfig) => true,
        (1, TcgEventType.EfiVariableBoot or TcgEventType.EfiVariableBoot2 or TcgEventType.EfiHandoffTables or TcgEventType.EfiHandoffTables2
            or TcgEventType.PlatformConfigFlags or TcgEventType.CpuMicrocode or TcgEventType.NonhostConfig or TcgEventType.TableOfDevices
            or TcgEventType.EfiVariableDriverConfig or TcgEventType.EfiAction) => true,
        (2, TcgEventType.EfiPlatformFirmwareBlob or TcgEventType.EfiPlatformFirmwareBlob2 or TcgEventType.EfiSpdmFirmwareBlob or TcgEventType.NonhostCode) => true,
        (3, TcgEventType.EfiVariableDriverConfig or TcgEventType.EfiSpdmFirmwareConfig or TcgEventType.NonhostConfig) => true,
        (4, TcgEventType.EfiAction or TcgEventType.EfiBootServicesDriver or TcgEventType.EfiRuntimeServicesDriver) => true,
        (5, TcgEventType.EfiGptEvent or TcgEventType.EfiGptEvent2 or TcgEventType.EfiVariableBoot or TcgEventType.EfiAction or TcgEventType.EfiHandoffTables) => true,
        (6, _) => true,
        (7, TcgEventType.EfiSpdmDevicePolicy or TcgEventType.EfiSpdmDeviceAuthority) => true,
        (9, TcgEventType.EventTag) => true,
        _ => false,
    };

    private sealed class Builder(PcrComparison comparison)
    {
        private readonly List<BootAuthority> _authorities = [];
        private readonly List<BootApplication> _applications = [];
        private readonly List<BootApplication> _drivers = [];
        private readonly List<string> _grubCommands = [];
        private readonly List<MeasuredFile> _grubFiles = [];
        private readonly List<string> _kernelCommandLines = [];
        private readonly List<string> _shimVariables = [];
        private readonly List<EventReference> _uninterpreted = [];
        private readonly List<ExcludedEvent> _excluded = [];
        private readonly List<string> _warnings = [];
        private readonly HashSet<string> _pcr7Variables = new(StringComparer.Ordinal);
        private readonly WindowsStateBuilder _windows = new();
        private SecureBootState _secureBoot = new();
        private string? _firmwareVersion;
        private string? _sbatLevel;
        private bool _pcr7Separated;
        private bool _callingBootOption;
        private bool _exitBootServices;
        private BootAuthority? _pendingAuthority;
        private BootAuthority? _lastAuthority;

        public BootStateSummary Build()
        {
            foreach (var ev in comparison.Replay.Log.Events)
            {
                if (!ev.IsExtended)
                    continue;
                var bank = comparison.ReplayedBank(ev);
                if (bank is null)
                {
                    _excluded.Add(new ExcludedEvent(ev.Index, ev.PcrIndex, ev.Type, comparison.PcrValuesGiven
                        ? $"PCR {ev.PcrIndex} did not match (or was not given) in any bank this event has a digest for"
                        : $"PCR {ev.PcrIndex} cannot be replayed from the log in any bank"));
                    continue;
                }

                TpmAlgId checkBank = DataCheckBank(ev, bank.Value);
                if (EventDigestVerifier.Check(ev, checkBank) == EventDigestCheck.Mismatch)
                {
                    _excluded.Add(new ExcludedEvent(ev.Index, ev.PcrIndex, ev.Type, $"the {TpmHashAlgorithm.BankName(checkBank)} digest is not the hash of the logged data"));
                    continue;
                }

                if (!TcgEventDataDecoder.TryDecode(ev, out var data, out string? error))
                {
                    _excluded.Add(new ExcludedEvent(ev.Index, ev.PcrIndex, ev.Type, $"malformed data: {error}"));
                    continue;
                }

                if (!Interpret(ev, bank.Value, data!) && !IsExpectedPlain(ev.PcrIndex, ev.Type) && ev.PcrIndex is <= 9 or 14)
                    _uninterpreted.Add(new EventReference(ev.Index, ev.PcrIndex, ev.Type));
            }

            if (_secureBoot.Enabled == true && _authorities.Count == 0)
                _warnings.Add("Secure Boot is enabled but no EV_EFI_VARIABLE_AUTHORITY event replayed");

            return new BootStateSummary
            {
                PcrValuesVerified = comparison.PcrValuesGiven,
                FirmwareVersion = _firmwareVersion,
                SecureBoot = _secureBoot,
                Authorities = _authorities,
                BootApplications = _applications,
                BootServicesDrivers = _drivers,
                GrubCommands = _grubCommands,
                GrubFiles = _grubFiles,
                KernelCommandLine = _kernelCommandLines.Count > 0 ? _kernelCommandLines[^1] : null,
                KernelCommandLines = _kernelCommandLines,
                Shim = _sbatLevel is null && _shimVariables.Count == 0 ? null : new ShimState { SbatLevel = _sbatLevel, MeasuredVariables = _shimVariables },
                Windows = _windows.Build(),
                ExitBootServicesMeasured = _exitBootServices,
                UninterpretedEvents = _uninterpreted,
                ExcludedEvents = _excluded,
                Warnings = _warnings,
            };
        }

        /// <summary>
        /// The bank in which to check the event's data against its digest: SHA-256 when the event replayed in it,
        /// else the strongest replayed bank. Any replayed bank proves "this data was measured" (its digest is part of a
        /// matched PCR value); SHA-256 runs on the CPU's SHA extensions at about twice SHA-512's speed, and the data
        /// checked (db/dbx variables, kilobytes each) makes this the costliest hashing of an appraisal.
        /// </summary>
        private TpmAlgId DataCheckBank(TcgEvent ev, TpmAlgId replayed) =>
            replayed != TpmAlgId.Sha256 && comparison.IsPcrVerified(TpmAlgId.Sha256, ev.PcrIndex) && ev.TryGetDigest(TpmAlgId.Sha256, out _)
                ? TpmAlgId.Sha256
                : replayed;

        /// <summary>Returns true when the (PCR, type, data) combination was understood and used.</summary>
        private bool Interpret(TcgEvent ev, TpmAlgId bank, TcgEventData data)
        {
            switch (ev.PcrIndex, ev.Type, data)
            {
                case (0, TcgEventType.SCrtmVersion, TextEventData t):
                    _firmwareVersion = t.Text;
                    return true;
                case (0, TcgEventType.SCrtmVersion, GuidEventData g):
                    _firmwareVersion = g.Value.ToString("D");
                    return true;
                case (_, TcgEventType.Separator, SeparatorEventData s):
                    if (s.IsError)
                        _warnings.Add($"PCR {ev.PcrIndex}: error separator 0x{s.Value:X8} (firmware reports a pre-OS error)");
                    if (ev.PcrIndex == 7)
                        _pcr7Separated = true;
                    return true;
                case (7, TcgEventType.EfiVariableDriverConfig, UefiVariableEventData v):
                    SecureBootVariable(v);
                    return true;
                case (7, TcgEventType.EfiVariableAuthority, UefiVariableEventData v):
                    Authority(ev, v);
                    return true;
                case (7, TcgEventType.EfiAction, TextEventData a):
                    if (a.Text == "UEFI Debug Mode")
                        _secureBoot = _secureBoot with { DebugMode = true };
                    else if (a.Text == "DMA Protection Disabled")
                        _secureBoot = _secureBoot with { DmaProtectionDisabled = true };
                    else
                        return false;
                    return true;
                case (4, TcgEventType.EfiAction, TextEventData a):
                    if (a.Text == "Calling EFI Application from Boot Option")
                        _callingBootOption = true;
                    return true;
                case (4, TcgEventType.EfiBootServicesApplication, UefiImageLoadEventData image):
                    _applications.Add(Image(ev, bank, image, withAuthority: true));
                    return true;
                case (2, TcgEventType.EfiBootServicesDriver or TcgEventType.EfiRuntimeServicesDriver, UefiImageLoadEventData image):
                    _drivers.Add(Image(ev, bank, image, withAuthority: false));
                    return true;
                case (5, TcgEventType.EfiAction, TextEventData a):
                    _exitBootServices |= a.Text == EventLogReplay.ExitBootServicesInvocation;
                    return true;
                case (8, TcgEventType.Ipl, IplEventData ipl):
                    return Grub(ipl);
                case (12, TcgEventType.Ipl, IplEventData { Kind: IplEventKind.LoadOptions } ipl):
                    _kernelCommandLines.Add(ipl.Text.Trim());
                    return true;
                case (9, TcgEventType.Ipl, IplEventData ipl):
                    _grubFiles.Add(new MeasuredFile(ipl.Text, Hex(ev, bank)));
                    return true;
                case (14, TcgEventType.Ipl, IplEventData { Kind: IplEventKind.ShimVariable } ipl):
                    _shimVariables.Add(ipl.Text);
                    return true;
                case ( >= 12 and <= 14, TcgEventType.EventTag, TaggedEventData { Sipa: { } sipa }):
                    _windows.Add(sipa, ev.PcrIndex);
                    return true;
                default:
                    return false;
            }
        }

        private bool Grub(IplEventData ipl)
        {
            switch (ipl.Kind)
            {
                case IplEventKind.GrubCommand:
                    _grubCommands.Add(ipl.Text);
                    return true;
                case IplEventKind.KernelCommandLine:
                    _kernelCommandLines.Add(ipl.Text);
                    return true;
                case IplEventKind.ModuleCommandLine:
                    _grubCommands.Add("module_cmdline: " + ipl.Text);
                    return true;
                case IplEventKind.LoadOptions:
                    _kernelCommandLines.Add(ipl.Text.Trim());
                    return true;
                default:
                    return false;
            }
        }

        private void SecureBootVariable(UefiVariableEventData v)
        {
            if (_pcr7Separated)
                _warnings.Add($"PCR 7: {v.Name} measured after the separator");
            if (!_pcr7Variables.Add(v.Name))
                _warnings.Add($"PCR 7: {v.Name} measured more than once");
            if (v.IsSignatureDatabase && v.Database is null)
                _warnings.Add($"PCR 7: {v.Name} holds malformed signature lists: {v.DatabaseError}");
            bool global = v.VendorGuid == EfiGuids.GlobalVariable;
            bool security = v.VendorGuid == EfiGuids.ImageSecurityDatabase;
            _secureBoot = (v.Name, global, security) switch
            {
                ("SecureBoot", true, _) => SecureBootFlag(v),
                ("PK", true, _) => _secureBoot with { Pk = v.Database },
                ("KEK", true, _) => _secureBoot with { Kek = v.Database },
                ("db", _, true) => _secureBoot with { Db = v.Database },
                ("dbx", _, true) => _secureBoot with { Dbx = v.Database },
                ("dbt", _, true) => _secureBoot with { Dbt = v.Database },
                _ => _secureBoot,
            };
        }

        private SecureBootState SecureBootFlag(UefiVariableEventData v)
        {
            if (v.ByteValue is not byte b)
            {
                _warnings.Add($"PCR 7: SecureBoot data length is {v.VariableData.Length}, expected 1");
                return _secureBoot with { Enabled = null };
            }

            if (b > 1)
                _warnings.Add($"PCR 7: SecureBoot value is {b}, expected 0 or 1");
            return _secureBoot with { Enabled = b == 1 ? true : b == 0 ? false : null };
        }

        private void Authority(TcgEvent ev, UefiVariableEventData v)
        {
            if (!_pcr7Separated)
                _warnings.Add($"PCR 7: authority {v.Name} measured before the separator");
            if (v.TrailingBytes > 0)
                _warnings.Add($"PCR 7: authority {v.Name} has {v.TrailingBytes} stray bytes after its data (old shim)");
            var authority = new BootAuthority(ev.Index, v.Name, v.VendorGuid, v.Authority, v.Authority is null ? v.TextValue : null);
            _authorities.Add(authority);
            if (v.Name == "SbatLevel" && v.VendorGuid == EfiGuids.ShimLock)
                _sbatLevel = v.TextValue;
            else if (authority.Entry is not null)
                _pendingAuthority = authority;
        }

        private BootApplication Image(TcgEvent ev, TpmAlgId bank, UefiImageLoadEventData image, bool withAuthority)
        {
            BootAuthority? authority = null;
            bool inherited = false;
            if (withAuthority)
            {
                if (_pendingAuthority is not null)
                {
                    authority = _pendingAuthority;
                    _lastAuthority = _pendingAuthority;
                    _pendingAuthority = null;
                }
                else if (_lastAuthority is not null)
                {
                    authority = _lastAuthority;
                    inherited = true;
                }
            }

            var digests = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var d in ev.Digests)
                digests[TpmHashAlgorithm.BankName(d.Algorithm) ?? $"0x{(ushort)d.Algorithm:X4}"] = Convert.ToHexString(d.Value.Span);
            return new BootApplication
            {
                EventIndex = ev.Index,
                Bank = bank,
                AuthenticodeDigest = Hex(ev, bank),
                Digests = digests,
                DevicePath = image.DevicePathText,
                Authority = authority,
                AuthorityInherited = inherited,
                BeforeBootOptionCall = withAuthority && !_callingBootOption,
            };
        }

        private static string Hex(TcgEvent ev, TpmAlgId bank) =>
            ev.TryGetDigest(bank, out var d) ? Convert.ToHexString(d.Span) : "";
    }
}
