//! kiln's tuning database: the measured schedules of kernels, per device
//! and workload, kept in one SQLite file.
//!
//! Owns the file format (tables `devices`, `workloads`, `records`; schema
//! version in SQLite's `user_version`, upgraded by [`MIGRATIONS`]), the
//! best-record lookup the compiler uses, and the JSON-lines exchange format
//! that lets people share records (like TVM's tophub).
//!
//! In: [`Record`]s from the autotuner (a schedule as JSON, its median and
//! minimum time over repeats, for one [`Device`] and one [`Workload`]).
//! Out: the fastest record of a workload on a device ([`TuningDb::best`]).
//!
//! Several processes may write at once: the file is in WAL mode, writers
//! wait for each other (up to [`BUSY_TIMEOUT`]), and every write is one
//! transaction, so a killed process leaves the records it committed and
//! nothing half-written. A file that is not a kiln tuning database, is
//! corrupt, or comes from a newer kiln is refused with a clear error and
//! left as it was.
//!
//! ```
//! use kiln_tuning_db::{Device, Record, TuningDb, Workload};
//! let db = TuningDb::open_in_memory().unwrap();
//! let device = Device { fingerprint: "vk:10de:2330:550.54".into(), name: "NVIDIA H100".into(), backend: "vulkan".into(), driver: "550.54".into() };
//! let workload = Workload { key: "gemv-q4_0-4096x4096-1f2e".into(), class: "gemv".into(), description: "q4_0 GEMV, 4096 x 4096".into() };
//! for (median_s, rows) in [(90e-6, 1), (41e-6, 4)] {
//!     let schedule = serde_json::json!({ "rows_per_workgroup": rows });
//!     db.insert(&Record::new(device.clone(), workload.clone(), schedule, median_s, median_s * 0.97, 50)).unwrap();
//! }
//! let best = db.best(&device.fingerprint, &workload.key).unwrap().unwrap();
//! assert_eq!(best.schedule["rows_per_workgroup"], 4);
//! ```
#![warn(missing_docs)]

use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The schema version this kiln writes; older files are migrated to it.
pub const SCHEMA_VERSION: i64 = 1;

/// The SQL that upgrades a file from schema version `i` to `i + 1`
/// (version 0 is an empty file). A later kiln appends to this list; it
/// never edits an entry.
pub const MIGRATIONS: &[&str] = &["
    CREATE TABLE devices (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        backend TEXT NOT NULL,
        driver TEXT NOT NULL
    );
    CREATE TABLE workloads (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        class TEXT NOT NULL,
        description TEXT NOT NULL
    );
    CREATE TABLE records (
        id INTEGER PRIMARY KEY,
        device_id INTEGER NOT NULL REFERENCES devices(id),
        workload_id INTEGER NOT NULL REFERENCES workloads(id),
        schedule TEXT NOT NULL,
        median_s REAL NOT NULL,
        min_s REAL NOT NULL,
        repeats INTEGER NOT NULL,
        kiln_version TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (device_id, workload_id, schedule, kiln_version, created_at)
    );
    CREATE INDEX records_best ON records (device_id, workload_id, median_s);
"];

/// SQLite's `application_id` of a kiln tuning database ("kiln").
pub const APPLICATION_ID: i32 = 0x6b69_6c6e;

/// How long a writer waits for another to finish before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The version of the JSON-lines exchange format ([`TuningDb::export_jsonl`]).
pub const EXCHANGE_VERSION: u32 = 1;

/// What went wrong with a tuning database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// User error: the file is not a kiln tuning database (another
    /// program's SQLite file, or not SQLite at all). It is left as it is.
    #[error("{path} is not a kiln tuning database ({message}); it was left untouched: pass another --db path, or move the file away")]
    NotATuningDb {
        /// The file.
        path: PathBuf,
        /// What was found.
        message: String,
    },
    /// User error (or a disk fault): the file is damaged. It is left as it is.
    #[error("the tuning database {path} is corrupt ({message}); it was left untouched: `kiln autotune --export` may still read some records, or move the file away and tune again")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// SQLite's finding.
        message: String,
    },
    /// User error: the file was written by a newer kiln.
    #[error("the tuning database {path} has schema version {found}, newer than this kiln's {supported}; it was left untouched: use a newer kiln, or another --db path")]
    FutureSchema {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this kiln knows.
        supported: i64,
    },
    /// Another process held the database locked for longer than [`BUSY_TIMEOUT`].
    #[error("the tuning database {path} stayed locked by another process for {}s; try again when it finishes", BUSY_TIMEOUT.as_secs())]
    Locked {
        /// The file.
        path: PathBuf,
    },
    /// User error: a line of an imported file is not a record.
    #[error("line {line} of the imported records: {message}")]
    BadRecord {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// Reading or writing an exchange file failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// SQLite failed otherwise (a bug, or the disk).
    #[error("the tuning database {path}: {source}")]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
}

