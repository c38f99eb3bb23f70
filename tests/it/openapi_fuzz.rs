//! schemathesis (PyPI) against `/openapi.json` on both stores: requests generated from the document for every
//! operation (its coverage and fuzzing phases: boundary values, wrong types, missing and extra fields), and no answer
//! may be a 5xx. The seed is fixed so a failure reproduces; the report names the operation and the request.

use crate::common::TestServer;

both_stores!(no_generated_request_gets_a_server_error);

async fn no_generated_request_gets_a_server_error(url: &str) {
    let s = TestServer::start(url, true).await;
    let Some(python) = std::env::var_os("GRIDMAP_PYTHON") else {
        assert!(
            std::env::var("GRIDMAP_REQUIRE_PYTHON").is_err(),
            "GRIDMAP_REQUIRE_PYTHON is set but GRIDMAP_PYTHON is not"
        );
        eprintln!("skipping schemathesis: GRIDMAP_PYTHON is not set (source scripts/python-env)");
        return;
    };
    let st = std::path::Path::new(&python).with_file_name("st");
    let work = tempfile::tempdir().expect("tempdir");
    let out = tokio::process::Command::new(&st)
        .args([
            "--no-color",
            "run",
            &format!("{}/openapi.json", s.base),
            "--checks",
            "not_a_server_error",
            "--phases",
            "coverage,fuzzing",
            "--max-examples",
            "15",
            "--workers",
            "1",
            "--seed",
            "20261128",
        ])
        .current_dir(work.path())
        .output()
        .await
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&out.stdout);
    let tail: Vec<&str> = report.lines().rev().take(80).collect::<Vec<_>>().into_iter().rev().collect();
    assert!(
        out.status.success(),
        "schemathesis found server errors:\n{}\n{}",
        report,
        String::from_utf8_lossy(&out.stderr)
    );
    // It really ran: every documented operation, well over a thousand requests.
    let generated: u64 = report
        .lines()
        .find_map(|l| l.trim().strip_suffix(" passed").and_then(|l| l.split_whitespace().next()?.parse().ok()))
        .unwrap_or(0);
    assert!(generated > 1000, "too few requests generated ({generated}):\n{}", tail.join("\n"));
    assert!(report.contains("Tested: "), "{}", tail.join("\n"));
    println!("{}", tail.join("\n"));
}
