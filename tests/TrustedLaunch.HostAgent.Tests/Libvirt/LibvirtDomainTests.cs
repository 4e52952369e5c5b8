using TrustedLaunch.HostAgent.Libvirt;

namespace TrustedLaunch.HostAgent.Tests.Libvirt;

/// <summary><c>virsh dumpxml</c> as the host agent reads it for <c>tl host --libvirt-domain</c>: the domain's identity, size, Secure Boot and agent channel.</summary>
public sealed class LibvirtDomainTests
{
    // The shape of what Debian's libvirt 9 answers for the interop proof's running domain (docs/interop.md §3), trimmed.
    private const string Running = """
        <domain type='qemu' id='1'>
          <name>tl-interop-proof</name>
          <uuid>8f3c2a0e-5d1b-4c6e-9a7f-0b1c2d3e4f50</uuid>
          <memory unit='KiB'>1048576</memory>
          <vcpu placement='static'>2</vcpu>
          <os firmware='efi'>
            <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
            <firmware><feature enabled='yes' name='enrolled-keys'/><feature enabled='yes' name='secure-boot'/></firmware>
            <loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.secboot.fd</loader>
          </os>
          <devices>
            <channel type='unix'>
              <source mode='bind' path='/tmp/tlp-x/agent.sock'/>
              <target type='virtio' name='org.trustedlaunch.agent.0' state='connected'/>
              <alias name='channel0'/>
            </channel>
            <tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>
          </devices>
        </domain>
        """;

    [Fact]
    public void Parse_RunningDomain_IdentitySizeSecureBootTpmAndTheAgentSocket()
    {
        LibvirtDomain domain = LibvirtDomain.Parse(Running);

        Assert.Equal("tl-interop-proof", domain.Name);
        Assert.Equal(Guid.Parse("8f3c2a0e-5d1b-4c6e-9a7f-0b1c2d3e4f50"), domain.Uuid);
        Assert.Equal(2, domain.VCpus);
        Assert.Equal(1024, domain.MemoryMiB);
        Assert.True(domain.SecureBoot);
        Assert.True(domain.HasTpm);
        Assert.Equal("/tmp/tlp-x/agent.sock", domain.AgentSocket);
    }

    [Fact]
    public void Parse_NoAgentChannel_RefusedNamingTheXmlToAdd()
    {
        string xml = Running.Replace("org.trustedlaunch.agent.0", "org.qemu.guest_agent.0", StringComparison.Ordinal);

        LibvirtDomainException refused = Assert.Throws<LibvirtDomainException>(() => LibvirtDomain.Parse(xml));

        Assert.Contains("no guest agent channel", refused.Message, StringComparison.Ordinal);
        Assert.Contains("<channel type='unix'>", refused.Message, StringComparison.Ordinal);
        Assert.Contains("org.trustedlaunch.agent.0", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ChannelThatIsNotAUnixSocket_NoUuid_NotADomain_AndAnXmlBomb_AreRefused()
    {
        string pty = Running.Replace("<channel type='unix'>", "<channel type='pty'>", StringComparison.Ordinal);
        string noUuid = Running.Replace("<uuid>8f3c2a0e-5d1b-4c6e-9a7f-0b1c2d3e4f50</uuid>", "", StringComparison.Ordinal);
        const string bomb = "<!DOCTYPE d [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;'>]><domain><name>&b;</name></domain>";

        Assert.Contains("must be <channel type='unix'>", Assert.Throws<LibvirtDomainException>(() => LibvirtDomain.Parse(pty)).Message, StringComparison.Ordinal);
        Assert.Contains("no <uuid>", Assert.Throws<LibvirtDomainException>(() => LibvirtDomain.Parse(noUuid)).Message, StringComparison.Ordinal);
        Assert.Contains("not a libvirt <domain>", Assert.Throws<LibvirtDomainException>(() => LibvirtDomain.Parse("<network/>")).Message, StringComparison.Ordinal);
        Assert.Contains("does not parse", Assert.Throws<LibvirtDomainException>(() => LibvirtDomain.Parse(bomb)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MemoryUnits_AndAStoppedDomainsChannelWithoutTpm()
    {
        string gib = Running.Replace("<memory unit='KiB'>1048576</memory>", "<memory unit='GiB'>4</memory>", StringComparison.Ordinal);
        string noTpm = Running.Replace("<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>", "", StringComparison.Ordinal)
            .Replace("<loader readonly='yes' secure='yes' type='pflash'>", "<loader readonly='yes' type='pflash'>", StringComparison.Ordinal)
            .Replace("<feature enabled='yes' name='secure-boot'/>", "", StringComparison.Ordinal);

        Assert.Equal(4096, LibvirtDomain.Parse(gib).MemoryMiB);
        LibvirtDomain plain = LibvirtDomain.Parse(noTpm);
        Assert.False(plain.HasTpm);
        Assert.False(plain.SecureBoot);
    }
}