/// A device kernels were measured on.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Device {
    /// What identifies the device and its driver (vendor, device id, driver
    /// version; a CPU's model and features): records of another fingerprint
    /// are not used.
    pub fingerprint: String,
    /// The name people know it by.
    pub name: String,
    /// The API kernels ran through (`vulkan`, `metal`, `cpu`, ...).
    pub backend: String,
    /// The driver's version text.
    pub driver: String,
}

/// A kernel to tune: a structural hash of its loop nest with shapes and
/// dtypes (and the code generator's version), and what it is, for people.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Workload {
    /// The structural hash: equal keys run the same kernel.
    pub key: String,
    /// The kernel class (`gemv`, `gemm`, `reduction`, `attention`, `elementwise`).
    pub class: String,
    /// A readable description (op, shapes, dtypes).
    pub description: String,
}

/// One measured schedule of a workload on a device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Where it was measured.
    pub device: Device,
    /// What was measured.
    pub workload: Workload,
    /// The schedule (knob values or a trace), as the autotuner wrote it.
    pub schedule: serde_json::Value,
    /// Median seconds per run over the repeats.
    pub median_s: f64,
    /// Fastest run, seconds.
    pub min_s: f64,
    /// Timed runs.
    pub repeats: u32,
    /// The kiln that measured it.
    pub kiln_version: String,
    /// When, in seconds since the Unix epoch.
    pub created_at: i64,
}

impl Record {
    /// A record measured now by this kiln.
    pub fn new(device: Device, workload: Workload, schedule: serde_json::Value, median_s: f64, min_s: f64, repeats: u32) -> Record {
        let created_at = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        Record { device, workload, schedule, median_s, min_s, repeats, kiln_version: env!("CARGO_PKG_VERSION").to_string(), created_at }
    }

    fn check(&self) -> Result<(), String> {
        if !(self.median_s.is_finite() && self.median_s > 0.0 && self.min_s.is_finite() && self.min_s > 0.0) {
            return Err(format!("times must be positive and finite, got median {} s and minimum {} s", self.median_s, self.min_s));
        }
        if self.min_s > self.median_s {
            return Err(format!("the minimum {} s exceeds the median {} s", self.min_s, self.median_s));
        }
        if self.repeats == 0 {
            return Err("a record needs at least one timed run".into());
        }
        if self.device.fingerprint.is_empty() || self.workload.key.is_empty() {
            return Err("the device fingerprint and the workload key must not be empty".into());
        }
        Ok(())
    }
}

/// One line of the exchange format: a record and the format's version.
#[derive(Serialize, Deserialize)]
struct ExchangeLine {
    kiln_tuning_record: u32,
    #[serde(flatten)]
    record: Record,
}

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Imported {
    /// Records added.
    pub added: usize,
    /// Records the database had already.
    pub duplicates: usize,
}

/// Counts of what a database holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Devices.
    pub devices: usize,
    /// Workloads.
    pub workloads: usize,
    /// Records.
    pub records: usize,
}

/// An open tuning database.
pub struct TuningDb {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for TuningDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TuningDb({})", self.path.display())
    }
}

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

