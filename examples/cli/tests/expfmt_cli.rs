//! `ipocket expfmt dump|check` on the OpenMetrics rules of issue #20: exact timestamps of any
//! size, and a histogram without its `+Inf` bucket.

use std::process::{Command, Output};

fn expfmt(args: &[&str], body: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.om");
    std::fs::write(&file, body).unwrap();
    Command::new(env!("CARGO_BIN_EXE_ipocket"))
        .arg("expfmt")
        .args(args)
        .arg(&file)
        .arg("--openmetrics")
        .output()
        .unwrap()
}

#[test]
fn dump_prints_exact_timestamps() {
    let out = expfmt(
        &["dump"],
        "a_total 1 12345678901234567890.1234567890\nb_total 1 1.0015\nc_total 1 1700000000.5\n# EOF\n",
    );
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout,
        "{\"name\":\"a_total\",\"labels\":{},\"value\":\"1\",\"timestamp\":\"12345678901234567890.123456789\"}\n\
         {\"name\":\"b_total\",\"labels\":{},\"value\":\"1\",\"timestamp_ms\":1001,\"timestamp\":\"1.0015\"}\n\
         {\"name\":\"c_total\",\"labels\":{},\"value\":\"1\",\"timestamp_ms\":1700000000500}\n"
    );
}

#[test]
fn check_names_the_missing_inf_bucket() {
    let out = expfmt(
        &["check"],
        "# TYPE h histogram\nh_count 1\nh_sum 1\n# EOF\n",
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        format!("{stdout}{stderr}").contains(
            "in.om:2:1: histogram series has no le=\"+Inf\" bucket (h_bucket{le=\"+Inf\"} is missing)"
        ),
        "{stdout}{stderr}"
    );
}
