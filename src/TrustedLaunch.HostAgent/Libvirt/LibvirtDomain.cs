using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace TrustedLaunch.HostAgent.Libvirt;

/// <summary>A libvirt domain's XML could not be used to attest it; the message says what is missing and what to add.</summary>
public sealed class LibvirtDomainException : Exception
{
    public LibvirtDomainException() { }

    public LibvirtDomainException(string message) : base(message) { }

    public LibvirtDomainException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>
/// What the host agent needs of a libvirt domain to attest it, read from <c>virsh dumpxml</c>: its name and UUID (the VM id; the
/// subject of its vTPM's certificates when our <c>swtpm_setup</c> made them), size, Secure Boot, and the Unix socket of the
/// guest agent's virtio-serial channel, a <c>&lt;channel type='unix'&gt;</c> whose target name is <see cref="AgentChannelName"/>.
/// </summary>
public sealed record LibvirtDomain(string Name, Guid Uuid, int VCpus, int MemoryMiB, bool SecureBoot, bool HasTpm, string AgentSocket)
{
    /// <summary>The guest channel's port name (docs/guest-channel.md).</summary>
    public const string AgentChannelName = "org.trustedlaunch.agent.0";

    public const string ChannelXml =
        "<channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/channel/target/NAME.agent.sock'/><target type='virtio' name='" + AgentChannelName + "'/></channel>";

    /// <exception cref="LibvirtDomainException">Not a domain, or no vTPM, or no guest agent channel.</exception>
    public static LibvirtDomain Parse(string xml)
    {
        ArgumentNullException.ThrowIfNull(xml);
        XElement domain;
        try
        {
            using var reader = XmlReader.Create(new StringReader(xml), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            domain = XDocument.Load(reader).Root ?? throw new LibvirtDomainException("The domain XML is empty.");
        }
        catch (XmlException e)
        {
            throw new LibvirtDomainException($"The domain XML does not parse: {e.Message}", e);
        }

        if (domain.Name.LocalName != "domain")
            throw new LibvirtDomainException($"The XML is a <{domain.Name.LocalName}>, not a libvirt <domain>.");
        string name = domain.Element("name")?.Value ?? throw new LibvirtDomainException("The domain XML has no <name>.");
        if (!Guid.TryParse(domain.Element("uuid")?.Value, out Guid uuid))
            throw new LibvirtDomainException($"Domain '{name}' has no <uuid>.");
        XElement? devices = domain.Element("devices");
        bool tpm = devices?.Elements("tpm").Any(t => t.Element("backend")?.Attribute("version")?.Value is null or "2.0") == true;
        XElement? channel = devices?.Elements("channel").FirstOrDefault(c =>
            c.Element("target")?.Attribute("name")?.Value == AgentChannelName);
        if (channel is null)
        {
            throw new LibvirtDomainException($"Domain '{name}' has no guest agent channel: add {ChannelXml} to its <devices> " +
                "(virsh edit; the guest's tl-guest-agent answers on that port).");
        }

        string? socket = channel.Attribute("type")?.Value == "unix" ? channel.Element("source")?.Attribute("path")?.Value : null;
        if (string.IsNullOrEmpty(socket))
            throw new LibvirtDomainException($"Domain '{name}': the channel '{AgentChannelName}' must be <channel type='unix'> with <source path='…'/>, as in {ChannelXml}.");
        XElement? os = domain.Element("os");
        bool secureBoot = os?.Element("loader")?.Attribute("secure")?.Value == "yes"
            || os?.Element("firmware")?.Elements("feature").Any(f => f.Attribute("name")?.Value == "secure-boot" && f.Attribute("enabled")?.Value == "yes") == true;
        return new LibvirtDomain(name, uuid, Count(domain.Element("vcpu")?.Value, 1), MebibytesOf(domain.Element("memory")), secureBoot, tpm, socket);
    }

    private static int Count(string? value, int fallback) =>
        int.TryParse(value?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : fallback;

    // libvirt's <memory unit='KiB'> (its default unit); the others as libvirt's domain format defines them.
    private static int MebibytesOf(XElement? memory)
    {
        if (memory is null || !long.TryParse(memory.Value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long amount))
            return 1;
        long bytes = (memory.Attribute("unit")?.Value ?? "KiB") switch
        {
            "b" or "bytes" => amount,
            "KB" => amount * 1000,
            "k" or "KiB" => amount * 1024,
            "MB" => amount * 1000 * 1000,
            "M" or "MiB" => amount * 1024 * 1024,
            "GB" => amount * 1000 * 1000 * 1000,
            "G" or "GiB" => amount * 1024 * 1024 * 1024,
            _ => amount * 1024,
        };
        return (int)Math.Clamp(bytes / (1024 * 1024), 1, int.MaxValue);
    }
}
