use super::*;
use crate::backend::gandi::settings::{GandiCredential, GandiSettings};
use crate::backend::schlund::settings::SchlundSettings;

fn schlund(c: &Config) -> Option<&SchlundSettings> {
    c.settings_of("schlund")
}

fn gandi(c: &Config) -> Option<&GandiSettings> {
    c.settings_of("gandi")
}

fn load(text: &str) -> Result<Config, ConfigError> {
    Config::parse_str(text, Path::new("/etc/ddns-cgi/test.ini"))
}

const WS_DDNS: &str = "[default]
username = 1234567
password = s3cret&pass%%x
context = 10
url = https://gateway.schlundtech.de
totp_secret = JBSWY3DPEHPK3PXP
allowed_hostnames = home.example.com office.example.com
";

#[test]
fn a_ws_ddns_file_loads_unchanged() {
    let c = load(WS_DDNS).unwrap();
    let s = schlund(&c).unwrap();
    assert_eq!(s.username, "1234567");
    assert_eq!(s.password.expose(), "s3cret&pass%x");
    assert_eq!(s.context, "10");
    assert_eq!(s.url, "https://gateway.schlundtech.de");
    assert_eq!(s.totp_secret.as_ref().unwrap().expose(), "JBSWY3DPEHPK3PXP");
    assert!(s.zones.is_empty());
    assert!(gandi(&c).is_none());
    match c.acl {
        Acl::Lists { global, users } => {
            assert_eq!(global.len(), 2);
            assert!(users.is_empty());
        }
        Acl::Open => panic!("lists expected"),
    }
}

#[test]
fn defaults_match_ws_ddns() {
    let c = load("[default]\nusername = u\npassword = p\n").unwrap();
    let s = schlund(&c).unwrap();
    assert_eq!(s.url, crate::backend::schlund::settings::DEFAULT_URL);
    assert_eq!(s.context, "10");
    assert_eq!(c.acl, Acl::Open);
    assert_eq!(c.general.max_hostnames, 20);
    assert_eq!(c.general.realm, "ddns");
}

#[test]
fn errors_name_file_line_section_and_key() {
    let e = load("[default]\nusername = u\npassword = p\ncolour = blue\n").unwrap_err();
    assert_eq!(e.line, Some(4));
    assert_eq!(e.key.as_deref(), Some("colour"));
    assert!(
        e.to_string()
            .starts_with("config /etc/ddns-cgi/test.ini line 4, [default] colour: unknown key"),
        "{e}"
    );

    let e = load("[default]\nusername = u\npassword = p\ncreate_missing_records = maybe\n")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "config /etc/ddns-cgi/test.ini line 4, [default] create_missing_records: `maybe` is not yes/no (also true/false, on/off, 1/0)"
    );

    let e = load("[default]\nusername = u\n").unwrap_err();
    assert_eq!(e.key.as_deref(), Some("password"));

    let e = load("[default]\nusername = u\npassword = 50%off\n").unwrap_err();
    assert!(!e.to_string().contains("off"), "{e}");
    assert_eq!(e.line, Some(3));

    let e = load("[default]\nusername = u\npassword = p\ntotp_secret = not base32!\n").unwrap_err();
    assert_eq!(e.key.as_deref(), Some("totp_secret"));
    assert!(!e.to_string().contains("not base32"));

    let e = load("[default]\nusername = u\npassword = p\ncontext = \"10\"\n").unwrap_err();
    assert_eq!(e.key.as_deref(), Some("context"));

    let e = load("[default]\nrealm = x\n").unwrap_err();
    assert!(e.problem.contains("no registrar configured"), "{e}");

    let e = load("[default]\nusername = u\npassword = p\n[mystery]\n").unwrap_err();
    assert_eq!(e.section.as_deref(), Some("mystery"));

    let e = load(
        "[default]\nusername = u\npassword = p\nallowed_hostnames = ok.example.com bad..name\n",
    )
    .unwrap_err();
    assert_eq!(e.key.as_deref(), Some("allowed_hostnames"));
}

