using System.Globalization;
using TrustedLaunch.ControlPlane.Hosts;
using TrustedLaunch.ControlPlane.Model;
using TrustedLaunch.HostAgent.GuestState;
using TrustedLaunch.HostAgent.Lifecycle;
using TrustedLaunch.HostSystem;
using TrustedLaunch.HostSystem.Processes;
using TrustedLaunch.Uefi.VariableStore;
using TrustedLaunch.VTpm.Identity;
using TrustedLaunch.Vmgs.Keys;

namespace TrustedLaunch.HostAgent.Vms;

/// <summary>A VM's files could not be made; <see cref="Code"/> is what the host reports (the operation fails with it).</summary>
public sealed class VmProvisioningException : Exception
{
    public VmProvisioningException() : this("VmProvisioningFailed", "The VM's files could not be made.") { }

    public VmProvisioningException(string message) : this("VmProvisioningFailed", message) { }

    public VmProvisioningException(string message, Exception innerException) : this("VmProvisioningFailed", message, innerException) { }

    public VmProvisioningException(string code, string message, Exception? innerException = null) : base(message, innerException) => Code = code;

    public string Code { get; }
}

/// <summary>
/// Makes a new VM's folder from its assignment, atomically (<see cref="VmFolder.Create"/>): the OS disk, a qcow2 overlay on
/// the registered image (the image stays pristine and shared), and for a Generation 2 VM its VMGS
/// (<see cref="GuestStateProvisioner"/>): the Secure Boot keys of the extension object, a freshly manufactured vTPM
/// certified by the platform CA (Trusted Launch), the VM id; unwrapped by the host's key.
/// </summary>
internal static class VmProvisioner
{
    /// <summary>Creates the folder; returns the vTPM's identity keys (empty without a vTPM).</summary>
    /// <exception cref="VmProvisioningException">The image is gone, qemu-img failed, or the guest state could not be made.</exception>
    public static IReadOnlyList<VTpmKeyReport> Create(VmFolder folder, VmRuntimeSpec spec, string hostKeyPath, Func<IPlatformCa> platformCa)
    {
        if (spec.ImagePath is not string image || !File.Exists(image))
            throw new VmProvisioningException("ImageNotAvailable", $"The image {spec.ImageUrn} has no disk file on this host ({spec.ImagePath ?? "removed from the catalog"}).");
        VTpmIdentity? identity = null;
        folder.Create(staging =>
        {
            CreateDisk(Path.Combine(staging, VmFolder.DiskName), image, spec.OsDiskSizeGB);
            if (spec.HyperVGeneration == "V2")
                identity = CreateGuestState(Path.Combine(staging, VmFolder.VmgsName), folder.VmId, spec, hostKeyPath, platformCa);
        });
        return Keys(identity);
    }

    /// <summary>
    /// A new VM whose OS disk is attached from a snapshot on this host (<see cref="VmSnapshots.CreateVm"/>): the snapshot's disk,
    /// its UEFI variables, and a vTPM freshly manufactured for this VM (new EK and AK certificates). A snapshot whose VMGS does not
    /// open is refused with Azure's "vTPM state is locked" and nothing is made.
    /// </summary>
    public static IReadOnlyList<VTpmKeyReport> CreateFromSnapshot(VmFolder folder, string vmName, Guid snapshotId, string snapshotsDirectory,
        string hostKeyPath, Func<IPlatformCa> platformCa)
    {
        string snapshot = VmSnapshots.Folder(snapshotsDirectory, snapshotId);
        if (!Directory.Exists(snapshot))
            throw new VmProvisioningException("SnapshotNotAvailable", $"The snapshot {snapshotId} has no files on this host ({snapshot}).");
        try
        {
            return Keys(VmSnapshots.CreateVm(snapshot, folder, hostKeyPath, platformCa));
        }
        catch (VmLifecycleException e) when (e.Code == VmLifecycleException.VTpmStateLocked)
        {
            throw new VmProvisioningException(e.Code,
                $"Virtual machine {vmName} failed to create from the selected snapshot because the virtual Trusted Platform Module (vTPM) state is locked. " +
                $"To proceed with the VM creation, please select a different snapshot without a locked vTPM state. ({e.Message}) " +
                "No disk, VMGS or vTPM was made for the VM, and the snapshot was left as it was.", e);
        }
        catch (VmLifecycleException e)
        {
            throw new VmProvisioningException(e.Code, e.Message, e);
        }
        catch (Exception e) when (e is PlatformCaException or VariableStoreException or FormatException or IOException
            or TrustedLaunch.Vmgs.Format.VmgsException or TrustedLaunch.VTpm.Engine.LibTpmsException or DllNotFoundException)
        {
            throw new VmProvisioningException("GuestStateCreationFailed", $"The VM guest state could not be made from snapshot {snapshotId}: {e.Message}", e);
        }
    }

