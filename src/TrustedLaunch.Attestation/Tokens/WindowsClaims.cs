using System.Text.Json;
using TrustedLaunch.Tcg.EventLog;

namespace TrustedLaunch.Attestation;

/// <summary>
/// The <c>azurevm</c> Windows claims, from the SIPA records Windows' boot manager and loader measured into PCRs 12-14
/// (replayed and quoted, so covered by the AK's signature). A claim whose input was not measured is left out rather
/// than given a reassuring value; flight signing and the Credential Guard (LSA isolation) records are not decoded,
/// so <c>x-ms-azurevm-flightsigning-enabled</c> and <c>x-ms-azurevm-signingdisabled</c> are never issued.
/// </summary>
internal static class WindowsClaims
{
    public static void Write(Utf8JsonWriter w, WindowsBootState windows, bool firmwareDebugMode)
    {
        w.WriteBoolean(AttestationClaims.IsWindows, true);
        w.WriteString(AttestationClaims.OsType, "Windows");
        if (windows.HypervisorDebugging is bool hypervisorDebug)
            w.WriteBoolean(AttestationClaims.HypervisorDebugEnabled, hypervisorDebug);
        if (windows.TestSigning is bool testSigning)
            w.WriteBoolean(AttestationClaims.TestSigningEnabled, testSigning);
        // A hypervisor that was not launched cannot be debugged; boot and kernel debugging must have been measured.
        if (windows.BootDebugging is bool boot && windows.KernelDebugging is bool kernel)
            w.WriteBoolean(AttestationClaims.DebuggersDisabled, !boot && !kernel && windows.HypervisorDebugging != true && !firmwareDebugMode);
        w.WriteBoolean(AttestationClaims.ElamEnabled, windows.ElamDrivers.Count > 0);
        w.WriteNumber(AttestationClaims.HvciPolicy, windows.HvciPolicy ?? 0);

        w.WriteStartObject(AttestationClaims.Windows);
        w.WriteBoolean("vbsConfigured", windows.VbsConfigured);
        w.WriteBoolean("hvciConfigured", windows.HvciConfigured);
        WriteOptional(w, "vsmLaunchType", windows.VsmLaunchType);
        WriteOptional(w, "hypervisorLaunchType", windows.HypervisorLaunchType);
        WriteOptional(w, "vbsSecureBootRequired", windows.VbsSecureBootRequired);
        WriteOptional(w, "vbsIommuRequired", windows.VbsIommuRequired);
        WriteOptional(w, "codeIntegrity", windows.CodeIntegrity);
        WriteOptional(w, "dataExecutionPrevention", windows.DataExecutionPrevention);
        WriteOptional(w, "safeMode", windows.SafeMode);
        WriteOptional(w, "winPe", windows.WinPe);
        WriteOptional(w, "bootCount", windows.BootCount);
        w.WriteStartArray("bitLockerUnlocks");
        foreach (uint unlock in windows.BitLockerUnlocks)
            w.WriteNumberValue(unlock);
        w.WriteEndArray();
        w.WriteStartArray("elamDrivers");
        foreach (ElamDriver driver in windows.ElamDrivers)
            w.WriteStringValue(driver.KeyName);
        w.WriteEndArray();
        w.WriteNumber("loadedModules", windows.LoadedModules.Count);
        w.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, bool? value)
    {
        if (value is bool b)
            w.WriteBoolean(name, b);
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, ulong? value)
    {
        if (value is ulong n)
            w.WriteNumber(name, n);
    }
}