#[test]
fn user_sections_and_gandi() {
    let c = load(
        "[default]
allowed_hostnames = home.example.com
log_level = debug
[gandi]
token = pat_abc
zones = example.com
ttl = 600
[user:alice]
allowed_hostnames = *.alice.example.com
use_global = no
",
    )
    .unwrap();
    assert!(schlund(&c).is_none());
    let g = gandi(&c).unwrap();
    assert_eq!(g.url, crate::backend::gandi::settings::DEFAULT_URL);
    assert_eq!(g.zones, ["example.com"]);
    assert_eq!(g.ttl, Some(600));
    assert!(matches!(g.credential, GandiCredential::Token(ref t) if t.expose() == "pat_abc"));
    assert_eq!(c.general.log_level, Level::Debug);
    let host: crate::hostname::Hostname = "a.alice.example.com".parse().unwrap();
    assert!(c.acl.allows("alice", &host));
    assert!(!c.acl.allows("alice", &"home.example.com".parse().unwrap()));
    // A directory login passes the name as typed; the narrowing still applies.
    assert!(c.acl.allows("Alice", &host));
    assert!(!c.acl.allows("ALICE", &"home.example.com".parse().unwrap()));
}

#[test]
fn user_sections_differing_only_in_case_are_refused() {
    let e = load(
        "[default]\nusername = u\npassword = p\n[user:bob]\nallowed_hostnames = a.example.com\n[user:Bob]\nallowed_hostnames = b.example.com\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("other letter case"), "{e}");
}

#[test]
fn debug_output_never_shows_secrets() {
    let c = load(WS_DDNS).unwrap();
    let debug = format!("{c:?}");
    assert!(!debug.contains("s3cret"));
    assert!(!debug.contains("JBSWY3DPEHPK3PXP"));
}

#[test]
fn the_example_config_is_valid() {
    let text = include_str!("../../config.example.ini");
    load(text).unwrap();
}

#[test]
fn default_alone_still_limits_every_user() {
    let c = load(
        "[DEFAULT]
allowed_hostnames = home.example.com
state_dir = /var/lib/elsewhere

[gandi]
token = t
zones = example.com

[user:bob]
use_global = no
",
    )
    .unwrap();
    assert_eq!(c.general.state_dir, Path::new("/var/lib/elsewhere"));
    let host = |s: &str| s.parse().unwrap();
    assert_ne!(c.acl, Acl::Open);
    assert!(c.acl.allows("alice", &host("home.example.com")));
    assert!(!c.acl.allows("alice", &host("a.b.example.com")));
    // [DEFAULT] is not bob's own list: narrowed to his own (empty) list, he may change nothing.
    assert!(!c.acl.allows("bob", &host("home.example.com")));
}

#[test]
fn default_use_global_still_reaches_user_sections() {
    let c = load(
        "[DEFAULT]
use_global = no

[default]
allowed_hostnames = *.example.com

[gandi]
token = t

[user:bob]
allowed_hostnames = bob.example.com
",
    )
    .unwrap();
    let host = |s: &str| s.parse().unwrap();
    assert!(c.acl.allows("bob", &host("bob.example.com")));
    assert!(!c.acl.allows("bob", &host("alice.example.com")));
    assert!(c.acl.allows("alice", &host("alice.example.com")));
}

#[test]
fn registrar_keys_in_default_alone_are_for_the_registrar_sections() {
    let c = load("[DEFAULT]\nttl = 600\n\n[gandi]\ntoken = t\n").unwrap();
    assert!(schlund(&c).is_none());
    assert_eq!(gandi(&c).unwrap().ttl, Some(600));

    let c = load(
        "[DEFAULT]
zones = example.com

[schlund]
username = 1234567
password = p

[gandi]
token = t
",
    )
    .unwrap();
    assert_eq!(schlund(&c).unwrap().zones, ["example.com"]);
    assert_eq!(gandi(&c).unwrap().zones, ["example.com"]);

    // The same with a [default] section of general settings only.
    let c = load("[DEFAULT]\nttl = 600\n\n[default]\nallowed_hostnames = h.example.com\n\n[gandi]\ntoken = t\n")
        .unwrap();
    assert!(schlund(&c).is_none());
    assert_eq!(gandi(&c).unwrap().ttl, Some(600));
    let c = load(
        "[DEFAULT]
zones = example.com

[default]
allowed_hostnames = h.example.com

[schlund]
username = 1234567
password = p

[gandi]
token = t
",
    )
    .unwrap();
    assert_eq!(schlund(&c).unwrap().zones, ["example.com"]);

    // A ws.ddns account in [default] still takes [DEFAULT]'s shared keys.
    let c =
        load("[DEFAULT]\nurl = https://gw.example.net\n\n[default]\nusername = 1\npassword = p\n")
            .unwrap();
    assert_eq!(schlund(&c).unwrap().url, "https://gw.example.net");
}

#[test]
fn user_section_names_must_be_login_names() {
    let cases = [
        (
            "[user:alice ]",
            "config /etc/ddns-cgi/test.ini line 4, [user:alice ]: the user name has trailing white space, so no login can match it (such names are refused with badauth); write it as [user:alice]",
        ),
        (
            "[user: alice]",
            "config /etc/ddns-cgi/test.ini line 4, [user: alice]: the user name has leading white space, so no login can match it (such names are refused with badauth); write it as [user:alice]",
        ),
        (
            "[user:alice\t]",
            "config /etc/ddns-cgi/test.ini line 4, [user:alice\\t]: the user name has trailing white space, so no login can match it (such names are refused with badauth); write it as [user:alice]",
        ),
        (
            "[user:ali\u{1b}ce]",
            "config /etc/ddns-cgi/test.ini line 4, [user:ali\\u{1b}ce]: the user name holds a control character, so no login can match it (such names are refused with badauth)",
        ),
        (
            "[user:]",
            "config /etc/ddns-cgi/test.ini line 4, [user:]: the user name is empty, so no login can match it (such names are refused with badauth)",
        ),
        (
            "[user:ALİCE]",
            "config /etc/ddns-cgi/test.ini line 4, [user:ALİCE]: the user name holds a byte outside printable ASCII, so no login can match it (such names are refused with badauth)",
        ),
    ];
    for (header, error) in cases {
        let text = format!(
            "[default]\nusername = u\npassword = p\n{header}\nallowed_hostnames = a.example.com\n"
        );
        assert_eq!(load(&text).unwrap_err().to_string(), error, "{header:?}");
    }
    // Inner blanks are part of a login name.
    let c = load("[default]\nusername = u\npassword = p\n[user:Alice Smith]\nallowed_hostnames = a.example.com\nuse_global = no\n").unwrap();
    assert!(
        c.acl
            .allows("alice smith", &"a.example.com".parse().unwrap())
    );
}

#[test]
fn a_user_name_matches_its_section_after_ascii_case_folding_only() {
    let c = load(
        "[default]\nusername = u\npassword = p\nallowed_hostnames = home.example.com\n[user:Alice]\nallowed_hostnames = a.example.com\nuse_global = no\n",
    )
    .unwrap();
    let home: crate::hostname::Hostname = "home.example.com".parse().unwrap();
    let own: crate::hostname::Hostname = "a.example.com".parse().unwrap();
    for spelling in ["alice", "ALICE", "aLiCe"] {
        assert!(c.acl.allows(spelling, &own), "{spelling}");
        assert!(!c.acl.allows(spelling, &home), "{spelling}");
    }
    for variant in ["alice ", "ALİCE", "alice\u{fffd}", "alice\n"] {
        assert!(!c.acl.allows(variant, &own), "{variant:?}");
        assert!(!c.acl.allows(variant, &home), "{variant:?}");
    }
    assert!(c.acl.allows("carol", &home));
}

#[test]
fn cleartext_registrar_urls_are_refused_unless_loopback_or_allowed() {
    let schlund = |url: &str, extra: &str| {
        load(&format!(
            "[default]\nusername = u\npassword = p\nurl = {url}\n{extra}"
        ))
    };
    let e = schlund("http://gateway.schlundtech.de", "").unwrap_err();
    assert_eq!(
        e.to_string(),
        "config /etc/ddns-cgi/test.ini line 4, [default] url: `http://gateway.schlundtech.de` would carry the registrar's password, one-time codes or token in clear text; use https://, or, if the way to it is protected otherwise (a VPN, a TLS-terminating proxy on this host), set allow_insecure_url = yes in [default]"
    );
    for loopback in [
        "http://127.0.0.1:8080",
        "http://127.8.9.10",
        "http://[::1]:8080/gw",
        "http://localhost:8080",
        "http://LOCALHOST",
    ] {
        let c = schlund(loopback, "").unwrap();
        assert!(
            !super::tests::schlund(&c).unwrap().allow_insecure_url,
            "{loopback}"
        );
    }
    for not_loopback in [
        "http://10.0.0.5",
        "http://128.0.0.1",
        "http://[::2]",
        "http://localhost.example.net",
        "http://gw.localhost.evil",
        // What the URL standard would decode or rewrite to loopback, but the HTTP client
        // looks up as a name.
        "http://loc%%61lhost:8080",
        "http://127.0.0.1.:8080",
        "http://127.1",
    ] {
        let e = schlund(not_loopback, "").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("url"), "{not_loopback}");
        assert!(e.problem.contains("in clear text"), "{not_loopback}: {e}");
    }
    let c = schlund("http://10.0.0.5:8080", "allow_insecure_url = yes\n").unwrap();
    let s = super::tests::schlund(&c).unwrap();
    assert_eq!(s.url, "http://10.0.0.5:8080");
    assert!(s.allow_insecure_url);

    // The same in [schlund] and [gandi]; allow_insecure_url belongs to its own section.
    let e = load("[default]\nusername = u\npassword = p\nallow_insecure_url = yes\n[gandi]\ntoken = t\nurl = http://api.example.net/v5/livedns\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "config /etc/ddns-cgi/test.ini line 7, [gandi] url: `http://api.example.net` would carry the registrar's password, one-time codes or token in clear text; use https://, or, if the way to it is protected otherwise (a VPN, a TLS-terminating proxy on this host), set allow_insecure_url = yes in [gandi]"
    );
    let c = load("[default]\n[gandi]\ntoken = t\nurl = http://api.example.net/v5/livedns/\nallow_insecure_url = yes\n").unwrap();
    assert_eq!(gandi(&c).unwrap().url, "http://api.example.net/v5/livedns");
    let e = load("[default]\n[schlund]\nusername = u\npassword = p\nurl = http://gw.example.net\n")
        .unwrap_err();
    assert_eq!(
        (e.section.as_deref(), e.key.as_deref(), e.line),
        (Some("schlund"), Some("url"), Some(5))
    );
    let e = load(
        "[default]\nusername = u\npassword = p\nurl = http://gw.example.net\nallow_insecure_url = maybe\n",
    )
    .unwrap_err();
    assert_eq!(e.key.as_deref(), Some("allow_insecure_url"));

    // A proxy is usually reached by http://, and the registrar URL through it is https.
    let c = load("[default]\nusername = u\npassword = p\nproxy = http://proxy.example.net:3128\n")
        .unwrap();
    assert_eq!(
        c.general.proxy.as_deref(),
        Some("http://proxy.example.net:3128")
    );
}

