//! A small FFI over MIT Kerberos' GSS-API (RFC 2744, MIT's `gssapi.h` and
//! `gssapi_ext.h`), with safe wrappers for what Hadoop's KERBEROS SASL mechanism needs:
//! credentials, an initiator and an acceptor context, and per-message wrap/unwrap.
//!
//! The library, `libgssapi_krb5.so.2`, is opened at run time with `libloading` instead of
//! being linked: building hafs then needs no Kerberos headers (no bindgen, no libclang),
//! and a SIMPLE deployment runs on a machine without the library at all. Only the first
//! Kerberos use loads it; a missing library is an error that says what to install.
//!
//! The C types below are written out by hand from the header; they are plain
//! `size_t`/`OM_uint32`/pointer structs whose layout is fixed by the C ABI on every
//! platform MIT supports.

use std::ffi::{c_char, c_int, c_void, CString};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The shared object MIT Kerberos installs (Debian: `libgssapi-krb5-2`).
pub const LIBRARY: &str = "libgssapi_krb5.so.2";

/// The largest context-establishment token (AP-REQ, AP-REP, KRB-ERROR) accepted from a
/// peer. A Kerberos AP-REQ is a few hundred bytes here and a few KiB with an Active
/// Directory PAC; anything larger is hostile.
pub const MAX_CONTEXT_TOKEN: usize = 64 * 1024;

/// The largest wrapped message accepted from a peer. Hadoop's IPC server wraps each
/// response frame whole, whatever the negotiated buffer size, so this follows the
/// default `ipc.maximum.response.length` (128 MiB) plus room for the token header.
pub const MAX_WRAPPED_MESSAGE: usize = 128 * 1024 * 1024 + 4096;

// ------------------------------------------------------------------------- C types

type OmUint32 = u32;
type GssName = *mut c_void;
type GssCred = *mut c_void;
type GssCtx = *mut c_void;

#[repr(C)]
struct BufferDesc {
    length: usize,
    value: *mut c_void,
}

impl BufferDesc {
    fn empty() -> BufferDesc {
        BufferDesc {
            length: 0,
            value: std::ptr::null_mut(),
        }
    }

    /// A descriptor borrowing `bytes` for an input the library only reads (names,
    /// messages to wrap).
    fn borrowing(bytes: &[u8]) -> BufferDesc {
        BufferDesc {
            length: bytes.len(),
            value: bytes.as_ptr() as *mut c_void,
        }
    }

    /// A descriptor over a private copy, for peer tokens: MIT's unwrap of an
    /// integrity-only token zeroes header fields of its *input* in place (measured: a
    /// second unwrap of the same bytes then fails as "Token header is malformed"), so
    /// the library must never see memory Rust considers shared.
    fn owning(copy: &mut [u8]) -> BufferDesc {
        BufferDesc {
            length: copy.len(),
            value: copy.as_mut_ptr() as *mut c_void,
        }
    }
}

#[repr(C)]
struct OidDesc {
    length: OmUint32,
    elements: *mut c_void,
}

#[repr(C)]
struct OidSetDesc {
    count: usize,
    elements: *mut OidDesc,
}

#[repr(C)]
struct KeyValueElement {
    key: *const c_char,
    value: *const c_char,
}

#[repr(C)]
struct KeyValueSet {
    count: OmUint32,
    elements: *mut KeyValueElement,
}

/// DER bodies of the OIDs used here.
/// 1.2.840.113554.1.2.2: the Kerberos 5 mechanism (RFC 1964).
const KRB5_MECH: &[u8] = b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02";
/// 1.3.6.1.5.5.2: SPNEGO (RFC 4178), what HTTP `Negotiate` carries (curl, browsers, Java).
const SPNEGO_MECH: &[u8] = b"\x2b\x06\x01\x05\x05\x02";
/// 1.2.840.113554.1.2.2.1: `GSS_KRB5_NT_PRINCIPAL_NAME`, a name like `nn/host@REALM`.
const KRB5_NT_PRINCIPAL_NAME: &[u8] = b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x01";
/// 1.2.840.113554.1.2.1.4: `GSS_C_NT_HOSTBASED_SERVICE`, a name like `nn@host`.
const NT_HOSTBASED_SERVICE: &[u8] = b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04";

fn oid(der: &'static [u8]) -> OidDesc {
    OidDesc {
        length: der.len() as OmUint32,
        elements: der.as_ptr() as *mut c_void,
    }
}

