//! What the tuning database stores and answers: the best record per device
//! and workload, duplicates kept once, bad records refused, and records
//! shared as JSON lines between databases.

use kiln_tuning_db::{DbError, Device, Imported, Record, TuningDb, Workload};

fn device(name: &str) -> Device {
    Device { fingerprint: format!("fp-{name}"), name: name.into(), backend: "vulkan".into(), driver: "550".into() }
}

fn workload(key: &str) -> Workload {
    Workload { key: key.into(), class: "gemm".into(), description: format!("{key} description") }
}

fn rec(d: &str, w: &str, tile: u32, median_s: f64) -> Record {
    Record::new(device(d), workload(w), serde_json::json!({ "tile": tile }), median_s, median_s * 0.9, 20)
}

#[test]
fn best_is_the_fastest_median_of_that_device_and_workload() {
    let db = TuningDb::open_in_memory().unwrap();
    db.insert_all(&[rec("h100", "mm", 8, 3e-5), rec("h100", "mm", 16, 1e-5), rec("h100", "mm", 32, 2e-5), rec("h100", "mv", 4, 5e-6), rec("a10", "mm", 64, 0.5e-5)]).unwrap();
    let best = db.best("fp-h100", "mm").unwrap().unwrap();
    assert_eq!(best.schedule["tile"], 16);
    assert_eq!(best.median_s, 1e-5);
    assert_eq!(db.best("fp-a10", "mm").unwrap().unwrap().schedule["tile"], 64);
    assert!(db.best("fp-h100", "nothing").unwrap().is_none());
    assert!(db.best("fp-unknown", "mm").unwrap().is_none());
    // the best of every workload at once: per device, by key
    let all: Vec<(String, String, serde_json::Value)> = db.best_records(None).unwrap().into_iter().map(|r| (r.device.fingerprint, r.workload.key, r.schedule["tile"].clone())).collect();
    let want = [("fp-a10", "mm", 64), ("fp-h100", "mm", 16), ("fp-h100", "mv", 4)];
    assert_eq!(all, want.map(|(d, w, t)| (d.to_string(), w.to_string(), serde_json::json!(t))));
    let h100: Vec<u32> = db.best_records(Some("fp-h100")).unwrap().iter().map(|r| r.schedule["tile"].as_u64().unwrap() as u32).collect();
    assert_eq!(h100, [16, 4]);
    // one workload's records on one device, oldest first
    let mm: Vec<u32> = db.workload_records("fp-h100", "mm").unwrap().iter().map(|r| r.schedule["tile"].as_u64().unwrap() as u32).collect();
    assert_eq!(mm, [8, 16, 32]);
    assert!(db.workload_records("fp-a10", "mv").unwrap().is_empty());
}

#[test]
fn the_same_record_twice_is_kept_once() {
    let db = TuningDb::open_in_memory().unwrap();
    let r = rec("h100", "mm", 8, 3e-5);
    assert!(db.insert(&r).unwrap());
    assert!(!db.insert(&r).unwrap());
    assert_eq!(db.counts().unwrap().records, 1);
}

#[test]
fn records_with_impossible_times_are_refused() {
    let db = TuningDb::open_in_memory().unwrap();
    for (median, min) in [(0.0, 0.0), (-1e-5, 1e-6), (f64::NAN, 1e-6), (1e-6, 2e-6), (f64::INFINITY, 1e-6)] {
        let mut r = rec("h100", "mm", 8, 1e-5);
        (r.median_s, r.min_s) = (median, min);
        let err = db.insert(&r).unwrap_err();
        assert!(matches!(err, DbError::BadRecord { .. }), "{err:?}");
    }
    // a batch with one bad record adds nothing
    let mut bad = rec("h100", "mm", 9, 1e-5);
    bad.repeats = 0;
    assert!(db.insert_all(&[rec("h100", "mm", 8, 1e-5), bad]).is_err());
    assert_eq!(db.counts().unwrap().records, 0);
}

#[test]
fn exported_records_import_into_another_database_and_again_as_duplicates() {
    let a = TuningDb::open_in_memory().unwrap();
    a.insert_all(&[rec("h100", "mm", 8, 3e-5), rec("h100", "mv", 16, 1e-5), rec("a10", "mm", 32, 2e-5)]).unwrap();
    let mut lines = Vec::new();
    assert_eq!(a.export_jsonl(None, &mut lines).unwrap(), 3);
    let text = String::from_utf8(lines.clone()).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(text.lines().all(|l| l.contains("\"kiln_tuning_record\":1")), "{text}");
    let b = TuningDb::open_in_memory().unwrap();
    assert_eq!(b.import_jsonl(&lines[..]).unwrap(), Imported { added: 3, duplicates: 0 });
    assert_eq!(b.import_jsonl(&lines[..]).unwrap(), Imported { added: 0, duplicates: 3 });
    assert_eq!(b.records(None).unwrap(), a.records(None).unwrap());
    // one device only
    let mut h100 = Vec::new();
    assert_eq!(a.export_jsonl(Some("fp-h100"), &mut h100).unwrap(), 2);
}

#[test]
fn a_malformed_import_names_its_line_and_adds_nothing() {
    let a = TuningDb::open_in_memory().unwrap();
    a.insert_all(&[rec("h100", "mm", 8, 3e-5), rec("h100", "mv", 16, 1e-5)]).unwrap();
    let mut lines = Vec::new();
    a.export_jsonl(None, &mut lines).unwrap();
    let good = String::from_utf8(lines).unwrap();
    let b = TuningDb::open_in_memory().unwrap();
    // after the two good lines and a blank one, line 4 is bad: not JSON, not
    // a record, a future exchange format
    let future = good.lines().next().unwrap().replace("\"kiln_tuning_record\":1", "\"kiln_tuning_record\":99");
    for bad in ["{not json", "{\"kiln_tuning_record\": 1}", &future] {
        let line = 4;
        let text = format!("{good}\n{bad}\n");
        let err = b.import_jsonl(text.as_bytes()).unwrap_err();
        match &err {
            DbError::BadRecord { line: l, .. } => assert_eq!(*l, line, "{err}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(b.counts().unwrap().records, 0);
    }
}