/// The ws.ddns layout: the SchlundTech account in [DEFAULT], inherited by [default].
const WS_DDNS_IN_DEFAULT: &str = "[DEFAULT]
username = 1234567
password = p
url = https://gateway.schlundtech.de
totp_secret = JBSWY3DPEHPK3PXP

[default]
allowed_hostnames = home.example.com
";

#[test]
fn a_schlundtech_account_in_upper_default_keeps_working() {
    let c = load(WS_DDNS_IN_DEFAULT).unwrap();
    let s = schlund(&c).unwrap();
    assert_eq!(s.username, "1234567");
    assert_eq!(s.url, "https://gateway.schlundtech.de");
    assert!(s.totp_secret.is_some());
    assert!(gandi(&c).is_none());

    // A Gandi section beside it that sets its own URL inherits no URL or credential.
    let c = load(&format!(
        "{WS_DDNS_IN_DEFAULT}[gandi]\ntoken = pat_x\nurl = https://api.gandi.net/v5/livedns\n"
    ))
    .unwrap();
    assert_eq!(schlund(&c).unwrap().url, "https://gateway.schlundtech.de");
    assert_eq!(
        gandi(&c).unwrap().url,
        crate::backend::gandi::settings::DEFAULT_URL
    );
}

#[test]
fn registrar_urls_and_credentials_in_upper_default_never_reach_gandi() {
    let e = load(&format!("{WS_DDNS_IN_DEFAULT}[gandi]\ntoken = pat_x\n")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "config /etc/ddns-cgi/test.ini line 4, [DEFAULT] url: [gandi] would inherit it, but a registrar URL or credential in [DEFAULT] belongs to the SchlundTech account (as in ws.ddns files) and must not reach another registrar; set url in [gandi] itself, and move it from [DEFAULT] to [default] or [schlund] if it is SchlundTech's"
    );
    assert!(!e.to_string().contains("pat_x"));

    // Also with the account in [schlund], and for every URL or credential key.
    let cases = [
        ("url = https://gw.example.net", "url"),
        ("token = pat_y", "token"),
        ("api_key = k", "api_key"),
        ("allow_insecure_url = yes", "allow_insecure_url"),
    ];
    for (line, key) in cases {
        let e = load(&format!(
            "[DEFAULT]\n{line}\n[default]\n[schlund]\nusername = u\npassword = p\n[gandi]\ntoken = pat_x\nurl = https://api.gandi.net/v5/livedns\n"
        ));
        // A key [gandi] sets itself is not inherited.
        if key == "url" || key == "token" {
            assert!(e.is_ok(), "{line}: {e:?}");
            continue;
        }
        let e = e.unwrap_err();
        assert_eq!(
            (e.section.as_deref(), e.key.as_deref(), e.line),
            (Some("DEFAULT"), Some(key), Some(2)),
            "{line}"
        );
        assert!(e.problem.starts_with("[gandi] would inherit it"), "{e}");
    }
    // Without any SchlundTech account, a URL in [DEFAULT] still belongs to none of Gandi.
    let e = load("[DEFAULT]\nurl = https://gateway.schlundtech.de\n[gandi]\ntoken = pat_x\n")
        .unwrap_err();
    assert_eq!(
        (e.section.as_deref(), e.key.as_deref()),
        (Some("DEFAULT"), Some("url"))
    );
    let e = load("[DEFAULT]\ntoken = pat_x\n[gandi]\nzones = example.com\n").unwrap_err();
    assert_eq!(e.key.as_deref(), Some("token"));
    // Shared keys that are neither URL nor credential are still inherited (ttl, zones).
    let c = load("[DEFAULT]\nttl = 600\nzones = example.com\n[gandi]\ntoken = t\n").unwrap();
    assert_eq!(gandi(&c).unwrap().ttl, Some(600));
}

