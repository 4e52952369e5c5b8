using System.Text;
using System.Text.Json;

namespace TrustedLaunch.Interop.Firmware;

/// <summary>
/// A QEMU firmware descriptor (<c>docs/interop/firmware.json</c> in QEMU; read by libvirt's <c>src/qemu/qemu_firmware.c</c>
/// from <c>/usr/share/qemu/firmware</c>, <c>/etc/qemu/firmware</c> and <c>$XDG_CONFIG_HOME/qemu/firmware</c>, lowest
/// file name first) for a split-flash OVMF: the code image and the variable-store template a VM's NVRAM is copied from.
/// </summary>
public sealed record FirmwareDescriptor
{
    /// <summary>QEMU's feature names, the ones that apply to an x86_64 OVMF.</summary>
    public static readonly IReadOnlyList<string> KnownFeatures =
        ["acpi-s3", "acpi-s4", "amd-sev", "amd-sev-es", "enrolled-keys", "requires-smm", "secure-boot", "verbose-dynamic", "verbose-static"];

    public required string Description { get; init; }
    public required string Executable { get; init; }
    public required string NvramTemplate { get; init; }
    public string Format { get; init; } = "raw";
    public IReadOnlyList<string> Machines { get; init; } = ["pc-q35-*"];
    public required IReadOnlyList<string> Features { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The Trusted Launch descriptor: SMM-protected Secure Boot OVMF with the platform's keys enrolled in the template.</summary>
    public static FirmwareDescriptor TrustedLaunch(string executable, string nvramTemplate, bool enrolledKeys) => new()
    {
        Description = enrolledKeys
            ? "TrustedLaunch: UEFI for x86_64 with Secure Boot and SMM, platform keys enrolled"
            : "TrustedLaunch: UEFI for x86_64 with Secure Boot and SMM, empty key store",
        Executable = executable,
        NvramTemplate = nvramTemplate,
        Features = enrolledKeys
            ? ["acpi-s3", "enrolled-keys", "requires-smm", "secure-boot", "verbose-dynamic"]
            : ["acpi-s3", "requires-smm", "secure-boot", "verbose-dynamic"],
        Tags = ["trustedlaunch"],
    };

    /// <exception cref="ArgumentException">A feature is not one of QEMU's names.</exception>
    public string ToJson()
    {
        foreach (string feature in Features)
        {
            if (!KnownFeatures.Contains(feature, StringComparer.Ordinal))
                throw new ArgumentException($"'{feature}' is not a QEMU firmware feature ({string.Join(", ", KnownFeatures)})", nameof(Features));
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("description", Description);
            json.WriteStartArray("interface-types");
            json.WriteStringValue("uefi");
            json.WriteEndArray();
            json.WriteStartObject("mapping");
            json.WriteString("device", "flash");
            WriteFile(json, "executable", Executable);
            WriteFile(json, "nvram-template", NvramTemplate);
            json.WriteEndObject();
            json.WriteStartArray("targets");
            json.WriteStartObject();
            json.WriteString("architecture", "x86_64");
            json.WriteStartArray("machines");
            foreach (string machine in Machines)
                json.WriteStringValue(machine);
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteStartArray("features");
            foreach (string feature in Features.Order(StringComparer.Ordinal))
                json.WriteStringValue(feature);
            json.WriteEndArray();
            json.WriteStartArray("tags");
            foreach (string tag in Tags)
                json.WriteStringValue(tag);
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private void WriteFile(Utf8JsonWriter json, string name, string path)
    {
        json.WriteStartObject(name);
        json.WriteString("filename", path);
        json.WriteString("format", Format);
        json.WriteEndObject();
    }
}
