using System.Security.Cryptography;
using System.Text;

namespace TrustedLaunch.Testing;

/// <summary>VM ids are GUIDs; tests that name their VMs get a stable GUID per name (MD5 of the name, as RFC 4122 v3 does).</summary>
public static class TestVmIds
{
    public static Guid For(string name) => new(MD5.HashData(Encoding.UTF8.GetBytes(name)));
}