#[test]
fn several_accounts_of_one_kind_each_list_their_own_zones() {
    let c = load(
        "[default]\n[gandi]\ntoken = a\nzones = example.com\n[gandi:work]\ntoken = b\nzones = example.org example.net\n",
    )
    .unwrap();
    let labels: Vec<&str> = c.accounts.iter().map(|a| a.label.as_str()).collect();
    assert_eq!(labels, ["gandi", "gandi:work"]);
    let work: &GandiSettings = c.settings_of("gandi:work").unwrap();
    assert_eq!(work.zones, ["example.org", "example.net"]);
    assert!(matches!(work.credential, GandiCredential::Token(ref t) if t.expose() == "b"));

    let e = load("[default]\n[gandi]\ntoken = a\nzones = example.com\n[gandi:work]\ntoken = b\n")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "config /etc/ddns-cgi/test.ini, [gandi:work] zones: 2 accounts of kind gandi are configured, so each must list its zones (names are routed by them)"
    );
    let e = load(
        "[default]\n[gandi]\ntoken = a\nzones = example.com\n[gandi:work]\ntoken = b\nzones = example.org example.com\n",
    )
    .unwrap_err();
    assert_eq!(
        (e.section.as_deref(), e.key.as_deref(), e.line),
        (Some("gandi:work"), Some("zones"), Some(7))
    );
    assert!(
        e.problem
            .starts_with("zone example.com is also claimed by [gandi]"),
        "{e}"
    );

    // A second SchlundTech account beside the ws.ddns one in [default].
    let c = load(&format!(
        "{WS_DDNS}zones = example.co.uk\n[schlund:other]\nusername = 7\npassword = q\nzones = example.de\n"
    ))
    .unwrap();
    let labels: Vec<&str> = c.accounts.iter().map(|a| a.label.as_str()).collect();
    assert_eq!(labels, ["schlund", "schlund:other"]);
    assert_eq!(c.accounts[0].shown, "the SchlundTech account");
    assert_eq!(c.accounts[1].shown, "[schlund:other]");
}

