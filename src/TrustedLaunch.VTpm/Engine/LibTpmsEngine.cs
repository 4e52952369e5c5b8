using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using TrustedLaunch.Tpm.Protocol;
using TrustedLaunch.VTpm.State;

namespace TrustedLaunch.VTpm.Engine;

/// <summary>
/// The one libtpms TPM 2.0 of this process. libtpms keeps the whole TPM in globals and has one callback table
/// (vtpm.md §1.1, §1.5), so at most one engine exists per process; every call is serialised by a lock.
/// NV state goes only through the registered callbacks into a <see cref="VTpmStateStore"/> (never into files
/// libtpms would choose); a load failure answers TPM_FAIL so libtpms can never manufacture over an identity.
/// </summary>
public sealed unsafe class LibTpmsEngine : ITpmTransport
{
    private static readonly Lock s_ownerGate = new();
    private static LibTpmsEngine? s_owner;

    private readonly Lock _gate = new();
    private readonly VTpmStateStore _store;
    private VTpmStateImage _image;
    private bool _allowManufacture;
    private byte* _responseBuffer;
    private uint _responseCapacity;
    private bool _disposed;

    private LibTpmsEngine(VTpmStateStore store, VTpmStateImage image, bool allowManufacture)
    {
        _store = store;
        _image = image;
        _allowManufacture = allowManufacture;
    }

    /// <summary>The loaded library's version: (major&lt;&lt;16)|(minor&lt;&lt;8)|micro, e.g. 0x000902.</summary>
    public static uint LibraryVersion => LibTpmsNative.GetVersion();

    /// <summary>True between a successful <see cref="Initialize"/> and <see cref="Terminate"/>.</summary>
    public bool IsRunning { get; private set; }

    /// <summary>The locality libtpms sees for the next command (swtpm CMD_SET_LOCALITY; 0–4).</summary>
    public byte Locality { get; set; }

    /// <summary>The state image as last stored; a copy is what the store holds.</summary>
    public VTpmStateImage Image => _image;

    /// <summary>The last storage failure reported to libtpms as TPM_FAIL, if any.</summary>
    public Exception? LastStoreFailure { get; private set; }

    /// <summary>Takes the process's libtpms for an existing, already loaded state.</summary>
    public static LibTpmsEngine Open(VTpmStateStore store, VTpmStateImage image) => Acquire(store, image, allowManufacture: false);

    /// <summary>Takes the process's libtpms to manufacture a brand-new TPM into <paramref name="store"/>.</summary>
    public static LibTpmsEngine Manufacture(VTpmStateStore store) =>
        Acquire(store, new VTpmStateImage(LibraryVersion), allowManufacture: true);

    private static LibTpmsEngine Acquire(VTpmStateStore store, VTpmStateImage image, bool allowManufacture)
    {
        ArgumentNullException.ThrowIfNull(store);
        lock (s_ownerGate)
        {
            if (s_owner is not null)
                throw new InvalidOperationException("libtpms is a process-global singleton and this process already runs a vTPM; use one process per vTPM.");
            s_owner = new LibTpmsEngine(store, image, allowManufacture);
            return s_owner;
        }
    }

    /// <summary>
    /// <c>TPMLIB_ChooseTPMVersion(2)</c> → <c>RegisterCallbacks</c> → [<c>SetBufferSize</c>] → <c>MainInit</c>
    /// (vtpm.md §1.3). <paramref name="deleteVolatile"/> drops a stored volatile state after it was read
    /// (swtpm's PTM_INIT_FLAG_DELETE_VOLATILE).
    /// </summary>
    /// <exception cref="LibTpmsException">libtpms refused to start (message names the failing call).</exception>
    public void Initialize(bool deleteVolatile = false, uint bufferSize = 0)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (IsRunning)
                return;
            Check(LibTpmsNative.ChooseTpmVersion(LibTpmsNative.TpmVersion2), "TPMLIB_ChooseTPMVersion(TPM2)");
            var callbacks = new LibTpmsCallbacks
            {
                SizeOfStruct = sizeof(LibTpmsCallbacks),
                NvramInit = &NvramInit,
                NvramLoadData = &NvramLoadData,
                NvramStoreData = &NvramStoreData,
                NvramDeleteName = &NvramDeleteName,
                IoInit = &IoInit,
                IoGetLocality = &IoGetLocality,
                IoGetPhysicalPresence = &IoGetPhysicalPresence,
            };
            Check(LibTpmsNative.RegisterCallbacks(&callbacks), "TPMLIB_RegisterCallbacks"); // libtpms copies the table
            if (bufferSize != 0)
            {
                uint min, max;
                _ = LibTpmsNative.SetBufferSize(bufferSize, &min, &max);
            }