impl TuningDb {
    /// Open the database at `path`, creating it (and its folder) if there is
    /// no file, and migrating an older schema. A file that is not a kiln
    /// tuning database, is corrupt or is newer is refused and left alone.
    pub fn open(path: impl AsRef<Path>) -> Result<TuningDb, DbError> {
        let path = path.as_ref().to_path_buf();
        let exists = match std::fs::metadata(&path) {
            Ok(m) => m.len() > 0,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(DbError::Io { what: format!("reading {}", path.display()), source: e }),
        };
        if exists {
            check_header(&path)?;
        } else if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| DbError::Io { what: format!("creating {}", dir.display()), source: e })?;
        }
        let flags = if exists { OpenFlags::SQLITE_OPEN_READ_WRITE } else { OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE };
        // SQLite answers some lock conflicts while connections set up (one
        // switching a fresh file to WAL while another reads it) at once
        // with "busy", without waiting: try again until BUSY_TIMEOUT
        let started = std::time::Instant::now();
        loop {
            let conn = Connection::open_with_flags(&path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(|e| classify(&path, e))?;
            match TuningDb::setup(conn, path.clone()) {
                Err(DbError::Locked { .. }) if started.elapsed() < BUSY_TIMEOUT => std::thread::sleep(std::time::Duration::from_millis(20)),
                done => return done,
            }
        }
    }

    /// A database in memory (for tests and dry runs).
    pub fn open_in_memory() -> Result<TuningDb, DbError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| classify(&path, e))?;
        TuningDb::setup(conn, path)
    }

    fn setup(conn: Connection, path: PathBuf) -> Result<TuningDb, DbError> {
        let mut db = TuningDb { conn, path };
        let p = db.path.clone();
        db.conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| classify(&p, e))?;
        // a damaged file fails here, before anything is written
        let check: String = db.conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(|e| classify(&p, e))?;
        if check != "ok" {
            return Err(DbError::Corrupt { path: p, message: check });
        }
        let (app, version, tables) = db.ids()?;
        if version > SCHEMA_VERSION {
            return Err(DbError::FutureSchema { path: p, found: version, supported: SCHEMA_VERSION });
        }
        if app != APPLICATION_ID && (app != 0 || tables > 0) {
            return Err(DbError::NotATuningDb { path: p, message: format!("a SQLite database of another program (application id {app:#x}, {tables} schema objects)") });
        }
        db.conn.pragma_update(None, "journal_mode", "WAL").map_err(|e| classify(&p, e))?;
        db.conn.pragma_update(None, "synchronous", "NORMAL").map_err(|e| classify(&p, e))?;
        db.conn.pragma_update(None, "foreign_keys", "ON").map_err(|e| classify(&p, e))?;
        if version < SCHEMA_VERSION {
            db.migrate()?;
        }
        Ok(db)
    }

    /// The file's application id, schema version and number of schema
    /// objects, read in one transaction (another process may be creating
    /// the schema meanwhile: it sets the ids in the transaction that makes
    /// the tables).
    fn ids(&mut self) -> Result<(i32, i64, i64), DbError> {
        let p = self.path.clone();
        let tx = self.conn.transaction().map_err(|e| classify(&p, e))?;
        let app: i32 = tx.query_row("PRAGMA application_id", [], |r| r.get(0)).map_err(|e| classify(&p, e))?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| classify(&p, e))?;
        let tables: i64 = tx.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).map_err(|e| classify(&p, e))?;
        tx.commit().map_err(|e| classify(&p, e))?;
        Ok((app, version, tables))
    }

    /// Bring the schema to [`SCHEMA_VERSION`], one migration per step, each
    /// in the same transaction as its version bump (another process may be
    /// migrating too: the version is read again under the write lock).
    fn migrate(&mut self) -> Result<(), DbError> {
        let p = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| classify(&p, e))?;
        let mut version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| classify(&p, e))?;
        while version < SCHEMA_VERSION {
            tx.execute_batch(MIGRATIONS[version as usize]).map_err(|e| classify(&p, e))?;
            version += 1;
        }
        tx.pragma_update(None, "user_version", version).map_err(|e| classify(&p, e))?;
        tx.pragma_update(None, "application_id", APPLICATION_ID).map_err(|e| classify(&p, e))?;
        tx.commit().map_err(|e| classify(&p, e))
    }

    /// The file's path (`:memory:` for an in-memory database).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> DbError {
        classify(&self.path, e)
    }

    /// Add a record; false if the database has it already.
    pub fn insert(&self, record: &Record) -> Result<bool, DbError> {
        Ok(self.insert_all(std::slice::from_ref(record))?.added == 1)
    }

    /// Add records in one transaction (all or none); duplicates are counted,
    /// not added. A record with a non-positive time is refused.
    pub fn insert_all(&self, records: &[Record]) -> Result<Imported, DbError> {
        for (i, r) in records.iter().enumerate() {
            r.check().map_err(|message| DbError::BadRecord { line: i + 1, message })?;
        }
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(|e| self.err(e))?;
        let mut done = Imported::default();
        for r in records {
            tx.execute(
                "INSERT INTO devices (fingerprint, name, backend, driver) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (fingerprint) DO NOTHING",
                params![r.device.fingerprint, r.device.name, r.device.backend, r.device.driver],
            )
            .map_err(|e| self.err(e))?;
            tx.execute(
                "INSERT INTO workloads (key, class, description) VALUES (?1, ?2, ?3) ON CONFLICT (key) DO NOTHING",
                params![r.workload.key, r.workload.class, r.workload.description],
            )
            .map_err(|e| self.err(e))?;
            let added = tx
                .execute(
                    "INSERT OR IGNORE INTO records (device_id, workload_id, schedule, median_s, min_s, repeats, kiln_version, created_at)
                     SELECT d.id, w.id, ?3, ?4, ?5, ?6, ?7, ?8 FROM devices d, workloads w WHERE d.fingerprint = ?1 AND w.key = ?2",
                    params![r.device.fingerprint, r.workload.key, r.schedule.to_string(), r.median_s, r.min_s, r.repeats, r.kiln_version, r.created_at],
                )
                .map_err(|e| self.err(e))?;
            if added == 1 {
                done.added += 1;
            } else {
                done.duplicates += 1;
            }
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(done)
    }

    /// The fastest record (by median) of `workload_key` on the device
    /// `device_fingerprint`, if any.
    pub fn best(&self, device_fingerprint: &str, workload_key: &str) -> Result<Option<Record>, DbError> {
        let sql = format!("{SELECT_RECORDS} WHERE d.fingerprint = ?1 AND w.key = ?2 ORDER BY r.median_s, r.id LIMIT 1");
        self.conn.query_row(&sql, params![device_fingerprint, workload_key], row_record).optional().map_err(|e| self.err(e))?.transpose().map_err(|e| self.err(e))
    }

    /// The fastest record (by median, the oldest of equals) of every
    /// workload, per device; only those of one device if given. Ordered by
    /// device and workload key.
    pub fn best_records(&self, device_fingerprint: Option<&str>) -> Result<Vec<Record>, DbError> {
        let sql = format!(
            "{SELECT_RECORDS} WHERE (?1 IS NULL OR d.fingerprint = ?1) AND r.id = (SELECT b.id FROM records b WHERE b.device_id = r.device_id AND b.workload_id = r.workload_id ORDER BY b.median_s, b.id LIMIT 1) ORDER BY d.fingerprint, w.key"
        );
        self.query(&sql, params![device_fingerprint])
    }

    /// Every record, oldest first; only those of one device if given.
    pub fn records(&self, device_fingerprint: Option<&str>) -> Result<Vec<Record>, DbError> {
        self.query(&format!("{SELECT_RECORDS} WHERE ?1 IS NULL OR d.fingerprint = ?1 ORDER BY r.id"), params![device_fingerprint])
    }

    /// The records of one workload on one device, oldest first.
    pub fn workload_records(&self, device_fingerprint: &str, workload_key: &str) -> Result<Vec<Record>, DbError> {
        self.query(&format!("{SELECT_RECORDS} WHERE d.fingerprint = ?1 AND w.key = ?2 ORDER BY r.id"), params![device_fingerprint, workload_key])
    }

    /// The records `sql` (a [`SELECT_RECORDS`] query) selects with `args`.
    fn query(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<Record>, DbError> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map(args, row_record).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r.map_err(|e| self.err(e))?.map_err(|e| self.err(e))?);
        }
        Ok(out)
    }

    /// How many devices, workloads and records the database holds.
    pub fn counts(&self) -> Result<Counts, DbError> {
        let count = |table: &str| -> Result<usize, DbError> { self.conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get::<_, i64>(0)).map(|n| n as usize).map_err(|e| self.err(e)) };
        Ok(Counts { devices: count("devices")?, workloads: count("workloads")?, records: count("records")? })
    }

    /// Write every record (of one device if given) as JSON lines; returns
    /// how many.
    pub fn export_jsonl(&self, device_fingerprint: Option<&str>, mut out: impl Write) -> Result<usize, DbError> {
        let records = self.records(device_fingerprint)?;
        for record in &records {
            let line = serde_json::to_string(&ExchangeLine { kiln_tuning_record: EXCHANGE_VERSION, record: record.clone() }).expect("records serialize");
            writeln!(out, "{line}").map_err(|e| DbError::Io { what: "writing exported records".into(), source: e })?;
        }
        out.flush().map_err(|e| DbError::Io { what: "writing exported records".into(), source: e })?;
        Ok(records.len())
    }

    /// Add the records of a JSON-lines file ([`TuningDb::export_jsonl`]'s
    /// format), all or none: a malformed line is reported by number and
    /// nothing is added. Blank lines are skipped.
    pub fn import_jsonl(&self, input: impl BufRead) -> Result<Imported, DbError> {
        let mut records = Vec::new();
        for (i, line) in input.lines().enumerate() {
            let line = line.map_err(|e| DbError::Io { what: format!("reading line {} of the imported records", i + 1), source: e })?;
            if line.trim().is_empty() {
                continue;
            }
            let parsed: ExchangeLine = serde_json::from_str(&line).map_err(|e| DbError::BadRecord { line: i + 1, message: e.to_string() })?;
            if parsed.kiln_tuning_record != EXCHANGE_VERSION {
                return Err(DbError::BadRecord { line: i + 1, message: format!("exchange format version {} (this kiln reads {EXCHANGE_VERSION})", parsed.kiln_tuning_record) });
            }
            parsed.record.check().map_err(|message| DbError::BadRecord { line: i + 1, message })?;
            records.push(parsed.record);
        }
        self.insert_all(&records)
    }
}

