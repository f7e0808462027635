//! The binary under test is the one docs/install.md deploys: self-contained, and able to
//! find a registrar by name without the host's C library.

use std::process::Command;

use crate::gandi::{TOKEN, fake};
use crate::util::{TempDir, assert_answer, binary, get, run};

/// Whether the program headers name a dynamic loader (`PT_INTERP`). Read from the ELF file
/// itself, so the answer does not depend on which `file` the machine has.
fn has_interpreter(elf: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    assert_eq!(&elf[..5], b"\x7fELF\x02", "not a 64-bit ELF file");
    let u16_at = |at: usize| u16::from_le_bytes([elf[at], elf[at + 1]]) as usize;
    let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().unwrap()) as usize;
    let (table, entry_size, count) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    (0..count).any(|i| {
        let at = table + i * entry_size;
        u32::from_le_bytes(elf[at..at + 4].try_into().unwrap()) == PT_INTERP
    })
}

#[test]
fn the_release_binary_is_statically_linked() {
    if std::env::var_os("DDNS_CGI_BINARY").is_none() {
        // Only reachable outside CI (util::binary refuses it there): cargo's own test build
        // is dynamic on purpose, and this test is about the deployed one.
        eprintln!("not checked: DDNS_CGI_BINARY is not set, so the debug build is under test");
        return;
    }
    let elf = std::fs::read(binary()).unwrap();
    assert!(
        !has_interpreter(&elf),
        "{} needs a dynamic loader",
        binary()
    );
    let file = Command::new("file")
        .arg("-b")
        .arg(binary())
        .output()
        .expect("run file(1); ci/install-deps.sh installs it");
    let said = String::from_utf8_lossy(&file.stdout);
    assert!(said.contains("statically linked"), "file says: {said}");
}

/// Static glibc resolves through /etc/hosts (and DNS) without loading NSS modules, so a
/// registrar URL with a host name works; `localhost` is in every /etc/hosts.
#[test]
fn a_registrar_named_by_host_name_is_found_through_etc_hosts() {
    let dir = TempDir::new("release-hosts");
    let gandi = fake();
    let url = gandi.base_url().replace("127.0.0.1", "localhost");
    assert!(url.starts_with("http://localhost:"), "{url}");
    let cfg = dir.write_config(
        "ddns.ini",
        &format!(
            "[default]\nallowed_hostnames = home.example.com\n\n[gandi]\ntoken = {TOKEN}\nurl = {url}\nzones = example.com\n"
        ),
    );
    let answer = run(&cfg, &get("hostname=home.example.com&myip=84.17.5.9"));
    assert_answer(&answer, "200 OK", "good 84.17.5.9\n");
    assert_eq!(
        gandi
            .rrset("example.com", "home", "A")
            .map(|r| r.values.clone()),
        Some(vec!["84.17.5.9".to_string()])
    );
}
