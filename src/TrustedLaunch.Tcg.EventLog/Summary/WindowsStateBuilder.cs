namespace TrustedLaunch.Tcg.EventLog;

/// <summary>Folds SIPA records from replayed PCR12–14 events into a <see cref="WindowsBootState"/>.</summary>
internal sealed class WindowsStateBuilder
{
    private readonly List<uint> _bitLocker = [];
    private readonly List<uint> _transfers = [];
    private readonly List<ElamDriver> _elam = [];
    private readonly List<WindowsLoadedModule> _modules = [];
    private WindowsBootState _state = new() { BitLockerUnlocks = [], TransferControls = [], ElamDrivers = [], LoadedModules = [] };
    private bool _any;

    public void Add(IReadOnlyList<SipaRecord> records, uint pcr)
    {
        foreach (var top in records)
        {
            foreach (var r in top.Descendants())
            {
                _any = true;
                Apply(r, pcr);
            }
        }
    }

    private void Apply(SipaRecord r, uint pcr)
    {
        bool? flag = r.IntegerValue is ulong v ? v != 0 : null;
        switch (r.Type)
        {
            case SipaNames.BootCounter:
                _state = _state with { BootCount = r.IntegerValue };
                break;
            case SipaNames.BootDebugging:
                _state = _state with { BootDebugging = LatchOn(_state.BootDebugging, flag) };
                break;
            case SipaNames.OsKernelDebug:
                _state = _state with { KernelDebugging = LatchOn(_state.KernelDebugging, flag) };
                break;
            case SipaNames.TestSigning:
                _state = _state with { TestSigning = LatchOn(_state.TestSigning, flag) };
                break;
            case SipaNames.HypervisorDebug:
                _state = _state with { HypervisorDebugging = LatchOn(_state.HypervisorDebugging, flag) };
                break;
            case SipaNames.CodeIntegrity:
                _state = _state with { CodeIntegrity = LatchOff(_state.CodeIntegrity, flag) };
                break;
            case SipaNames.DataExecutionPrevention:
                _state = _state with { DataExecutionPrevention = LatchOff(_state.DataExecutionPrevention, flag) };
                break;
            case SipaNames.SafeMode:
                _state = _state with { SafeMode = LatchOn(_state.SafeMode, flag) };
                break;
            case SipaNames.WinPe:
                _state = _state with { WinPe = LatchOn(_state.WinPe, flag) };
                break;
            case SipaNames.HypervisorLaunchType:
                _state = _state with { HypervisorLaunchType = r.IntegerValue };
                break;
            case SipaNames.VsmLaunchType:
                _state = _state with { VsmLaunchType = r.IntegerValue };
                break;
            case SipaNames.VbsVsmRequired:
                _state = _state with { VbsVsmRequired = flag };
                break;
            case SipaNames.VbsSecureBootRequired:
                _state = _state with { VbsSecureBootRequired = flag };
                break;
            case SipaNames.VbsIommuRequired:
                _state = _state with { VbsIommuRequired = flag };
                break;
            case SipaNames.VbsHvciPolicy:
                _state = _state with { HvciPolicy = r.IntegerValue };
                break;
            case SipaNames.BitLockerUnlock when pcr != 13:
                // Windows logs each BitLocker unlock in PCR12 and again in PCR13 (go-attestation win_events.go).
                _bitLocker.Add((uint)(r.IntegerValue ?? 0));
                break;
            case SipaNames.TransferControl:
                _transfers.Add((uint)(r.IntegerValue ?? 0));
                break;
            case SipaNames.LoadedModuleAggregation:
                // A module can be logged more than once (PCR12 and PCR13, with and without its path); keep one entry per
                // Authenticode hash and fill in what each record adds, as go-attestation's map keyed by hash does.
                var module = WindowsLoadedModule.From(r);
                int existing = _modules.FindIndex(m => m.AuthenticodeHash is not null && m.AuthenticodeHash == module.AuthenticodeHash);
                if (existing < 0)
                    _modules.Add(module);
                else
                    _modules[existing] = _modules[existing].Merge(module);
                break;
            case SipaNames.ElamAggregation:
                string? key = r.Children?.FirstOrDefault(c => c.Type == SipaNames.ElamKeyName)?.Utf16Value;
                var measured = r.Children?.FirstOrDefault(c => c.Type == SipaNames.ElamMeasured);
                if (key is not null)
                    _elam.Add(new ElamDriver(key, measured is null ? null : Convert.ToHexString(measured.Data.Span)));
                break;
            default:
                break;
        }
    }

    private static bool? LatchOn(bool? current, bool? value) => current == true || value == true ? true : value ?? current;

    private static bool? LatchOff(bool? current, bool? value) => current == false || value == false ? false : value ?? current;

    public WindowsBootState? Build() => !_any ? null : _state with
    {
        BitLockerUnlocks = _bitLocker,
        TransferControls = _transfers,
        ElamDrivers = _elam,
        LoadedModules = _modules,
    };
}