#[test]
fn account_names_are_plain_and_credentials_are_never_inherited() {
    for header in ["[gandi:]", "[gandi:a b]", "[gandi:x-y]", "[gandi:ü]"] {
        let e = load(&format!(
            "[default]\n{header}\ntoken = a\nzones = example.com\n"
        ))
        .unwrap_err();
        assert!(
            e.problem.starts_with("an account name is letters"),
            "{header}: {e}"
        );
    }
    // Only the ws.ddns account takes [DEFAULT]'s credentials, not a named one of its kind.
    let e = load("[DEFAULT]\npassword = p\n[default]\nusername = u\n[schlund:other]\nusername = 7\nzones = example.de\n")
        .unwrap_err();
    assert_eq!(
        (e.section.as_deref(), e.key.as_deref()),
        (Some("DEFAULT"), Some("password"))
    );
    assert!(
        e.problem.starts_with("[schlund:other] would inherit it"),
        "{e}"
    );
}

#[test]
fn the_key_lists_cover_every_section() {
    let keys = known_keys();
    for key in [
        "allowed_hostnames",
        "use_global",
        "password",
        "token",
        "delete_on_offline",
    ] {
        assert!(keys.contains(&key), "{key}");
    }
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), keys.len(), "no key listed twice");
    assert!(section_names().contains(&"gandi:NAME".to_string()));
}

