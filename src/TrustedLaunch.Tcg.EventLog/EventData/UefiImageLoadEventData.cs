using TrustedLaunch.Uefi.Format;

namespace TrustedLaunch.Tcg.EventLog;

/// <summary>
/// <c>UEFI_IMAGE_LOAD_EVENT</c> (PFP 1.06 §10.4.3) of EV_EFI_BOOT_SERVICES_APPLICATION/_DRIVER and RUNTIME_SERVICES_DRIVER.
/// The digest is the image's Authenticode hash; the addresses change from boot to boot. An empty device path means
/// the image was loaded from a memory buffer (grub's LoadImage of the kernel).
/// </summary>
public sealed record UefiImageLoadEventData(ulong ImageLocationInMemory, ulong ImageLengthInMemory, ulong ImageLinkTimeAddress, ReadOnlyMemory<byte> DevicePath)
    : TcgEventData
{
    /// <summary>The device path as edk2 prints it; null when empty; the raw-hex fallback when malformed.</summary>
    public string? DevicePathText => DevicePath.IsEmpty ? null :
        EfiDevicePathText.TryToText(DevicePath.Span, out string? text, out _, out _) ? text : $"(malformed device path {Convert.ToHexString(DevicePath.Span)})";

    public override string Describe() =>
        (DevicePathText ?? "(loaded from memory)") + $" @0x{ImageLocationInMemory:X} len 0x{ImageLengthInMemory:X}";
}

/// <summary>One non-empty GPT partition entry (UEFI 2.10 §5.3.3).</summary>
public sealed record GptPartition(Guid TypeGuid, Guid UniqueGuid, ulong StartingLba, ulong EndingLba, ulong Attributes, string Name);

/// <summary><c>UEFI_GPT_DATA</c> (PFP 1.06 §10.4.3): the boot disk's GPT header and its non-empty partition entries.</summary>
public sealed record UefiGptEventData(Guid DiskGuid, IReadOnlyList<GptPartition> Partitions) : TcgEventData
{
    public override string Describe() =>
        $"disk {DiskGuid}: " + string.Join(", ", Partitions.Select(p => $"{(p.Name.Length > 0 ? p.Name : "?")} [{p.StartingLba}..{p.EndingLba}]"));
}