const GSS_S_COMPLETE: OmUint32 = 0;
const GSS_S_CONTINUE_NEEDED: OmUint32 = 1;
/// Supplementary bits of an unwrap: the token was seen before, is too old, out of order,
/// or follows a gap. Over one TCP connection each of them means tampering.
const GSS_S_DUPLICATE_TOKEN: OmUint32 = 1 << 1;
const GSS_S_OLD_TOKEN: OmUint32 = 1 << 2;
const GSS_S_UNSEQ_TOKEN: OmUint32 = 1 << 3;
const GSS_S_GAP_TOKEN: OmUint32 = 1 << 4;
/// Calling and routine error fields; a status with none of them set is not an error.
const GSS_ERROR_MASK: OmUint32 = 0xffff_0000;

const GSS_C_GSS_CODE: c_int = 1;
const GSS_C_MECH_CODE: c_int = 2;
const GSS_C_INDEFINITE: OmUint32 = 0xffff_ffff;
const GSS_C_INITIATE: c_int = 1;
const GSS_C_ACCEPT: c_int = 2;

/// Context flags (`GSS_C_*_FLAG`). Delegation is never requested (it is masked off):
/// a Hadoop service has no use for a client's TGT.
const DELEG_FLAG: u32 = 1;
pub const MUTUAL_FLAG: u32 = 2;
pub const REPLAY_FLAG: u32 = 4;
pub const SEQUENCE_FLAG: u32 = 8;
pub const CONF_FLAG: u32 = 16;
pub const INTEG_FLAG: u32 = 32;

type ImportNameFn = unsafe extern "C" fn(
    *mut OmUint32,
    *const BufferDesc,
    *const OidDesc,
    *mut GssName,
) -> OmUint32;
type ReleaseNameFn = unsafe extern "C" fn(*mut OmUint32, *mut GssName) -> OmUint32;
type DisplayNameFn =
    unsafe extern "C" fn(*mut OmUint32, GssName, *mut BufferDesc, *mut *mut OidDesc) -> OmUint32;
type AcquireCredFromFn = unsafe extern "C" fn(
    *mut OmUint32,
    GssName,
    OmUint32,
    *const OidSetDesc,
    c_int,
    *const KeyValueSet,
    *mut GssCred,
    *mut *mut OidSetDesc,
    *mut OmUint32,
) -> OmUint32;
type ReleaseCredFn = unsafe extern "C" fn(*mut OmUint32, *mut GssCred) -> OmUint32;
type InitSecContextFn = unsafe extern "C" fn(
    *mut OmUint32,
    GssCred,
    *mut GssCtx,
    GssName,
    *const OidDesc,
    OmUint32,
    OmUint32,
    *const c_void,
    *const BufferDesc,
    *mut *mut OidDesc,
    *mut BufferDesc,
    *mut OmUint32,
    *mut OmUint32,
) -> OmUint32;
type AcceptSecContextFn = unsafe extern "C" fn(
    *mut OmUint32,
    *mut GssCtx,
    GssCred,
    *const BufferDesc,
    *const c_void,
    *mut GssName,
    *mut *mut OidDesc,
    *mut BufferDesc,
    *mut OmUint32,
    *mut OmUint32,
    *mut GssCred,
) -> OmUint32;
type DeleteSecContextFn =
    unsafe extern "C" fn(*mut OmUint32, *mut GssCtx, *mut BufferDesc) -> OmUint32;
type WrapFn = unsafe extern "C" fn(
    *mut OmUint32,
    GssCtx,
    c_int,
    OmUint32,
    *const BufferDesc,
    *mut c_int,
    *mut BufferDesc,
) -> OmUint32;
type UnwrapFn = unsafe extern "C" fn(
    *mut OmUint32,
    GssCtx,
    *const BufferDesc,
    *mut BufferDesc,
    *mut c_int,
    *mut OmUint32,
) -> OmUint32;
type ReleaseBufferFn = unsafe extern "C" fn(*mut OmUint32, *mut BufferDesc) -> OmUint32;
type DisplayStatusFn = unsafe extern "C" fn(
    *mut OmUint32,
    OmUint32,
    c_int,
    *const OidDesc,
    *mut OmUint32,
    *mut BufferDesc,
) -> OmUint32;
type InquireContextFn = unsafe extern "C" fn(
    *mut OmUint32,
    GssCtx,
    *mut GssName,
    *mut GssName,
    *mut OmUint32,
    *mut *mut OidDesc,
    *mut OmUint32,
    *mut c_int,
    *mut c_int,
) -> OmUint32;

/// The opened library and the entry points used here.
struct Library {
    import_name: ImportNameFn,
    release_name: ReleaseNameFn,
    display_name: DisplayNameFn,
    acquire_cred_from: AcquireCredFromFn,
    release_cred: ReleaseCredFn,
    init_sec_context: InitSecContextFn,
    accept_sec_context: AcceptSecContextFn,
    delete_sec_context: DeleteSecContextFn,
    wrap: WrapFn,
    unwrap: UnwrapFn,
    release_buffer: ReleaseBufferFn,
    display_status: DisplayStatusFn,
    inquire_context: InquireContextFn,
    /// Kept open for the life of the process: the function pointers above point into it.
    _lib: libloading::Library,
}

