//! The tuning database keeps what it is given and refuses what it cannot
//! read: concurrent writers in separate processes lose no record, a writer
//! killed mid-run leaves a readable file, and a corrupt, foreign or
//! future-schema file gives a clear error and is not modified.
//!
//! The writer processes are this test binary run again on one test
//! (`records_written_by_one_process_read_back`), told by environment
//! variables which file to write and how much.

use kiln_tuning_db::{DbError, Device, Record, TuningDb, Workload, SCHEMA_VERSION};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn device(n: usize) -> Device {
    Device { fingerprint: format!("test-device-{n}"), name: format!("Test GPU {n}"), backend: "vulkan".into(), driver: "1.0".into() }
}

fn record(writer: &str, i: usize) -> Record {
    let workload = Workload { key: format!("gemv-{}", i % 7), class: "gemv".into(), description: format!("GEMV {} x 4096", i % 7) };
    let schedule = serde_json::json!({ "writer": writer, "trial": i, "rows": 1 + i % 4 });
    Record::new(device(i % 2), workload, schedule, 1e-5 * (1.0 + (i % 13) as f64), 1e-5, 10)
}

/// Write `count` records to `path`, one transaction each (as the autotuner
/// does after each measurement), and read every one back.
fn write_records(path: &Path, writer: &str, count: usize) {
    let db = TuningDb::open(path).unwrap();
    for i in 0..count {
        assert!(db.insert(&record(writer, i)).unwrap(), "record {i} of {writer} was taken for a duplicate");
    }
    let mine = db.records(None).unwrap().into_iter().filter(|r| r.schedule["writer"] == writer).count();
    assert_eq!(mine, count);
}

/// A writer process (or, run on its own, a writer to a fresh file).
#[test]
fn records_written_by_one_process_read_back() {
    match std::env::var("KILN_TEST_DB_PATH") {
        Ok(path) => {
            let writer = std::env::var("KILN_TEST_DB_WRITER").unwrap();
            let count = std::env::var("KILN_TEST_DB_COUNT").unwrap().parse().unwrap();
            write_records(Path::new(&path), &writer, count);
        }
        Err(_) => {
            let dir = tempfile::tempdir().unwrap();
            write_records(&dir.path().join("nested/folder/tuning.db"), "alone", 50);
        }
    }
}

fn spawn_writer(path: &Path, writer: &str, count: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "records_written_by_one_process_read_back", "--nocapture", "--test-threads=1"])
        .env("KILN_TEST_DB_PATH", path)
        .env("KILN_TEST_DB_WRITER", writer)
        .env("KILN_TEST_DB_COUNT", count.to_string())
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn two_concurrent_writer_processes_lose_no_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tuning.db");
    let count = 300;
    let mut children: Vec<Child> = ["a", "b", "c"].iter().map(|w| spawn_writer(&path, w, count)).collect();
    for c in &mut children {
        assert!(c.wait().unwrap().success(), "a writer process failed");
    }
    let db = TuningDb::open(&path).unwrap();
    assert_eq!(db.counts().unwrap().records, 3 * count);
    assert_eq!(db.counts().unwrap().devices, 2);
    assert_eq!(db.counts().unwrap().workloads, 7);
}

#[test]
fn a_writer_killed_mid_run_leaves_a_readable_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tuning.db");
    let mut child = spawn_writer(&path, "killed", 1_000_000);
    // let it commit some records, then kill it without warning
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let committed = TuningDb::open(&path).ok().and_then(|db| db.counts().ok()).map_or(0, |c| c.records);
        if committed >= 20 || started.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let db = TuningDb::open(&path).unwrap();
    let records = db.records(None).unwrap();
    assert!(records.len() >= 20, "only {} records survived", records.len());
    // every committed record is whole, and the next writer carries on
    assert!(records.iter().all(|r| r.schedule["writer"] == "killed" && r.repeats == 10));
    assert!(db.insert(&record("after", 0)).unwrap());
}

fn assert_untouched(path: &Path, before: &[u8]) {
    assert_eq!(std::fs::read(path).unwrap(), before, "the refused file was modified");
}

#[test]
fn a_corrupt_file_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tuning.db");
    {
        let db = TuningDb::open(&path).unwrap();
        let many: Vec<Record> = (0..2000).map(|i| record("w", i)).collect();
        db.insert_all(&many).unwrap();
    } // closing checkpoints the WAL into the file
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 16 * 4096, "the database is only {} bytes", bytes.len());
    // scribble over pages in the middle (the b-tree pages of the records)
    for b in &mut bytes[8 * 4096..12 * 4096] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = TuningDb::open(&path).unwrap_err();
    assert!(matches!(err, DbError::Corrupt { .. } | DbError::NotATuningDb { .. }), "{err:?}");
    assert!(err.to_string().contains("left untouched"), "{err}");
    assert_untouched(&path, &bytes);
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    let text = b"these are my notes, not a database\n".repeat(100);
    std::fs::write(&path, &text).unwrap();
    let err = TuningDb::open(&path).unwrap_err();
    assert!(matches!(err, DbError::NotATuningDb { .. }), "{err:?}");
    assert!(err.to_string().contains("not a kiln tuning database"), "{err}");
    assert_untouched(&path, &text);
}

#[test]
fn another_programs_sqlite_file_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('a');").unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = TuningDb::open(&path).unwrap_err();
    assert!(matches!(err, DbError::NotATuningDb { .. }), "{err:?}");
    assert_untouched(&path, &before);
}

#[test]
fn a_future_schema_is_refused_with_both_versions_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tuning.db");
    {
        let db = TuningDb::open(&path).unwrap();
        db.insert(&record("w", 1)).unwrap();
    }
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = TuningDb::open(&path).unwrap_err();
    match &err {
        DbError::FutureSchema { found, supported, .. } => assert_eq!((*found, *supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION)),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains(&format!("schema version {}", SCHEMA_VERSION + 1)), "{err}");
    assert_untouched(&path, &before);
}

#[test]
fn an_empty_file_becomes_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    let db = TuningDb::open(&path).unwrap();
    assert!(db.insert(&record("w", 3)).unwrap());
    drop(db);
    assert_eq!(TuningDb::open(&path).unwrap().counts().unwrap().records, 1);
}
