using TrustedLaunch.ControlPlane.Model;

namespace TrustedLaunch.ControlPlane.Catalogs;

/// <summary>
/// The firmware's decision on a disk's default boot loader (<c>\EFI\BOOT\BOOTX64.EFI</c>) with a VM's Secure Boot keys,
/// as <c>tl secureboot verify</c> makes it. Implemented by the host that has the disk and Secure Boot libraries.
/// </summary>
public interface IBootChainVerifier
{
    /// <param name="diskPath">A disk image (raw or qcow2); null judges the keys only (the image is no longer registered).</param>
    /// <param name="secureBootTemplate">microsoft, microsoft-2023, microsoft-2011 or custom.</param>
    /// <param name="keys">The VM's own keys beyond the template's (custom: all of db).</param>
    Task<BootChainVerdict> VerifyAsync(string? diskPath, string secureBootTemplate, SecureBootKeys? keys, CancellationToken cancellationToken);
}

/// <summary>
/// <see cref="Allowed"/>: the firmware would run <see cref="Binary"/>; false: it would refuse it, or (<see cref="Binary"/>
/// null) the keys themselves could not be enrolled; null: there was nothing to judge (the disk, its EFI System Partition
/// or its boot loader could not be read). <see cref="Detail"/> says why.
/// </summary>
public sealed record BootChainVerdict(bool? Allowed, string? Binary, string Detail);
