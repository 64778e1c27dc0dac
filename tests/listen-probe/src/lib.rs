//! The e2e harness's readiness event (test-only; never part of the app).
//!
//! Neither tauri-driver nor WebKitWebDriver says when it is listening
//! (docs/ci.md, "The WebDriver start"). Preloaded into them with
//! `LD_PRELOAD`, this library wraps `listen(2)`: once the real call has
//! succeeded on a TCP socket, it sends the socket's port as one datagram to
//! the Unix socket named by `SEALBOX_LISTEN_REPORT`, where the harness is
//! waiting. The program itself sees the real call's result unchanged.
//!
//! It needs `unsafe` (a C-ABI symbol that shadows libc's, `dlsym` for the
//! real one, borrowing the caller's descriptor): the workspace denies unsafe
//! code, and this test-only crate alone allows it, in the lines below.
#![cfg(target_os = "linux")]
#![allow(unsafe_code)]

use std::ffi::{c_int, OsString};
use std::mem::ManuallyDrop;
use std::net::TcpListener;
use std::os::fd::FromRawFd;
use std::os::unix::net::UnixDatagram;
use std::sync::OnceLock;

/// Where the port is reported; unset means "report nothing".
const REPORT_TO: &str = "SEALBOX_LISTEN_REPORT";

type ListenFn = unsafe extern "C" fn(c_int, c_int) -> c_int;

/// `SEALBOX_LISTEN_REPORT` as it was when the library was loaded.
static REPORT_PATH: OnceLock<Option<OsString>> = OnceLock::new();

/// The one program that passes the probe on to its children.
const PASSES_ON: &str = "tauri-driver";

/// Runs when the library is loaded, before the program's `main` and its
/// threads: anywhere but in tauri-driver, the probe stops at this program.
extern "C" fn at_load() {
    let _ = REPORT_PATH.set(std::env::var_os(REPORT_TO));
    let passes_on = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_name().map(|name| name == PASSES_ON))
        .unwrap_or(false);
    if !passes_on {
        std::env::remove_var("LD_PRELOAD");
        std::env::remove_var(REPORT_TO);
    }
}

// SAFETY: a load-time constructor that only reads /proc/self/exe and edits
// the environment while the program is still single-threaded.
#[used]
#[link_section = ".init_array"]
static AT_LOAD: extern "C" fn() = at_load;

/// `listen(2)` as the preloaded program sees it: the real call, then a report.
///
/// # Safety
/// Called by C code in place of libc's `listen`, with libc's contract.
#[no_mangle]
pub unsafe extern "C" fn listen(fd: c_int, backlog: c_int) -> c_int {
    // SAFETY: RTLD_NEXT finds the next `listen` after this library: libc's.
    let next = unsafe { libc::dlsym(libc::RTLD_NEXT, c"listen".as_ptr()) };
    if next.is_null() {
        // SAFETY: errno is this thread's; ENOSYS says the call could not be made.
        unsafe { *libc::__errno_location() = libc::ENOSYS };
        return -1;
    }
    // SAFETY: the symbol named "listen" in libc has exactly this signature.
    let real: ListenFn = unsafe { std::mem::transmute::<*mut libc::c_void, ListenFn>(next) };
    // SAFETY: the caller's arguments, passed on unchanged.
    let rc = unsafe { real(fd, backlog) };
    if rc == 0 {
        report(fd);
    }
    rc
}

/// Sends the listening socket's port, if it is a TCP socket and someone asked.
fn report(fd: c_int) {
    let Some(to) = REPORT_PATH.get().and_then(Option::as_ref) else { return };
    // SAFETY: the descriptor is the caller's open socket; ManuallyDrop
    // borrows it for getsockname and never closes it.
    let socket = ManuallyDrop::new(unsafe { TcpListener::from_raw_fd(fd) });
    // A Unix-domain or other non-TCP socket has no port: nothing to say.
    let Ok(addr) = socket.local_addr() else { return };
    if let Ok(out) = UnixDatagram::unbound() {
        // Best effort: a harness that stopped listening loses nothing here.
        let _ = out.send_to(addr.to_string().as_bytes(), to);
    }
}