            LastStoreFailure = null;
            uint rc = LibTpmsNative.MainInit();
            if (rc != LibTpmsResult.Success)
            {
                LibTpmsNative.Terminate();
                string why = LastStoreFailure is null ? "" : $" ({LastStoreFailure.Message})";
                throw new LibTpmsException(rc, $"TPMLIB_MainInit failed with 0x{rc:X}{why}; the stored state was rejected");
            }

            IsRunning = true;
            _allowManufacture = false; // manufacture happens at most once, in the MainInit above
            if (deleteVolatile && _image.Remove(VTpmStateImage.VolatileName))
                _store.Persist(_image);
        }
    }

    /// <summary>Runs one TPM command; the TPM's own result code is in the response header (Part 1 §18).</summary>
    public byte[] Execute(ReadOnlySpan<byte> command)
    {
        lock (_gate)
        {
            int length = ExecuteLocked(command);
            return new ReadOnlySpan<byte>(_responseBuffer, length).ToArray();
        }
    }

    /// <summary>Runs one command and copies the response into <paramref name="response"/>; returns its length.</summary>
    public int Execute(ReadOnlySpan<byte> command, Span<byte> response)
    {
        lock (_gate)
        {
            int length = ExecuteLocked(command);
            if (length > response.Length)
                throw new ArgumentException($"The response is {length} bytes; the buffer holds {response.Length}.", nameof(response));
            new ReadOnlySpan<byte>(_responseBuffer, length).CopyTo(response);
            return length;
        }
    }

    private int ExecuteLocked(ReadOnlySpan<byte> command)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!IsRunning)
            throw new InvalidOperationException("The TPM is not running; Initialize it first.");
        uint responseSize = 0;
        uint rc;
        fixed (byte* commandPointer = command)
        fixed (byte** bufferPointer = &_responseBuffer)
        fixed (uint* capacityPointer = &_responseCapacity)
        {
            // libtpms realloc()s *responseBuffer to its needs (vtpm.md §1.3); we keep it across calls.
            rc = LibTpmsNative.Process(bufferPointer, &responseSize, capacityPointer, commandPointer, (uint)command.Length);
        }

        if (rc != LibTpmsResult.Success)
            throw new LibTpmsException(rc, $"TPMLIB_Process failed with 0x{rc:X}");
        return (int)responseSize;
    }

    /// <summary><c>TPMLIB_Terminate</c>: the TPM stops; its NV state is already stored.</summary>
    public void Terminate()
    {
        lock (_gate)
        {
            if (!IsRunning)
                return;
            LibTpmsNative.Terminate();
            IsRunning = false;
        }
    }

    /// <summary><c>TPMLIB_VolatileAll_Store</c> then keeps the blob as <c>volatilestate</c> (swtpm CMD_STORE_VOLATILE).</summary>
    public void StoreVolatile()
    {
        lock (_gate)
        {
            byte[] blob = TakeNative((byte** b, uint* l) => LibTpmsNative.VolatileAllStore(b, l), "TPMLIB_VolatileAll_Store");
            _image.Set(VTpmStateImage.VolatileName, blob);
            _store.Persist(_image);
        }
    }

    /// <summary><c>TPMLIB_GetState</c>: live state when running, else the stored blob (empty if none).</summary>
    public byte[] GetState(LibTpmsStateType type)
    {
        lock (_gate)
        {
            if (!IsRunning)
            {
                string? name = type switch
                {
                    LibTpmsStateType.Permanent => VTpmStateImage.PermanentName,
                    LibTpmsStateType.Volatile => VTpmStateImage.VolatileName,
                    _ => null,
                };
                return name is not null && _image.TryGet(name, out byte[] stored) ? stored.ToArray() : [];
            }

            if (type == LibTpmsStateType.SaveState)
                return []; // TPM 2 has no savestate blob (vtpm.md §1.3)
            return TakeNative((byte** b, uint* l) => LibTpmsNative.GetState((uint)type, b, l), "TPMLIB_GetState");
        }
    }

    /// <summary>Replaces a state blob while stopped (swtpm CMD_SET_STATEBLOB; migration destination).</summary>
    public void SetState(LibTpmsStateType type, ReadOnlySpan<byte> blob)
    {
        lock (_gate)
        {
            if (IsRunning)
                throw new InvalidOperationException("State blobs can only be set while the TPM is stopped.");
            string name = type switch
            {
                LibTpmsStateType.Permanent => VTpmStateImage.PermanentName,
                LibTpmsStateType.Volatile => VTpmStateImage.VolatileName,
                _ => throw new LibTpmsException(LibTpmsResult.BadParameter, $"State type {type} does not exist for TPM 2."),
            };
            if (blob.IsEmpty)
                _image.Remove(name);
            else
                _image.Set(name, blob);
            _image.LibtpmsVersion = LibraryVersion;
            _store.Persist(_image);
        }
    }

    /// <summary><c>TPMLIB_SetBufferSize</c>; 0 queries. Returns (actual, min, max).</summary>
    public (uint Size, uint Minimum, uint Maximum) SetBufferSize(uint wanted)
    {
        lock (_gate)
        {
            uint min, max;
            uint size = LibTpmsNative.SetBufferSize(IsRunning ? 0 : wanted, &min, &max);
            return (size, min, max);
        }
    }

    /// <summary><c>TPMLIB_GetInfo</c>: JSON about the TPM (flags: 1 spec, 2 attributes, 4 features).</summary>
    public string GetInfo(uint flags)
    {
        lock (_gate)
        {
            byte* text = LibTpmsNative.GetInfo(flags);
            if (text == null)
                return "{}";
            try
            {
                return Marshal.PtrToStringUTF8((nint)text) ?? "{}";
            }
            finally
            {
                NativeMemory.Free(text); // malloc()ed by libtpms
            }
        }
    }

    public uint HashStart() { lock (_gate) return LibTpmsNative.HashStart(); }

    public uint HashData(ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            fixed (byte* p = data)
                return LibTpmsNative.HashData(p, (uint)data.Length);
        }
    }

    public uint HashEnd() { lock (_gate) return LibTpmsNative.HashEnd(); }

    /// <summary>The TPM established flag (TIS access register bit; set by a DRTM hash sequence).</summary>
    public uint GetEstablished(out bool established)
    {
        lock (_gate)
        {
            byte flag = 0;
            uint rc = LibTpmsNative.TpmEstablishedGet(&flag);
            established = flag != 0;
            return rc;
        }
    }

    /// <summary>Resets the established flag; libtpms allows this only at locality 3 or 4.</summary>
    public uint ResetEstablished(byte locality)
    {
        lock (_gate)
        {
            byte saved = Locality;
            Locality = locality;
            try
            {
                return LibTpmsNative.TpmEstablishedReset();
            }
            finally
            {
                Locality = saved;
            }
        }
    }

    /// <summary>Asks a running command to stop early; the only call meant for another thread.</summary>
    public static uint Cancel() => LibTpmsNative.CancelCommand();

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            if (IsRunning)
            {
                LibTpmsNative.Terminate();
                IsRunning = false;
            }

            NativeMemory.Free(_responseBuffer);
            _responseBuffer = null;
            _disposed = true;
        }

        lock (s_ownerGate)
        {
            if (ReferenceEquals(s_owner, this))
                s_owner = null;
        }
    }

    private delegate uint NativeBlobCall(byte** buffer, uint* length);

    private static byte[] TakeNative(NativeBlobCall call, string what)
    {
        byte* buffer = null;
        uint length = 0;
        uint rc = call(&buffer, &length);
        try
        {
            if (rc != LibTpmsResult.Success)
                throw new LibTpmsException(rc, $"{what} failed with 0x{rc:X}");
            return buffer == null ? [] : new ReadOnlySpan<byte>(buffer, (int)length).ToArray();
        }
        finally
        {
            NativeMemory.Free(buffer); // malloc()ed by libtpms (vtpm.md fact 5)
        }
    }

    private static void Check(uint rc, string what)
    {
        if (rc != LibTpmsResult.Success)
            throw new LibTpmsException(rc, $"{what} failed with 0x{rc:X}");
    }

    // ---- callbacks: run on the thread inside MainInit/Process; must never throw into native code ----

    private static LibTpmsEngine? Owner
    {
        get { lock (s_ownerGate) return s_owner; }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static uint NvramInit() => LibTpmsResult.Success;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static uint IoInit() => LibTpmsResult.Success;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static uint IoGetPhysicalPresence(byte* physicalPresence, uint tpmNumber)
    {
        *physicalPresence = 0;
        return LibTpmsResult.Success;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static uint IoGetLocality(uint* locality, uint tpmNumber)
    {
        *locality = Owner?.Locality ?? 0; // must always be written (vtpm.md §1.3)
        return LibTpmsResult.Success;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static uint NvramLoadData(byte** data, uint* length, uint tpmNumber, byte* name)
    {
        *data = null;
        *length = 0;
        LibTpmsEngine? owner = Owner;
        if (owner is null)
            return LibTpmsResult.Fail;
        string entry = Marshal.PtrToStringUTF8((nint)name) ?? "";
        if (!owner._image.TryGet(entry, out byte[] blob))
        {
            // vtpm.md fact 3: TPM_RETRY for permall makes libtpms manufacture a new TPM (new EPS => new EK).
            // Only an explicit manufacture may get it; an existing vTPM whose permall is absent fails instead.
            if (entry == VTpmStateImage.PermanentName && !owner._allowManufacture)
                return LibTpmsResult.Fail;
            return LibTpmsResult.Retry;
        }

        byte* copy = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, blob.Length)); // libtpms free()s it
        blob.CopyTo(new Span<byte>(copy, blob.Length));
        *data = copy;
        *length = (uint)blob.Length;
        return LibTpmsResult.Success;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static uint NvramStoreData(byte* data, uint length, uint tpmNumber, byte* name)
    {
        LibTpmsEngine? owner = Owner;
        if (owner is null)
            return LibTpmsResult.Fail;
        string entry = Marshal.PtrToStringUTF8((nint)name) ?? "";
        try
        {
            owner._image.Set(entry, new ReadOnlySpan<byte>(data, (int)length));
            owner._image.LibtpmsVersion = LibTpmsNative.GetVersion();
            owner._store.Persist(owner._image); // write-through: the command completes only once state is durable
            return LibTpmsResult.Success;
        }
        catch (Exception e) when (e is VTpmStateException or IOException)
        {
            owner.LastStoreFailure = e;
            return LibTpmsResult.Fail;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static uint NvramDeleteName(uint tpmNumber, byte* name, byte mustExist)
    {
        LibTpmsEngine? owner = Owner;
        if (owner is null)
            return LibTpmsResult.Fail;
        string entry = Marshal.PtrToStringUTF8((nint)name) ?? "";
        try
        {
            if (!owner._image.Remove(entry))
                return mustExist != 0 ? LibTpmsResult.Fail : LibTpmsResult.Success;
            owner._store.Persist(owner._image);
            return LibTpmsResult.Success;
        }
        catch (Exception e) when (e is VTpmStateException or IOException)
        {
            owner.LastStoreFailure = e;
            return LibTpmsResult.Fail;
        }
    }
}

/// <summary>libtpms returned an error code from one of its API functions.</summary>
public sealed class LibTpmsException : Exception
{
    public LibTpmsException() { }

    public LibTpmsException(string message) : base(message) { }

    public LibTpmsException(string message, Exception innerException) : base(message, innerException) { }

    public LibTpmsException(uint result, string message) : base(message) => Result = result;

    /// <summary>The libtpms <c>TPM_RESULT</c> (see <see cref="LibTpmsResult"/>).</summary>
    public uint Result { get; }
}