    /// <summary>
    /// A new VM whose OS disk is a detached disk on this host (<see cref="VmRuntimeSpec.AttachDetachedDisk"/>): its guest state is
    /// taken over for this VM (the same vTPM and EK, the AK certified again for this VM's id), then the disk's folder becomes the
    /// VM's by one rename (no copy). A failure leaves the disk's folder where it was.
    /// </summary>
    public static IReadOnlyList<VTpmKeyReport> AttachDetached(VmFolder folder, VmRuntimeSpec spec, string detachedDirectory, string hostKeyPath,
        Func<IPlatformCa> platformCa)
    {
        Guid diskId = spec.OsDiskId ?? throw new VmProvisioningException("DiskNotAvailable", $"The assignment names no disk id for OS disk {spec.OsDiskName}.");
        string source = VmFolder.DetachedFolder(detachedDirectory, spec.OsDiskName, diskId);
        if (!File.Exists(Path.Combine(source, VmFolder.DiskName)))
            throw new VmProvisioningException("DiskNotAvailable", $"The disk {spec.OsDiskName} has no files on this host ({source}).");
        VTpmIdentity? identity = null;
        string vmgs = Path.Combine(source, VmFolder.VmgsName);
        if (File.Exists(vmgs))
        {
            try
            {
                using VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Load(hostKeyPath);
                identity = GuestStateProvisioner.TakeOver(vmgs, kek, folder.VmId, spec.SecurityType == "TrustedLaunch" ? platformCa() : null);
            }
            catch (Exception e) when (e is GuestStateRequestException or PlatformCaException or FormatException or IOException or InvalidOperationException
                or TrustedLaunch.Vmgs.Format.VmgsException or TrustedLaunch.VTpm.Engine.LibTpmsException or TrustedLaunch.VTpm.State.VTpmStateException
                or TrustedLaunch.Tpm.Protocol.TpmResponseException or DllNotFoundException)
            {
                throw new VmProvisioningException("GuestStateAttachFailed",
                    $"The guest state of disk {spec.OsDiskName} could not be taken over for this VM: {e.Message}. The disk was left as it was.", e);
            }
        }

        folder.Adopt(source);
        return Keys(identity);
    }

    /// <summary>
    /// The upgrade of an existing Generation 2 VM to Trusted Launch (docs/upgrade.md), at the start after it: its VMGS gets
    /// the Secure Boot keys of its extension object and a freshly manufactured vTPM. Returns the new vTPM's keys; empty when
    /// the VMGS has a vTPM already (Trusted Launch from creation, or rolled back and forward again: the same identity).
    /// </summary>
    /// <exception cref="VmProvisioningException">The guest state could not be upgraded; the VM stays as it was.</exception>
    public static IReadOnlyList<VTpmKeyReport> UpgradeToTrustedLaunch(VmFolder folder, VmRuntimeSpec spec, string hostKeyPath, Func<IPlatformCa> platformCa)
    {
        try
        {
            using VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Load(hostKeyPath);
            return Keys(GuestStateProvisioner.UpgradeToTrustedLaunch(folder.Vmgs, kek, Request(folder.VmId, spec.Extensions, trustedLaunch: true), platformCa()));
        }
        catch (Exception e) when (e is GuestStateRequestException or PlatformCaException or VariableStoreException or FormatException or IOException
            or TrustedLaunch.Vmgs.Format.VmgsException or TrustedLaunch.Storage.SealingKeyException or TrustedLaunch.VTpm.Engine.LibTpmsException or DllNotFoundException)
        {
            throw new VmProvisioningException("GuestStateUpgradeFailed", $"The VM guest state could not be upgraded to Trusted Launch: {e.Message}", e);
        }
    }

