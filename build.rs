//! Build script: keeps `include/xsk_rs.h` in step with the C ABI in `src/ffi/`
//! and with the package version (its `XSK_RS_VERSION_*` macros).
//!
//! The shared library is not linked here: the Makefile links it from the
//! static archive with the symbol versions of `abi/xsk_rs.map` and the
//! soname `libxsk_rs.so.<major>` (see Cargo.toml's `[lib]`).
//!
//! The header is generated from the FFI layer only. It is committed, so a C user
//! needs no Rust tooling to read it; `XSK_RS_HEADER_CHECK=1` turns generation into
//! a check that fails when the committed file is stale (CI, `make check-header`).
//!
//! A packaged copy (the `.crate` that `cargo package` builds and verifies, or
//! the one a Rust user's cargo unpacks) ships the header and is never written
//! to: cargo refuses a build script that modifies it, and a registry source is
//! not ours to edit.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process;

/// Root of the C ABI. cbindgen follows the `mod` declarations in it, so every
/// module of `src/ffi/` is covered, and nothing outside it is.
const FFI_ROOT: &str = "src/ffi/mod.rs";
const HEADER: &str = "include/xsk_rs.h";
const CHECK_VAR: &str = "XSK_RS_HEADER_CHECK";
/// Written by `cargo package` into every packaged copy, and in no checkout.
const PACKAGED_MARKER: &str = "Cargo.toml.orig";

fn main() {
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));

    // The header is deliberately not listed in normal mode: this script writes
    // it, and a listed output would make every build dirty again.
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-env-changed={CHECK_VAR}");

    let generated = match generate(&root) {
        Ok(bytes) => bytes,
        Err(msg) => fail(&format!("generating {HEADER} with cbindgen failed: {msg}")),
    };
    let path = root.join(HEADER);
    let check = env::var(CHECK_VAR).is_ok_and(|v| !v.is_empty() && v != "0");
    if check {
        // Check mode never writes, so the header can be watched here: a hand edit
        // after a passing check must make the next check run again.
        println!("cargo:rerun-if-changed={HEADER}");
        check_header(&path, &generated);
    } else if root.join(PACKAGED_MARKER).is_file() {
        // Only an edit of the unpacked sources can get here: the packaged
        // header was generated from the packaged src/ffi.
        if !fs::read(&path).is_ok_and(|old| old == generated) {
            println!("cargo:warning={HEADER} differs from src/ffi; a packaged copy is not rewritten");
        }
    } else {
        write_if_changed(&path, &generated);
    }
}

fn generate(root: &Path) -> Result<Vec<u8>, String> {
    let mut config = cbindgen::Config::from_file(root.join("cbindgen.toml"))?;
    config.after_includes = Some(version_macros());
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join(FFI_ROOT))
        .generate()
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    bindings.write(&mut out);
    Ok(out)
}

/// The header's `XSK_RS_VERSION_*` macros, from the package version: what a
/// program was compiled against, to compare with `xsk_rs_version()`, the
/// library it runs with.
fn version_macros() -> String {
    let var = |name: &str| env::var(name).unwrap_or_else(|_| fail(&format!("cargo sets {name}")));
    let (major, minor, patch) =
        (var("CARGO_PKG_VERSION_MAJOR"), var("CARGO_PKG_VERSION_MINOR"), var("CARGO_PKG_VERSION_PATCH"));
    let version = var("CARGO_PKG_VERSION");
    format!(
        "\n\
         /*\n \
         * The release of libxsk_rs this header belongs to. xsk_rs_version() gives\n \
         * the library's own at run time: a program built against this header runs\n \
         * with any later libxsk_rs.so.{major} (README: \"Versions and the ABI\").\n \
         */\n\
         #define XSK_RS_VERSION_MAJOR {major}\n\
         #define XSK_RS_VERSION_MINOR {minor}\n\
         #define XSK_RS_VERSION_PATCH {patch}\n\
         #define XSK_RS_VERSION_STRING \"{version}\"\n\
         \n\
         /* Nonzero when this header is release major.minor.patch or later; for #if. */\n\
         #define XSK_RS_VERSION_AT_LEAST(major, minor, patch) \\\n    \
         (XSK_RS_VERSION_MAJOR > (major) || \\\n     \
         (XSK_RS_VERSION_MAJOR == (major) && \\\n      \
         (XSK_RS_VERSION_MINOR > (minor) || \\\n       \
         (XSK_RS_VERSION_MINOR == (minor) && XSK_RS_VERSION_PATCH >= (patch)))))"
    )
}

/// Leaves the file (and its mtime) alone when the content is unchanged, so that
/// `make` rules depending on the header do not fire on every cargo run.
fn write_if_changed(path: &Path, generated: &[u8]) {
    if fs::read(path).is_ok_and(|old| old == generated) {
        return;
    }
    if let Some(dir) = path.parent() {
        if let Err(e) = fs::create_dir_all(dir) {
            fail(&format!("creating {}: {e}", dir.display()));
        }
    }
    // Write a sibling and rename it over, so a reader never sees half a header.
    let tmp = path.with_extension("h.tmp");
    if let Err(e) = fs::write(&tmp, generated).and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        fail(&format!("writing {}: {e}", path.display()));
    }
}

fn check_header(path: &Path, generated: &[u8]) {
    let committed = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => fail(&format!(
            "{CHECK_VAR} is set but {HEADER} cannot be read ({e}).\n\
             Run `cargo build` without {CHECK_VAR} to generate it, then commit it."
        )),
    };
    if committed == generated {
        return;
    }
    let committed = String::from_utf8_lossy(&committed);
    let generated = String::from_utf8_lossy(generated);
    let mut old = committed.lines();
    let mut new = generated.lines();
    let mut line = 1;
    let (was, now) = loop {
        match (old.next(), new.next()) {
            (Some(a), Some(b)) if a == b => line += 1,
            (a, b) => break (a.unwrap_or("<end of file>"), b.unwrap_or("<end of file>")),
        }
    };
    fail(&format!(
        "{HEADER} is stale: it differs from what cbindgen generates from src/ffi.\n\
         first difference at line {line}:\n  committed: {was}\n  generated: {now}\n\
         Run `cargo build` without {CHECK_VAR} to regenerate it, then commit it."
    ));
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    process::exit(1);
}
