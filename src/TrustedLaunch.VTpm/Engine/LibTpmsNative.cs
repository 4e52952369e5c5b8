using System.Runtime.InteropServices;

namespace TrustedLaunch.VTpm.Engine;

/// <summary>
/// The libtpms 0.9.x C API (<c>/usr/include/libtpms/tpm_library.h</c>, <c>tpm_tis.h</c>). Bound by SONAME so
/// no -dev symlink is needed. 0.10-only exports (TPMLIB_SetProfile, TPMLIB_WasManufactured) are not bound.
/// </summary>
internal static unsafe partial class LibTpmsNative
{
    private const string Library = "libtpms.so.0";

    /// <summary><c>TPMLIB_TPMVersion</c>: 0 = TPM 1.2 (the library default), 1 = TPM 2.</summary>
    public const int TpmVersion2 = 1;

    [LibraryImport(Library, EntryPoint = "TPMLIB_GetVersion")]
    public static partial uint GetVersion();

    [LibraryImport(Library, EntryPoint = "TPMLIB_ChooseTPMVersion")]
    public static partial uint ChooseTpmVersion(int version);

    [LibraryImport(Library, EntryPoint = "TPMLIB_RegisterCallbacks")]
    public static partial uint RegisterCallbacks(LibTpmsCallbacks* callbacks);

    [LibraryImport(Library, EntryPoint = "TPMLIB_MainInit")]
    public static partial uint MainInit();

    [LibraryImport(Library, EntryPoint = "TPMLIB_Terminate")]
    public static partial void Terminate();

    [LibraryImport(Library, EntryPoint = "TPMLIB_Process")]
    public static partial uint Process(byte** responseBuffer, uint* responseSize, uint* responseBufferSize, byte* command, uint commandSize);

    [LibraryImport(Library, EntryPoint = "TPMLIB_VolatileAll_Store")]
    public static partial uint VolatileAllStore(byte** buffer, uint* length);

    [LibraryImport(Library, EntryPoint = "TPMLIB_CancelCommand")]
    public static partial uint CancelCommand();

    [LibraryImport(Library, EntryPoint = "TPMLIB_SetBufferSize")]
    public static partial uint SetBufferSize(uint wanted, uint* minimum, uint* maximum);

    [LibraryImport(Library, EntryPoint = "TPMLIB_GetInfo")]
    public static partial byte* GetInfo(uint flags);

    [LibraryImport(Library, EntryPoint = "TPMLIB_GetState")]
    public static partial uint GetState(uint stateType, byte** buffer, uint* length);

    [LibraryImport(Library, EntryPoint = "TPMLIB_SetState")]
    public static partial uint SetState(uint stateType, byte* buffer, uint length);

    [LibraryImport(Library, EntryPoint = "TPM_IO_Hash_Start")]
    public static partial uint HashStart();

    [LibraryImport(Library, EntryPoint = "TPM_IO_Hash_Data")]
    public static partial uint HashData(byte* data, uint length);

    [LibraryImport(Library, EntryPoint = "TPM_IO_Hash_End")]
    public static partial uint HashEnd();

    [LibraryImport(Library, EntryPoint = "TPM_IO_TpmEstablished_Get")]
    public static partial uint TpmEstablishedGet(byte* established);

    [LibraryImport(Library, EntryPoint = "TPM_IO_TpmEstablished_Reset")]
    public static partial uint TpmEstablishedReset();
}

/// <summary><c>struct libtpms_callbacks</c> (tpm_library.h): 64 bytes on x86-64, pointers at 8, 16, …, 56.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct LibTpmsCallbacks
{
    public int SizeOfStruct;
    public delegate* unmanaged[Cdecl]<uint> NvramInit;
    public delegate* unmanaged[Cdecl]<byte**, uint*, uint, byte*, uint> NvramLoadData;
    public delegate* unmanaged[Cdecl]<byte*, uint, uint, byte*, uint> NvramStoreData;
    public delegate* unmanaged[Cdecl]<uint, byte*, byte, uint> NvramDeleteName;
    public delegate* unmanaged[Cdecl]<uint> IoInit;
    public delegate* unmanaged[Cdecl]<uint*, uint, uint> IoGetLocality;
    public delegate* unmanaged[Cdecl]<byte*, uint, uint> IoGetPhysicalPresence;
}

/// <summary>libtpms result codes shared with the swtpm control channel (tpm_error.h, TPM_BASE = 0).</summary>
public static class LibTpmsResult
{
    public const uint Success = 0;
    public const uint BadParameter = 3;
    public const uint Fail = 9;
    public const uint BadOrdinal = 10;
    public const uint Size = 23;
    public const uint IoError = 31;
    public const uint InvalidPostInit = 38;
    public const uint BadLocality = 61;
    /// <summary><c>TPM_RETRY</c>: from the permall load callback it means "no state, manufacture a new TPM".</summary>
    public const uint Retry = 0x800;
}

/// <summary><c>enum TPMLIB_StateType</c>.</summary>
public enum LibTpmsStateType : uint
{
    Permanent = 1,
    Volatile = 2,
    SaveState = 4,
}
