namespace TrustedLaunch.Images;

/// <summary>Why an image could not be built or read.</summary>
public enum ImageFailure
{
    /// <summary>The input is wrong: not a GPT disk, no ESP, a truncated file, an unknown distribution.</summary>
    BadInput,

    /// <summary>The machine lacks something: apt metadata, mtools, qemu-img, network to the Debian mirror.</summary>
    Environment,
}

/// <summary>The one exception family of image building and inspection.</summary>
public sealed class ImageException : Exception
{
    public ImageException() : this(ImageFailure.BadInput, "Image error.") { }

    public ImageException(string message) : this(ImageFailure.BadInput, message) { }

    public ImageException(string message, Exception innerException) : this(ImageFailure.BadInput, message, innerException) { }

    public ImageException(ImageFailure failure, string message, Exception? innerException = null) : base(message, innerException) =>
        Failure = failure;

    public ImageFailure Failure { get; }
}