static LIBRARY_HANDLE: OnceLock<Result<Library, String>> = OnceLock::new();

fn library() -> Result<&'static Library, GssError> {
    LIBRARY_HANDLE
        .get_or_init(|| open(LIBRARY))
        .as_ref()
        .map_err(|e| GssError::Library(e.clone()))
}

/// Whether the MIT GSS-API library can be loaded on this machine (and loads it).
pub fn available() -> Result<(), GssError> {
    library().map(|_| ())
}

fn open(name: &str) -> Result<Library, String> {
    let missing = |e: &dyn fmt::Display| {
        format!(
            "{name} could not be loaded ({e}); Kerberos (hadoop.security.authentication=kerberos) \
             needs the MIT Kerberos GSS-API library: install libgssapi-krb5-2 (Debian) or krb5-libs"
        )
    };
    // SAFETY: loading MIT's GSS-API library runs its ELF constructors, which only set up
    // its own error tables and locks; it has no other load-time side effects.
    let lib = unsafe { libloading::Library::new(name) }.map_err(|e| missing(&e))?;
    macro_rules! sym {
        ($name:literal) => {
            // SAFETY: the symbol has the C signature given by the field's type, copied
            // from MIT's gssapi.h / gssapi_ext.h (RFC 2744 names and argument order).
            // The pointer stays valid because `_lib` is stored alongside it and the
            // library is never closed.
            *unsafe { lib.get(concat!($name, "\0").as_bytes()) }.map_err(|e| missing(&e))?
        };
    }
    Ok(Library {
        import_name: sym!("gss_import_name"),
        release_name: sym!("gss_release_name"),
        display_name: sym!("gss_display_name"),
        acquire_cred_from: sym!("gss_acquire_cred_from"),
        release_cred: sym!("gss_release_cred"),
        init_sec_context: sym!("gss_init_sec_context"),
        accept_sec_context: sym!("gss_accept_sec_context"),
        delete_sec_context: sym!("gss_delete_sec_context"),
        wrap: sym!("gss_wrap"),
        unwrap: sym!("gss_unwrap"),
        release_buffer: sym!("gss_release_buffer"),
        display_status: sym!("gss_display_status"),
        inquire_context: sym!("gss_inquire_context"),
        _lib: lib,
    })
}

// ------------------------------------------------------------------------- errors

/// A GSS-API failure, with MIT's own text for the major and minor status (what
/// `klist`, `kinit` and Java's `GSSException` print), so "Request is a replay" or
/// "Server not found in Kerberos database" reach the log verbatim.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GssError {
    /// The library could not be opened or lacks an entry point.
    #[error("{0}")]
    Library(String),
    /// A call failed; `what` names the step.
    #[error("{what}: {text}")]
    Call {
        what: String,
        major: u32,
        minor: u32,
        text: String,
    },
    /// A peer or caller handed over something refused before reaching the library
    /// (oversized token, NUL in a name, wrong protection).
    #[error("{0}")]
    Refused(String),
}

impl GssError {
    fn call(lib: &Library, what: &str, major: OmUint32, minor: OmUint32) -> GssError {
        let mut text = status_text(lib, major, GSS_C_GSS_CODE);
        if minor != 0 {
            let mech = status_text(lib, minor, GSS_C_MECH_CODE);
            if !mech.is_empty() {
                if !text.is_empty() {
                    text.push_str(": ");
                }
                text.push_str(&mech);
            }
        }
        if text.is_empty() {
            text = format!("major status {major:#x}, minor status {minor}");
        }
        GssError::Call {
            what: what.to_string(),
            major,
            minor,
            text,
        }
    }
}

/// `gss_display_status` for one status code, all its messages joined.
fn status_text(lib: &Library, code: OmUint32, kind: c_int) -> String {
    let mech = oid(KRB5_MECH);
    let mut parts = Vec::new();
    let mut message_context: OmUint32 = 0;
    // The library returns one message per call; a handful is all it ever has.
    for _ in 0..8 {
        let mut minor = 0;
        let mut buf = BufferDesc::empty();
        // SAFETY: all pointers are to live locals; `buf` is released below.
        let major = unsafe {
            (lib.display_status)(
                &mut minor,
                code,
                kind,
                &mech,
                &mut message_context,
                &mut buf,
            )
        };
        if major != GSS_S_COMPLETE {
            break;
        }
        let text = take_buffer(lib, &mut buf);
        let text = String::from_utf8_lossy(&text).trim().to_string();
        if !text.is_empty() {
            parts.push(text);
        }
        if message_context == 0 {
            break;
        }
    }
    parts.join("; ")
}