    private static IReadOnlyList<VTpmKeyReport> Keys(VTpmIdentity? identity) => identity is null ? [] : [.. identity.Keys.Select(k => new VTpmKeyReport
    {
        Role = k.Role,
        Algorithm = k.Algorithm,
        PersistentHandle = k.PersistentHandle,
        CertificateIndex = k.CertificateIndex,
        PublicKeyPem = k.PublicKeyPem,
        CertificatePem = k.CertificatePem,
    })];

    private static void CreateDisk(string disk, string image, int? sizeGB)
    {
        string format = DiskImageFormats.Detect(image).QemuName();
        var arguments = new List<string> { "create", "-q", "-f", "qcow2", "-b", image, "-F", format, disk };
        if (sizeGB is int gb && (long)gb * 1024 * 1024 * 1024 > new FileInfo(image).Length)
            arguments.Add(string.Create(CultureInfo.InvariantCulture, $"{gb}G"));
        ProcessResult result;
        try
        {
            result = ExternalProcess.Run("qemu-img", arguments, new ProcessRunOptions { Timeout = TimeSpan.FromMinutes(2) });
        }
        catch (Exception e) when (e is ProgramStartException or TimeoutException)
        {
            throw new VmProvisioningException("OSDiskCreationFailed", $"qemu-img (qemu-utils) could not make the OS disk: {e.Message}", e);
        }

        if (result.ExitCode != 0)
            throw new VmProvisioningException("OSDiskCreationFailed", $"qemu-img create {disk}: {result.StandardError.Trim()}");
    }

    private static VTpmIdentity? CreateGuestState(string path, Guid vmId, VmRuntimeSpec spec, string hostKeyPath, Func<IPlatformCa> platformCa)
    {
        bool trustedLaunch = spec.SecurityType == "TrustedLaunch";
        try
        {
            using VmgsKeyEncryptionKey kek = VmgsKeyEncryptionKey.Load(hostKeyPath);
            return GuestStateProvisioner.Create(path, kek, Request(vmId, spec.Extensions, trustedLaunch), trustedLaunch ? platformCa() : null);
        }
        catch (Exception e) when (e is GuestStateRequestException or PlatformCaException or VariableStoreException or FormatException or IOException
            or TrustedLaunch.VTpm.Engine.LibTpmsException or DllNotFoundException)
        {
            throw new VmProvisioningException("GuestStateCreationFailed", $"The VM guest state could not be made: {e.Message}", e);
        }
    }

    /// <summary>The guest state a VM's extension object asks for: its template and keys for Trusted Launch, an empty store without a vTPM for Standard.</summary>
    internal static GuestStateRequest Request(Guid vmId, TrustedLaunchExtensions extensions, bool trustedLaunch)
    {
        if (!trustedLaunch)
            return new GuestStateRequest { VmId = vmId, Template = SecureBootTemplate.Empty, WithVTpm = false };
        Guid owner = SecureBootStoreOptions.TrustedLaunchOwner;
        SecureBootKeys keys = extensions.SecureBootKeys ?? new SecureBootKeys();
        return new GuestStateRequest
        {
            VmId = vmId,
            // The control plane accepted only SecureBootTemplates.Names; an absent template is Azure's default, Microsoft's keys.
            Template = SecureBootTemplates.TryParse(extensions.SecureBootTemplate, out SecureBootTemplate template) ? template : SecureBootTemplate.Microsoft,
            // Typed nullable on purpose: a bare null would convert to an empty ReadOnlyMemory (through its implicit T[] operator), not to "no key".
            PlatformKey = keys.PlatformKey is string pk ? Convert.FromBase64String(pk) : (ReadOnlyMemory<byte>?)null,
            Kek = [.. (keys.Kek ?? []).Select(k => SignatureDatabaseEntry.FromCertificate(Convert.FromBase64String(k), owner))],
            Db = [.. (keys.Db ?? []).Select(k => SignatureDatabaseEntry.FromCertificate(Convert.FromBase64String(k), owner))],
            Dbx = [.. (keys.Dbx ?? []).Select(k => k.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase)
                ? SignatureDatabaseEntry.FromHash(k, owner)
                : SignatureDatabaseEntry.FromCertificate(Convert.FromBase64String(k), owner))],
            WithVTpm = true,
        };
    }
}
