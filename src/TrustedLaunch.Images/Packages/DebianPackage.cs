namespace TrustedLaunch.Images.Packages;

/// <summary>One Debian binary package pinned to a version.</summary>
public sealed record DebianPackage(string Name, string Version)
{
    public override string ToString() => $"{Name}={Version}";
}
