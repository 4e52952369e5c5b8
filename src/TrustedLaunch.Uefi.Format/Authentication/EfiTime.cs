using System.Buffers.Binary;
using System.Globalization;

namespace TrustedLaunch.Uefi.Format;

/// <summary><c>EFI_TIME</c> (UEFI 2.10 §8.3, GetTime): the timestamp of time-based authenticated variables.</summary>
public readonly record struct EfiTime(
    ushort Year, byte Month, byte Day, byte Hour, byte Minute, byte Second,
    byte Pad1 = 0, uint Nanosecond = 0, short TimeZone = 0, byte Daylight = 0, byte Pad2 = 0) : IComparable<EfiTime>
{
    /// <summary>Encoded size: UINT16 Year, six UINT8, UINT32 Nanosecond, INT16 TimeZone, two UINT8.</summary>
    public const int Size = 16;

    /// <summary>All-zero time: what edk2 stores for variables that were never written with an authentication descriptor.</summary>
    public static readonly EfiTime Zero;

    /// <summary>True when all fields are zero.</summary>
    public bool IsZero => this == Zero;

    /// <summary>
    /// True when Pad1, Nanosecond, TimeZone, Daylight and Pad2 are zero, as edk2 VerifyTimeBasedPayload requires of an
    /// EFI_VARIABLE_AUTHENTICATION_2 TimeStamp (UEFI 2.10 §8.2.2).
    /// </summary>
    public bool IsValidAuthenticationTime => Pad1 == 0 && Nanosecond == 0 && TimeZone == 0 && Daylight == 0 && Pad2 == 0;

    /// <summary>A GMT <c>EFI_TIME</c> with whole seconds, the form an authentication descriptor carries.</summary>
    public static EfiTime FromDateTimeOffset(DateTimeOffset value)
    {
        var utc = value.UtcDateTime;
        return new EfiTime((ushort)utc.Year, (byte)utc.Month, (byte)utc.Day, (byte)utc.Hour, (byte)utc.Minute, (byte)utc.Second);
    }

    /// <summary>Reads 16 bytes, little-endian.</summary>
    public static EfiTime Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size)
            throw new UefiFormatException($"EFI_TIME truncated: {source.Length} bytes, {Size} needed.");
        return new EfiTime(
            BinaryPrimitives.ReadUInt16LittleEndian(source), source[2], source[3], source[4], source[5], source[6], source[7],
            BinaryPrimitives.ReadUInt32LittleEndian(source[8..]), BinaryPrimitives.ReadInt16LittleEndian(source[12..]), source[14], source[15]);
    }

    /// <summary>Writes 16 bytes, little-endian.</summary>
    public void WriteTo(Span<byte> destination)
    {
        if (destination.Length < Size)
            throw new ArgumentException($"Destination holds {destination.Length} bytes, {Size} needed.", nameof(destination));
        BinaryPrimitives.WriteUInt16LittleEndian(destination, Year);
        destination[2] = Month;
        destination[3] = Day;
        destination[4] = Hour;
        destination[5] = Minute;
        destination[6] = Second;
        destination[7] = Pad1;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Nanosecond);
        BinaryPrimitives.WriteInt16LittleEndian(destination[12..], TimeZone);
        destination[14] = Daylight;
        destination[15] = Pad2;
    }

    /// <summary>The time as a UTC <see cref="DateTimeOffset"/>, or null when the fields are not a valid date (e.g. all zero).</summary>
    public DateTimeOffset? ToDateTimeOffset()
    {
        if (Month is < 1 or > 12 || Day < 1 || Day > DateTime.DaysInMonth(Math.Clamp((int)Year, 1, 9999), Month) || Year is < 1 or > 9999
            || Hour > 23 || Minute > 59 || Second > 59)
            return null;
        return new DateTimeOffset(Year, Month, Day, Hour, Minute, Second, TimeSpan.Zero);
    }

    /// <summary>
    /// Orders as edk2 AuthServiceInternalCompareTimeStamp does: Year, Month, Day, Hour, Minute, Second, Nanosecond
    /// (TimeZone and Daylight are ignored; authentication times are GMT).
    /// </summary>
    public int CompareTo(EfiTime other)
    {
        int c = Year.CompareTo(other.Year);
        if (c == 0) c = Month.CompareTo(other.Month);
        if (c == 0) c = Day.CompareTo(other.Day);
        if (c == 0) c = Hour.CompareTo(other.Hour);
        if (c == 0) c = Minute.CompareTo(other.Minute);
        if (c == 0) c = Second.CompareTo(other.Second);
        if (c == 0) c = Nanosecond.CompareTo(other.Nanosecond);
        return c;
    }

    public static bool operator <(EfiTime left, EfiTime right) => left.CompareTo(right) < 0;

    public static bool operator >(EfiTime left, EfiTime right) => left.CompareTo(right) > 0;

    public static bool operator <=(EfiTime left, EfiTime right) => left.CompareTo(right) <= 0;

    public static bool operator >=(EfiTime left, EfiTime right) => left.CompareTo(right) >= 0;

    /// <summary>ISO 8601 with a Z, or the raw fields when they are not a valid date.</summary>
    public override string ToString() => ToDateTimeOffset() is { } t
        ? t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{Year:D4}-{Month:D2}-{Day:D2}T{Hour:D2}:{Minute:D2}:{Second:D2}(invalid)");
}