/// Copies an output buffer the library allocated, then frees it.
fn take_buffer(lib: &Library, buf: &mut BufferDesc) -> Vec<u8> {
    let out = if buf.value.is_null() || buf.length == 0 {
        Vec::new()
    } else {
        // SAFETY: the library set `value` to `length` readable bytes it owns until
        // gss_release_buffer.
        unsafe { std::slice::from_raw_parts(buf.value as *const u8, buf.length) }.to_vec()
    };
    let mut minor = 0;
    // SAFETY: `buf` came from the library (or is empty, which release accepts).
    unsafe { (lib.release_buffer)(&mut minor, buf) };
    out
}

fn is_error(major: OmUint32) -> bool {
    major & GSS_ERROR_MASK != 0
}

fn c_string(what: &str, s: &str) -> Result<CString, GssError> {
    CString::new(s).map_err(|_| GssError::Refused(format!("{what} contains a NUL byte")))
}

// ------------------------------------------------------------------------- names

/// What kind of name a string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameType {
    /// A Kerberos principal, `nn/localhost@HAFS.TEST` or `alice@HAFS.TEST`.
    Principal,
    /// A host-based service, `nn@localhost` (what Java's SASL client builds from the
    /// protocol and server name); the library maps it to `nn/localhost@<realm of host>`.
    HostBasedService,
}

/// An imported GSS name (`gss_name_t`), released on drop.
pub struct Name {
    lib: &'static Library,
    handle: GssName,
}

// SAFETY: an MIT name is an immutable heap object not tied to the thread that made it.
unsafe impl Send for Name {}
// SAFETY: as above; the library only reads a name after import.
unsafe impl Sync for Name {}

impl Name {
    pub fn import(name: &str, kind: NameType) -> Result<Name, GssError> {
        let lib = library()?;
        let bytes = c_string("name", name)?;
        let buf = BufferDesc::borrowing(bytes.as_bytes());
        let name_type = oid(match kind {
            NameType::Principal => KRB5_NT_PRINCIPAL_NAME,
            NameType::HostBasedService => NT_HOSTBASED_SERVICE,
        });
        let mut minor = 0;
        let mut handle: GssName = std::ptr::null_mut();
        // SAFETY: `buf` borrows `bytes`, alive for the call; the OID points to static
        // bytes; `handle` receives a name we own and release in Drop.
        let major = unsafe { (lib.import_name)(&mut minor, &buf, &name_type, &mut handle) };
        if is_error(major) {
            return Err(GssError::call(
                lib,
                &format!("importing the name {name:?}"),
                major,
                minor,
            ));
        }
        Ok(Name { lib, handle })
    }

    /// The name as text (`alice@HAFS.TEST`).
    pub fn display(&self) -> Result<String, GssError> {
        display_name(self.lib, self.handle)
    }
}

fn display_name(lib: &Library, handle: GssName) -> Result<String, GssError> {
    let mut minor = 0;
    let mut buf = BufferDesc::empty();
    // SAFETY: `handle` is a live name; the name type output is optional (null).
    let major = unsafe { (lib.display_name)(&mut minor, handle, &mut buf, std::ptr::null_mut()) };
    if is_error(major) {
        return Err(GssError::call(lib, "displaying a name", major, minor));
    }
    let bytes = take_buffer(lib, &mut buf);
    String::from_utf8(bytes).map_err(|_| GssError::Refused("a principal name is not UTF-8".into()))
}

fn release_name(lib: &Library, handle: &mut GssName) {
    if !handle.is_null() {
        let mut minor = 0;
        // SAFETY: the name was produced by the library and is released once.
        unsafe { (lib.release_name)(&mut minor, handle) };
        *handle = std::ptr::null_mut();
    }
}

impl Drop for Name {
    fn drop(&mut self) {
        release_name(self.lib, &mut self.handle);
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.display() {
            Ok(s) => write!(f, "Name({s})"),
            Err(_) => f.write_str("Name(?)"),
        }
    }
}

// ------------------------------------------------------------------------- credentials

/// Which GSS mechanism a credential or initiator context is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// Kerberos 5 (RFC 1964): Hadoop's SASL GSSAPI.
    Kerberos,
    /// SPNEGO (RFC 4178) negotiating Kerberos: HTTP `Negotiate` (RFC 4559).
    Spnego,
}

