namespace TrustedLaunch.ControlPlane.Arm;

/// <summary>
/// One entry of ARM's error envelope (azure-resource-manager-rpc v1.0 "Error Response Content"): an unlocalized
/// PascalCase <see cref="Code"/>, a sentence for people, the offending property as <see cref="Target"/> and, at the top
/// level, every violation of the request in <see cref="Details"/>.
/// </summary>
public sealed record ArmErrorDetail
{
    public required string Code { get; init; }

    public required string Message { get; init; }

    public string? Target { get; init; }

    public IReadOnlyList<ArmErrorDetail>? Details { get; init; }
}

/// <summary>The body of every ARM error answer: <c>{"error": {...}}</c>.</summary>
public sealed record ArmErrorResponse
{
    public required ArmErrorDetail Error { get; init; }
}

/// <summary>A refused request: the HTTP status and ARM's error.</summary>
public sealed record ArmFailure(int StatusCode, ArmErrorDetail Error)
{
    /// <summary>
    /// One failure for all <paramref name="violations"/> of a request: a single violation is the error itself (and its
    /// only detail); several become ARM's <c>MultipleErrorsOccurred</c> with each in <c>details</c>.
    /// </summary>
    public static ArmFailure FromViolations(int statusCode, IReadOnlyList<ArmErrorDetail> violations)
    {
        ArgumentNullException.ThrowIfNull(violations);
        if (violations.Count == 0)
            throw new ArgumentException("A failure needs at least one violation.", nameof(violations));
        if (violations.Count == 1)
            return new ArmFailure(statusCode, violations[0] with { Details = [violations[0]] });
        string codes = string.Join(",", violations.Select(v => v.Code));
        return new ArmFailure(statusCode, new ArmErrorDetail
        {
            Code = "MultipleErrorsOccurred",
            Message = $"Multiple error occurred: {codes}. Please see details.",
            Details = violations,
        });
    }
}

/// <summary>The value of a control-plane call, or why it was refused.</summary>
public readonly record struct ArmResult<T>
{
    internal ArmResult(T? value, ArmFailure? failure)
    {
        Value = value;
        Failure = failure;
    }

    public T? Value { get; }

    public ArmFailure? Failure { get; }

    public bool Succeeded => Failure is null;

#pragma warning disable CA2225 // the conversion is the point: `return ArmErrors.X(...)` reads as a refusal
    public static implicit operator ArmResult<T>(ArmFailure failure) => ArmResult.Fail<T>(failure);
#pragma warning restore CA2225
}

/// <summary>Makes <see cref="ArmResult{T}"/> values.</summary>
public static class ArmResult
{
    public static ArmResult<T> Ok<T>(T value) => new(value, null);

    public static ArmResult<T> Fail<T>(ArmFailure failure) => new(default, failure ?? throw new ArgumentNullException(nameof(failure)));
}
