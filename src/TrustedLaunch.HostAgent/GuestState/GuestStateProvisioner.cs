using System.Globalization;
using System.Text.Json;
using TrustedLaunch.Storage;
using TrustedLaunch.Uefi.VariableStore;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.VTpm.State;
using TrustedLaunch.Vmgs;
using TrustedLaunch.Vmgs.Format;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.HostAgent.GuestState;

/// <summary>The guest-state request cannot be fulfilled as asked (keys, template); the message says what.</summary>
public sealed class GuestStateRequestException : Exception
{
    public GuestStateRequestException() { }

    public GuestStateRequestException(string message) : base(message) { }

    public GuestStateRequestException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// Makes a new VM's guest state in one file, the one place it is made (<c>tl vmgs create</c> and the host agent both call
/// it): a Secure Boot variable store from a template, a freshly manufactured vTPM with platform-issued EK and AK
/// certificates, and the identity record. Everything is built in memory and the file appears atomically
/// (<see cref="VmgsFile.CreateWith"/>), so a failure never leaves a half-provisioned VMGS.
/// </summary>
public static partial class GuestStateProvisioner
{
    /// <summary>Writes the VMGS at <paramref name="path"/> (which must not exist); returns the vTPM's identity (null without one).</summary>
    /// <exception cref="GuestStateRequestException">The keys do not fit the template.</exception>
    /// <exception cref="IOException">The file exists or cannot be written.</exception>
    public static VTpmIdentity? Create(string path, VmgsKeyEncryptionKey kek, GuestStateRequest request, IPlatformCa? platformCa)
    {
        ArgumentNullException.ThrowIfNull(kek);
        ArgumentNullException.ThrowIfNull(request);
        if (File.Exists(path))
            throw new IOException($"{path} exists; guest state is never overwritten (delete it first if you mean to).");
        byte[] nvram = BuildVariableStore(request);
        byte[]? tpmState = null;
        VTpmIdentity? tpm = null;
        if (request.WithVTpm)
        {
            IPlatformCa ca = platformCa ?? throw new GuestStateRequestException("A vTPM needs the platform CA that certifies its EK and AK.");
            (tpmState, tpm) = Manufacture(ca, request.VmId);
        }

        VmgsFile.CreateWith(path, kek, file =>
        {
            file.WriteEntry(VmgsEntryId.UefiNvram, nvram);
            if (tpmState is not null)
                file.WriteEntry(VmgsEntryId.VTpmState, tpmState);
            file.WriteEntry(VmgsEntryId.VmIdentity, IdentityJson(request.VmId.ToString("D"), request.TemplateName, tpm));
        });
        return tpm;
    }

    /// <summary>
    /// Turns a Standard VM's guest state into a Trusted Launch one in place (the upgrade, docs/upgrade.md): a Secure Boot
    /// variable store from the request's template replaces the key-less one, a freshly manufactured vTPM is added, and the
    /// identity record names the template. A VMGS that holds a vTPM already (a VM rolled back to Standard, now rolled
    /// forward) is left as it is, so its vTPM identity comes back; null is returned then.
    /// </summary>
    /// <exception cref="GuestStateRequestException">The keys do not fit the template, or there is no platform CA.</exception>
    public static VTpmIdentity? UpgradeToTrustedLaunch(string path, VmgsKeyEncryptionKey kek, GuestStateRequest request, IPlatformCa platformCa)
    {
        ArgumentNullException.ThrowIfNull(kek);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(platformCa);
        using VmgsFile file = VmgsFile.Open(path, kek, writable: true);
        if (file.ReadEntry(VmgsEntryId.VTpmState) is not null)
            return null;
        byte[] nvram = BuildVariableStore(request);
        (byte[] tpmState, VTpmIdentity tpm) = Manufacture(platformCa, request.VmId);
        // Each entry replace is crash-consistent on its own; the vTPM goes last, so its presence marks a finished upgrade
        // and an upgrade cut short is made again from the start at the next start.
        file.WriteEntry(VmgsEntryId.UefiNvram, nvram);
        file.WriteEntry(VmgsEntryId.VmIdentity, IdentityJson(request.VmId.ToString("D"), request.TemplateName, tpm));
        file.WriteEntry(VmgsEntryId.VTpmState, tpmState);
        return tpm;
    }

    private static byte[] BuildVariableStore(GuestStateRequest request)
    {
        if (request.Template == SecureBootTemplate.Empty && (request.PlatformKey is not null || request.Kek.Count > 0 || request.Db.Count > 0))
            throw new GuestStateRequestException("The empty template takes no keys (Secure Boot off); use the custom or microsoft template.");
        if (request.Template == SecureBootTemplate.Custom && request.Db.Count == 0)
            throw new GuestStateRequestException("The custom template needs at least one db entry, or nothing would be allowed to boot.");
        ReadOnlyMemory<byte>? platformKey = request.PlatformKey;
        if (request.Template != SecureBootTemplate.Empty && platformKey is null)
        {
            // A per-VM PK whose private key is discarded: nobody can change this VM's keys by signed update.
            using var generated = PlatformKeyGenerator.Generate($"TrustedLaunch per-VM PK {Guid.NewGuid()}");
            platformKey = generated.RawData;
        }

        return SecureBootStoreFactory.Create(new SecureBootStoreOptions
        {
            Template = request.Template,
            Layout = request.Layout,
            PlatformKey = request.Template == SecureBootTemplate.Empty ? null : platformKey,
            Kek = request.Kek,
            Db = request.Db,
            Dbx = request.Dbx,
            Owner = SecureBootStoreOptions.TrustedLaunchOwner,
        }).ToArray();
    }

    // libtpms is one per process (LibTpmsEngine refuses a second owner), and a host makes the guest state of several VMs
    // at once (a scale set's instances): their vTPMs are manufactured one after another.
    private static readonly Lock LibtpmsGate = new();

    private static (byte[] State, VTpmIdentity Identity) Manufacture(IPlatformCa platformCa, Guid vmId)
    {
        lock (LibtpmsGate)
            return ManufactureAlone(platformCa, vmId);
    }

    private static (byte[] State, VTpmIdentity Identity) ManufactureAlone(IPlatformCa platformCa, Guid vmId)
    {
        var memory = new EphemeralNonVolatileStore();
        VTpmIdentity identity = VTpmManufacturer.Manufacture(new VTpmStateStore(memory, "new VMGS vtpm entry"), platformCa, new VTpmManufactureOptions { VmId = vmId });
        byte[] state = memory.Restore() ?? throw new InvalidOperationException("The vTPM manufacturer persisted no state.");
        return (state, identity);
    }

    private static byte[] IdentityJson(string vmId, string template, VTpmIdentity? tpm)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("vmId", vmId);
            json.WriteString("createdUtc", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            json.WriteString("secureBootTemplate", template);
            if (tpm is not null)
            {
                json.WriteString("libtpms", tpm.LibtpmsVersion);
                json.WriteStartArray("vtpmCertificates");
                foreach (VTpmKeyIdentity key in tpm.Keys)
                {
                    json.WriteStartObject();
                    json.WriteString("role", key.Role);
                    json.WriteString("subject", key.CertificateSubject);
                    json.WriteString("serial", key.CertificateSerial);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