/// Where an initiator (client) takes its Kerberos credentials from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitiatorSource {
    /// The default ticket cache (`KRB5CCNAME`, else krb5.conf's default), as after `kinit`.
    DefaultCcache,
    /// A ticket cache file (`FILE:` is added unless the value names a type).
    Ccache(String),
    /// A client keytab holding `principal`'s keys: tickets are obtained as needed and
    /// kept in a ticket cache private to this credential.
    ClientKeytab { keytab: String, principal: String },
}

/// A GSS credential (`gss_cred_id_t`), released on drop. MIT guards its credentials
/// with their own lock, so one acceptor credential can serve many connections.
pub struct Credential {
    lib: &'static Library,
    handle: GssCred,
    principal: Option<String>,
}

// SAFETY: MIT's krb5 credential records carry their own mutex and are not tied to the
// creating thread.
unsafe impl Send for Credential {}
// SAFETY: as above; concurrent contexts may use one credential.
unsafe impl Sync for Credential {}

impl Credential {
    /// An acceptor (server) credential for exactly `principal` (`nn/localhost@HAFS.TEST`)
    /// from `keytab`: a ticket for any other principal in that keytab is refused.
    pub fn acceptor(principal: &str, keytab: &Path) -> Result<Credential, GssError> {
        Credential::acceptor_for(principal, keytab, Mechanism::Kerberos)
    }

    /// As [`Credential::acceptor`], for `mechanism` (an SPNEGO acceptor takes both
    /// SPNEGO and raw Kerberos tokens).
    pub fn acceptor_for(
        principal: &str,
        keytab: &Path,
        mechanism: Mechanism,
    ) -> Result<Credential, GssError> {
        let name = Name::import(principal, NameType::Principal)?;
        let keytab = keytab.to_str().ok_or_else(|| {
            GssError::Refused(format!("keytab path {} is not UTF-8", keytab.display()))
        })?;
        let mut cred = acquire(
            Some(&name),
            GSS_C_ACCEPT,
            mechanism,
            &[("keytab", keytab)],
            &format!("acquiring acceptor credentials for {principal} from keytab {keytab}"),
        )?;
        cred.principal = Some(principal.to_string());
        Ok(cred)
    }

    /// An initiator (client) credential.
    pub fn initiator(source: &InitiatorSource) -> Result<Credential, GssError> {
        Credential::initiator_for(source, Mechanism::Kerberos)
    }

    /// As [`Credential::initiator`], for `mechanism`.
    pub fn initiator_for(
        source: &InitiatorSource,
        mechanism: Mechanism,
    ) -> Result<Credential, GssError> {
        match source {
            InitiatorSource::DefaultCcache => acquire(
                None,
                GSS_C_INITIATE,
                mechanism,
                &[],
                "acquiring initiator credentials from the default ticket cache",
            ),
            InitiatorSource::Ccache(cc) => {
                let cc = if cc.contains(':') {
                    cc.clone()
                } else {
                    format!("FILE:{cc}")
                };
                acquire(
                    None,
                    GSS_C_INITIATE,
                    mechanism,
                    &[("ccache", &cc)],
                    &format!("acquiring initiator credentials from ticket cache {cc}"),
                )
            }
            InitiatorSource::ClientKeytab { keytab, principal } => {
                let name = Name::import(principal, NameType::Principal)?;
                // A private in-memory cache: tickets got from the keytab must not land in
                // (or be taken from) the user's default cache.
                let cc = format!("MEMORY:hafs-{}", random_suffix());
                let mut cred = acquire(
                    Some(&name),
                    GSS_C_INITIATE,
                    mechanism,
                    &[("client_keytab", keytab), ("ccache", &cc)],
                    &format!(
                        "acquiring initiator credentials for {principal} from client keytab {keytab}"
                    ),
                )?;
                cred.principal = Some(principal.clone());
                Ok(cred)
            }
        }
    }

    /// The principal named when the credential was acquired, if one was.
    pub fn principal(&self) -> Option<&str> {
        self.principal.as_deref()
    }
}