/// Adding credentials to a user's section must not widen what they may change: an inherited
/// `use_global = no` keeps narrowing them.
#[test]
fn credentials_in_a_section_keep_its_inherited_narrowing() {
    let host: crate::hostname::Hostname = "shared.example.com".parse().unwrap();
    let base = "[DEFAULT]\nuse_global = no\n[default]\nusername = u\npassword = p\nallowed_hostnames = shared.example.com\n[user:alice]\n";
    for extra in ["", "secret = correct-horse-battery\n"] {
        let c = load(&format!("{base}{extra}")).unwrap();
        assert!(!c.acl.allows("alice", &host), "{extra:?}");
        assert!(c.acl.allows("bob", &host), "{extra:?}");
    }
}

#[test]
fn credentials_for_one_user_in_two_spellings_are_refused() {
    let e = load("[default]\nusername = u\npassword = p\n[user:alice]\nsecret = correct-horse-battery\n[user:ALICE]\nsecret = another-horse-battery\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "config /etc/ddns-cgi/test.ini line 7, [user:ALICE] secret: another [user:...] section names the same user in other letter case; merge them"
    );
}

#[test]
fn the_example_client_section_loads_uncommented_and_documents_every_key() {
    let text = include_str!("../../config.example.ini");
    let start = text.find("#[client]").unwrap();
    let mut uncommented = String::from("[default]\n[gandi]\ntoken = t\n");
    for line in text[start..].lines() {
        if let Some(setting) = line.strip_prefix('#')
            && (setting.starts_with('[')
                || setting
                    .split_once(" =")
                    .is_some_and(|(k, _)| !k.contains(' ')))
        {
            uncommented.push_str(setting);
            uncommented.push('\n');
        }
    }
    for key in crate::client::settings::KEYS {
        assert!(
            uncommented.contains(&format!("\n{key} =")),
            "{key} is not documented"
        );
    }
    // command_v6 and resolve_v6 are shown empty; the methods that need them are off.
    let c = load(&uncommented).unwrap();
    assert_eq!(c.client.quorum, 2);
    assert_eq!(c.client.v4.hostnames.len(), 1);
    assert_eq!(c.client.ttl, Some(900));
    assert_eq!(c.client.recheck, std::time::Duration::from_secs(86_400));
    assert!(c.client.accepts("192.0.2.9".parse().unwrap()));
}

#[test]
fn the_example_documents_every_dialect_and_its_keys() {
    let text = include_str!("../../config.example.ini");
    let accepted = text
        .lines()
        .skip_while(|l| !l.contains("Only dialects ddns-cgi speaks are accepted:"))
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    for dialect in crate::protocol::DIALECTS {
        let name = dialect.name();
        assert!(
            accepted.contains(&format!(" {name},")) || accepted.contains(&format!(" {name}.")),
            "{name} is not among the accepted dialects: {accepted}"
        );
        let header = format!("#[dialect:{name}]\n");
        let start = text
            .find(&header)
            .unwrap_or_else(|| panic!("no {header:?} section"));
        let body = &text[start + header.len()..];
        let section = &body[..body.find("\n#[").unwrap_or(body.len())];
        let mut uncommented = format!("[default]\n[gandi]\ntoken = t\n[dialect:{name}]\n");
        for key in dialect.switches().iter().chain(dialect.settings()) {
            let line = section
                .lines()
                .find(|l| l.starts_with(&format!("#{key} =")))
                .unwrap_or_else(|| panic!("[dialect:{name}] {key} is not documented"));
            uncommented.push_str(&line[1..]);
            uncommented.push('\n');
        }
        // The documented values load, save those that need a [user:NAME].
        if !section.contains("trusted_user") {
            load(&uncommented).unwrap_or_else(|e| panic!("[dialect:{name}]: {e}"));
        }
    }
}
