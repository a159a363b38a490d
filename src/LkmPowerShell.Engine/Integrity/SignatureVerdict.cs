namespace LkmPowerShell.Engine.Integrity;

/// <summary>
/// What checking a module's signature found, in the kernel's own terms (kernel/module/signing.c):
/// the kernel loads Valid modules; it refuses Invalid ones even without signature enforcement
/// (EBADMSG, EKEYREJECTED); UnknownKey (ENOKEY), Unsigned (ENODATA) and Unsupported (ENOPKG) load
/// with taint E unless module.sig_enforce=1.
/// </summary>
public enum SignatureVerdict
{
    /// <summary>The signature matches the module's bytes and a given certificate made it.</summary>
    Valid,

    /// <summary>The module's bytes or its signature were changed, or the signature breaks a kernel rule.</summary>
    Invalid,

    /// <summary>Signed, but by a key none of the given certificates holds.</summary>
    UnknownKey,

    /// <summary>No signature trailer.</summary>
    Unsigned,

    /// <summary>An algorithm or signature format this check (or the kernel) does not know.</summary>
    Unsupported,
}