fn random_suffix() -> String {
    let mut b = [0u8; 8];
    // A name collision would only share a memory cache between two credentials of
    // this process; fall back to the address of a local if the OS has no randomness.
    if getrandom::fill(&mut b).is_err() {
        b = (&b as *const _ as usize as u64).to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn acquire(
    name: Option<&Name>,
    usage: c_int,
    mechanism: Mechanism,
    store: &[(&str, &str)],
    what: &str,
) -> Result<Credential, GssError> {
    let lib = library()?;
    let owned: Vec<(CString, CString)> = store
        .iter()
        .map(|(k, v)| Ok((c_string("credential store key", k)?, c_string(what, v)?)))
        .collect::<Result<_, GssError>>()?;
    let mut elements: Vec<KeyValueElement> = owned
        .iter()
        .map(|(k, v)| KeyValueElement {
            key: k.as_ptr(),
            value: v.as_ptr(),
        })
        .collect();
    let set = KeyValueSet {
        count: elements.len() as OmUint32,
        elements: elements.as_mut_ptr(),
    };
    // SPNEGO credentials hold Kerberos ones too: an SPNEGO acceptor also takes raw
    // Kerberos tokens (Hadoop's Java client sends those), and the SPNEGO mechanism
    // itself runs Kerberos underneath.
    let mut mech_list: Vec<OidDesc> = match mechanism {
        Mechanism::Kerberos => vec![oid(KRB5_MECH)],
        Mechanism::Spnego => vec![oid(KRB5_MECH), oid(SPNEGO_MECH)],
    };
    let mechs = OidSetDesc {
        count: mech_list.len(),
        elements: mech_list.as_mut_ptr(),
    };
    let mut minor = 0;
    let mut handle: GssCred = std::ptr::null_mut();
    // SAFETY: every pointer is to a local (or `owned`'s strings) alive for the call; the
    // store is only read; `handle` receives a credential released in Drop; the actual
    // mechanisms and lifetime outputs are not wanted (null).
    let major = unsafe {
        (lib.acquire_cred_from)(
            &mut minor,
            name.map_or(std::ptr::null_mut(), |n| n.handle),
            GSS_C_INDEFINITE,
            &mechs,
            usage,
            &set,
            &mut handle,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    if is_error(major) {
        return Err(GssError::call(lib, what, major, minor));
    }
    Ok(Credential {
        lib,
        handle,
        principal: None,
    })
}

impl Drop for Credential {
    fn drop(&mut self) {
        if !self.handle.is_null() {
            let mut minor = 0;
            // SAFETY: the credential came from the library and is released once.
            unsafe { (self.lib.release_cred)(&mut minor, &mut self.handle) };
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("principal", &self.principal)
            .finish()
    }
}

// ------------------------------------------------------------------------- contexts

/// What one context-establishment step produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The token for the peer (may be empty).
    pub token: Vec<u8>,
    /// True once this side's context is established.
    pub established: bool,
}

/// A security context (`gss_ctx_id_t`), deleted on drop: the initiator side
/// ([`SecurityContext::initiator`]) or the acceptor side ([`SecurityContext::acceptor`]).
pub struct SecurityContext {
    lib: &'static Library,
    handle: GssCtx,
    cred: Arc<Credential>,
    /// The target, for an initiator.
    target: Option<Name>,
    flags: u32,
    /// The mechanism an initiator asks for (an acceptor follows the client's token).
    mechanism: Mechanism,
    established: bool,
    /// The client principal, for an acceptor once established.
    peer: Option<String>,
}

// SAFETY: an MIT context is a heap object not tied to a thread; `&mut self` on every
// operation keeps it to one thread at a time.
unsafe impl Send for SecurityContext {}

impl SecurityContext {
    /// A client context towards `target`, requesting `flags` (never delegation).
    pub fn initiator(cred: Arc<Credential>, target: Name, flags: u32) -> Result<Self, GssError> {
        SecurityContext::initiator_for(cred, target, flags, Mechanism::Kerberos)
    }

    /// A client context for `mechanism` (its credential must have been acquired for it).
    pub fn initiator_for(
        cred: Arc<Credential>,
        target: Name,
        flags: u32,
        mechanism: Mechanism,
    ) -> Result<Self, GssError> {
        Ok(SecurityContext {
            lib: library()?,
            handle: std::ptr::null_mut(),
            cred,
            target: Some(target),
            flags: flags & !DELEG_FLAG,
            mechanism,
            established: false,
            peer: None,
        })
    }

    /// A server context accepting with `cred`.
    pub fn acceptor(cred: Arc<Credential>) -> Result<Self, GssError> {
        Ok(SecurityContext {
            lib: library()?,
            handle: std::ptr::null_mut(),
            cred,
            target: None,
            flags: 0,
            mechanism: Mechanism::Kerberos,
            established: false,
            peer: None,
        })
    }

    pub fn is_established(&self) -> bool {
        self.established
    }

    /// The authenticated client principal (`alice@HAFS.TEST`), on an established acceptor.
    pub fn peer_principal(&self) -> Option<&str> {
        self.peer.as_deref()
    }

    /// One context-establishment step: `input` is the peer's last token (none for an
    /// initiator's first step).
    pub fn step(&mut self, input: Option<&[u8]>) -> Result<Step, GssError> {
        if self.established {
            return Err(GssError::Refused(
                "the security context is already established".into(),
            ));
        }
        let input = input.unwrap_or(&[]);
        if input.len() > MAX_CONTEXT_TOKEN {
            return Err(GssError::Refused(format!(
                "context token of {} bytes is over the {MAX_CONTEXT_TOKEN}-byte limit",
                input.len()
            )));
        }
        match &self.target {
            Some(_) => self.init_step(input),
            None => self.accept_step(input),
        }
    }

    fn init_step(&mut self, input: &[u8]) -> Result<Step, GssError> {
        let lib = self.lib;
        let target = self
            .target
            .as_ref()
            .map_or(std::ptr::null_mut(), |t| t.handle);
        let mut copy = input.to_vec();
        let in_buf = BufferDesc::owning(&mut copy);
        let mut out = BufferDesc::empty();
        let mech = oid(match self.mechanism {
            Mechanism::Kerberos => KRB5_MECH,
            Mechanism::Spnego => SPNEGO_MECH,
        });
        let mut minor = 0;
        let mut ret_flags = 0;
        // SAFETY: the context handle is ours (null on the first call, when the library
        // creates it); cred and target are live handles; buffers borrow locals; no
        // channel bindings; the output buffer is released by take_buffer.
        let major = unsafe {
            (lib.init_sec_context)(
                &mut minor,
                self.cred.handle,
                &mut self.handle,
                target,
                &mech,
                self.flags,
                0,
                std::ptr::null(),
                &in_buf,
                std::ptr::null_mut(),
                &mut out,
                &mut ret_flags,
                std::ptr::null_mut(),
            )
        };
        let token = take_buffer(lib, &mut out);
        if is_error(major) {
            return Err(GssError::call(
                lib,
                "initiating the GSS context",
                major,
                minor,
            ));
        }
        self.established = major == GSS_S_COMPLETE;
        if self.established && self.flags & MUTUAL_FLAG != 0 && ret_flags & MUTUAL_FLAG == 0 {
            return Err(GssError::Refused(
                "the server did not authenticate itself (no mutual authentication)".into(),
            ));
        }
        Ok(Step {
            token,
            established: self.established,
        })
    }

    fn accept_step(&mut self, input: &[u8]) -> Result<Step, GssError> {
        let lib = self.lib;
        let mut copy = input.to_vec();
        let in_buf = BufferDesc::owning(&mut copy);
        let mut out = BufferDesc::empty();
        let mut src: GssName = std::ptr::null_mut();
        let mut delegated: GssCred = std::ptr::null_mut();
        let mut minor = 0;
        let mut ret_flags = 0;
        // SAFETY: as in init_step; `src` and `delegated` receive objects we own and
        // release right below.
        let major = unsafe {
            (lib.accept_sec_context)(
                &mut minor,
                &mut self.handle,
                self.cred.handle,
                &in_buf,
                std::ptr::null(),
                &mut src,
                std::ptr::null_mut(),
                &mut out,
                &mut ret_flags,
                std::ptr::null_mut(),
                &mut delegated,
            )
        };
        if !delegated.is_null() {
            // A client that delegates anyway gets its TGT thrown away: nothing here acts
            // on a user's behalf beyond the connection.
            let mut m = 0;
            // SAFETY: the library handed us this credential; released once.
            unsafe { (lib.release_cred)(&mut m, &mut delegated) };
        }
        let token = take_buffer(lib, &mut out);
        let peer = if is_error(major) || src.is_null() {
            None
        } else {
            Some(display_name(lib, src))
        };
        release_name(lib, &mut src);
        if is_error(major) {
            return Err(GssError::call(
                lib,
                "accepting the client's GSS context",
                major,
                minor,
            ));
        }
        if major == GSS_S_COMPLETE {
            self.peer = Some(peer.ok_or_else(|| {
                GssError::Refused("the established context has no client name".into())
            })??);
            self.established = true;
        } else if major != GSS_S_CONTINUE_NEEDED {
            return Err(GssError::call(
                lib,
                "accepting the client's GSS context",
                major,
                minor,
            ));
        }
        Ok(Step {
            token,
            established: self.established,
        })
    }

    /// The flags the established context actually has (`gss_inquire_context`).
    pub fn flags(&self) -> Result<u32, GssError> {
        let lib = self.lib;
        self.require_established()?;
        let mut minor = 0;
        let mut flags = 0;
        // SAFETY: the context is live; every output but the flags is not wanted (null).
        let major = unsafe {
            (lib.inquire_context)(
                &mut minor,
                self.handle,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                &mut flags,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if is_error(major) {
            return Err(GssError::call(lib, "inquiring the context", major, minor));
        }
        Ok(flags)
    }

    fn require_established(&self) -> Result<(), GssError> {
        if self.established {
            Ok(())
        } else {
            Err(GssError::Refused(
                "the security context is not established".into(),
            ))
        }
    }

    /// Protects `data`: encrypted and MACed when `encrypt`, else MACed only.
    pub fn wrap(&mut self, data: &[u8], encrypt: bool) -> Result<Vec<u8>, GssError> {
        let lib = self.lib;
        self.require_established()?;
        let in_buf = BufferDesc::borrowing(data);
        let mut out = BufferDesc::empty();
        let mut conf_state: c_int = 0;
        let mut minor = 0;
        // SAFETY: live context; `in_buf` borrows `data`; `out` is released by take_buffer.
        let major = unsafe {
            (lib.wrap)(
                &mut minor,
                self.handle,
                c_int::from(encrypt),
                0,
                &in_buf,
                &mut conf_state,
                &mut out,
            )
        };
        let token = take_buffer(lib, &mut out);
        if is_error(major) {
            return Err(GssError::call(lib, "wrapping a message", major, minor));
        }
        if encrypt && conf_state == 0 {
            return Err(GssError::Refused(
                "the GSS library did not encrypt a message that asked for privacy".into(),
            ));
        }
        Ok(token)
    }

    /// Checks and opens a wrapped message; returns the data and whether it was
    /// encrypted. Replayed, reordered or missing messages are refused.
    pub fn unwrap(&mut self, token: &[u8]) -> Result<(Vec<u8>, bool), GssError> {
        let lib = self.lib;
        self.require_established()?;
        if token.len() > MAX_WRAPPED_MESSAGE {
            return Err(GssError::Refused(format!(
                "wrapped message of {} bytes is over the {MAX_WRAPPED_MESSAGE}-byte limit",
                token.len()
            )));
        }
        let mut copy = token.to_vec();
        let in_buf = BufferDesc::owning(&mut copy);
        let mut out = BufferDesc::empty();
        let mut conf_state: c_int = 0;
        let mut qop_state: OmUint32 = 0;
        let mut minor = 0;
        // SAFETY: as in wrap.
        let major = unsafe {
            (lib.unwrap)(
                &mut minor,
                self.handle,
                &in_buf,
                &mut out,
                &mut conf_state,
                &mut qop_state,
            )
        };
        let data = take_buffer(lib, &mut out);
        if is_error(major) {
            return Err(GssError::call(lib, "unwrapping a message", major, minor));
        }
        let out_of_order =
            GSS_S_DUPLICATE_TOKEN | GSS_S_OLD_TOKEN | GSS_S_UNSEQ_TOKEN | GSS_S_GAP_TOKEN;
        if major & out_of_order != 0 {
            return Err(GssError::call(
                lib,
                "unwrapping a message (replayed, old or out of order)",
                major & out_of_order,
                0,
            ));
        }
        Ok((data, conf_state != 0))
    }
}

impl Drop for SecurityContext {
    fn drop(&mut self) {
        if !self.handle.is_null() {
            let mut minor = 0;
            // SAFETY: the context came from the library and is deleted once; no output
            // token is wanted (null).
            unsafe {
                (self.lib.delete_sec_context)(&mut minor, &mut self.handle, std::ptr::null_mut())
            };
        }
    }
}

impl fmt::Debug for SecurityContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityContext")
            .field("initiator", &self.target.is_some())
            .field("established", &self.established)
            .field("peer", &self.peer)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_library_says_what_kerberos_needs() {
        let err = match open("libgssapi_krb5_absent.so.9") {
            Ok(_) => panic!("a library that does not exist loaded"),
            Err(e) => e,
        };
        assert!(
            err.contains("libgssapi_krb5_absent.so.9 could not be loaded"),
            "{err}"
        );
        assert!(err.contains("MIT Kerberos"), "{err}");
    }

    #[test]
    fn the_system_library_loads_and_explains_status_codes() {
        let lib = library().expect("libgssapi_krb5.so.2 is on the base image");
        // GSS_S_BAD_NAME is routine error 2; the text is MIT's own. (Mechanism minor
        // codes, like "Request is a replay", are checked against a real KDC in
        // crates/tests/tests/security_gssapi.rs.)
        let text = GssError::call(lib, "importing", 2 << 16, 0).to_string();
        assert_eq!(text, "importing: An invalid name was supplied");
    }

    #[test]
    fn principal_names_import_display_and_refuse_nul_bytes() {
        let name = Name::import("nn/localhost@HAFS.TEST", NameType::Principal).unwrap();
        assert_eq!(name.display().unwrap(), "nn/localhost@HAFS.TEST");
        assert!(Name::import("a\0b", NameType::Principal).is_err());
    }
}