const SELECT_RECORDS: &str = "SELECT d.fingerprint, d.name, d.backend, d.driver, w.key, w.class, w.description, r.schedule, r.median_s, r.min_s, r.repeats, r.kiln_version, r.created_at
     FROM records r JOIN devices d ON d.id = r.device_id JOIN workloads w ON w.id = r.workload_id";

/// A row of [`SELECT_RECORDS`]; the inner error is a schedule that is not JSON.
fn row_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Record, rusqlite::Error>> {
    let schedule: String = row.get(7)?;
    let schedule = match serde_json::from_str(&schedule) {
        Ok(s) => s,
        Err(e) => return Ok(Err(rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Text, Box::new(e)))),
    };
    Ok(Ok(Record {
        device: Device { fingerprint: row.get(0)?, name: row.get(1)?, backend: row.get(2)?, driver: row.get(3)? },
        workload: Workload { key: row.get(4)?, class: row.get(5)?, description: row.get(6)? },
        schedule,
        median_s: row.get(8)?,
        min_s: row.get(9)?,
        repeats: row.get(10)?,
        kiln_version: row.get(11)?,
        created_at: row.get(12)?,
    }))
}

/// Refuse a non-empty file that does not start with SQLite's header before
/// SQLite sees it.
fn check_header(path: &Path) -> Result<(), DbError> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let read = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)).map_err(|e| DbError::Io { what: format!("reading {}", path.display()), source: e })?;
    if read < 16 || &head != SQLITE_HEADER {
        return Err(DbError::NotATuningDb { path: path.to_path_buf(), message: "not a SQLite file".into() });
    }
    Ok(())
}

fn classify(path: &Path, e: rusqlite::Error) -> DbError {
    let path = path.to_path_buf();
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => DbError::NotATuningDb { path, message: e.to_string() },
        Some(ErrorCode::DatabaseCorrupt) => DbError::Corrupt { path, message: e.to_string() },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => DbError::Locked { path },
        _ => DbError::Sqlite { path, source: e },
    }
}
