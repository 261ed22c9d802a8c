//! The `kiln` binary as a user runs it.

use std::process::Command;

fn kiln(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kiln")).args(args).output().expect("the kiln binary runs")
}

#[test]
fn devices_lists_the_cpu_with_a_fingerprint() {
    let out = kiln(&["devices", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("devices --json prints JSON");
    let devs = v["devices"].as_array().expect("a device list");
    let cpu = devs.iter().find(|d| d["selector"] == "cpu").expect("the CPU is listed");
    assert_eq!(cpu["backend"], "cranelift-jit");
    assert!(cpu["threads"].as_u64().unwrap() >= 1);
    assert!(cpu["fingerprint"].as_str().unwrap().contains("cranelift-jit"));

    let out = kiln(&["devices"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("cpu: "));
}

#[test]
fn a_bad_flag_is_a_clear_error_not_a_panic() {
    let out = kiln(&["devices", "--nope"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unexpected argument '--nope'"), "{err}");
    assert!(!err.contains("panicked"));
}
