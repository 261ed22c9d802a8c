//! GGUF files: a bounds-checked parser over a memory map, and a small writer
//! (for tests and for random-weight models of real shapes).
//!
//! Layout (version 2 and 3, little-endian): magic `GGUF`, version, tensor
//! count, metadata count; metadata key/value pairs; tensor infos (name, dims
//! innermost first, type, offset from the data section); padding to
//! `general.alignment` (default 32); tensor data. Every length and offset
//! read from the file is checked against the file's size before use, so a
//! truncated or hostile file is an error, never a panic or a huge allocation.

use bytes::Bytes;
use kiln_dsl::{DType, HostTensor};
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use thiserror::Error;

const MAGIC: &[u8; 4] = b"GGUF";
const DEFAULT_ALIGNMENT: u64 = 32;
/// ggml tensors have at most 4 dimensions.
const MAX_DIMS: u32 = 4;

/// Why a GGUF file could not be read. All variants are user errors (a bad
/// or unsupported file).
#[derive(Debug, Error)]
pub enum GgufError {
    /// The file could not be opened or mapped.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file does not start with `GGUF`.
    #[error("not a GGUF file: it starts with {found:?}, not \"GGUF\"")]
    BadMagic {
        /// The first bytes found.
        found: String,
    },
    /// A GGUF version this reader does not know.
    #[error("GGUF version {0} is not supported (versions 2 and 3 are)")]
    UnsupportedVersion(u32),
    /// The file ends before something it declares.
    #[error("truncated GGUF file: {what} at byte {offset} needs {needed} bytes but the file has {len}")]
    Truncated {
        /// What was being read.
        what: String,
        /// Where it starts.
        offset: u64,
        /// Bytes it needs.
        needed: u64,
        /// File length.
        len: u64,
    },
    /// A structurally invalid field.
    #[error("malformed GGUF file: {0}")]
    Malformed(String),
    /// A tensor of a ggml type kiln does not support (yet).
    #[error("tensor `{tensor}` has ggml type {type_name} ({type_id}), which kiln does not support; supported: F32, F16, Q8_0, Q4_0, Q4_1, Q4_K, Q6_K")]
    UnsupportedTensorType {
        /// The tensor.
        tensor: String,
        /// ggml type number.
        type_id: u32,
        /// ggml type name, where known.
        type_name: &'static str,
    },
    /// A tensor's data lies (partly) outside the file.
    #[error("tensor `{tensor}` data at bytes {start}..{end} lies past the end of the file ({len} bytes)")]
    TensorOutOfBounds {
        /// The tensor.
        tensor: String,
        /// First byte.
        start: u64,
        /// One past the last byte.
        end: u64,
        /// File length.
        len: u64,
    },
    /// A metadata key a caller needs is missing or has another type.
    #[error("metadata `{key}`: {message}")]
    Metadata {
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// No tensor of that name.
    #[error("no tensor named `{0}` in the file")]
    NoSuchTensor(String),
}

/// A metadata value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Any unsigned integer type, widened.
    U64(u64),
    /// Any signed integer type, widened.
    I64(i64),
    /// f32 or f64, widened.
    F64(f64),
    /// Boolean.
    Bool(bool),
    /// UTF-8 string (invalid sequences replaced).
    Str(String),
    /// Array of values.
    Array(Vec<Value>),
}

impl Value {
    /// As an unsigned integer, if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::U64(v) => Some(*v),
            Value::I64(v) => u64::try_from(*v).ok(),
            _ => None,
        }
    }
    /// As a float, if numeric.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::F64(v) => Some(*v),
            Value::U64(v) => Some(*v as f64),
            Value::I64(v) => Some(*v as f64),
            _ => None,
        }
    }
    /// As a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::U64(v) => write!(f, "{v}"),
            Value::I64(v) => write!(f, "{v}"),
            Value::F64(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Array(a) => write!(f, "[{} values]", a.len()),
        }
    }
}

/// One tensor's description.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    /// Name, e.g. `blk.0.attn_q.weight`.
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Row-major shape (GGUF stores dims innermost first; this is reversed).
    pub shape: Vec<usize>,
    /// Absolute byte range in the file.
    pub range: std::ops::Range<usize>,
}

/// The ggml type number of a kiln dtype, and the reverse.
pub fn ggml_type(dtype: DType) -> u32 {
    match dtype {
        DType::F32 => 0,
        DType::F16 => 1,
        DType::Q4_0 => 2,
        DType::Q4_1 => 3,
        DType::Q8_0 => 8,
        DType::Q8_1 => 9,
        DType::Q4_K => 12,
        DType::Q6_K => 14,
        DType::I32 => 26,
    }
}

fn dtype_of(type_id: u32) -> Result<DType, &'static str> {
    Ok(match type_id {
        0 => DType::F32,
        1 => DType::F16,
        2 => DType::Q4_0,
        3 => DType::Q4_1,
        8 => DType::Q8_0,
        12 => DType::Q4_K,
        14 => DType::Q6_K,
        26 => DType::I32,
        6 => return Err("Q5_0"),
        7 => return Err("Q5_1"),
        9 => return Err("Q8_1"),
        10 => return Err("Q2_K"),
        11 => return Err("Q3_K"),
        13 => return Err("Q5_K"),
        15 => return Err("Q8_K"),
        24 => return Err("I8"),
        25 => return Err("I16"),
        27 => return Err("I64"),
        28 => return Err("F64"),
        30 => return Err("BF16"),
        _ => return Err("unknown"),
    })
}

/// A parsed GGUF file, its bytes memory-mapped.
#[derive(Debug)]
pub struct Gguf {
    /// The whole file (a memory map, or bytes given by the caller).
    bytes: Bytes,
    /// GGUF version.
    pub version: u32,
    /// Metadata, by key.
    pub metadata: BTreeMap<String, Value>,
    /// Tensors, in file order.
    pub tensors: Vec<TensorInfo>,
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: u64, what: &dyn Fn() -> String) -> Result<&'a [u8], GgufError> {
        let len = self.b.len() as u64;
        let end = (self.pos as u64).checked_add(n).filter(|&e| e <= len);
        match end {
            Some(e) => {
                let s = &self.b[self.pos..e as usize];
                self.pos = e as usize;
                Ok(s)
            }
            None => Err(GgufError::Truncated { what: what(), offset: self.pos as u64, needed: n, len }),
        }
    }
    fn u32(&mut self, what: &dyn Fn() -> String) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().unwrap()))
    }
    fn u64(&mut self, what: &dyn Fn() -> String) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().unwrap()))
    }
    fn string(&mut self, what: &dyn Fn() -> String) -> Result<String, GgufError> {
        let n = self.u64(what)?;
        Ok(String::from_utf8_lossy(self.take(n, what)?).into_owned())
    }
    fn remaining(&self) -> u64 {
        (self.b.len() - self.pos) as u64
    }

    fn value(&mut self, ty: u32, what: &dyn Fn() -> String, depth: u32) -> Result<Value, GgufError> {
        Ok(match ty {
            0 => Value::U64(self.take(1, what)?[0] as u64),
            1 => Value::I64(self.take(1, what)?[0] as i8 as i64),
            2 => Value::U64(u16::from_le_bytes(self.take(2, what)?.try_into().unwrap()) as u64),
            3 => Value::I64(i16::from_le_bytes(self.take(2, what)?.try_into().unwrap()) as i64),
            4 => Value::U64(self.u32(what)? as u64),
            5 => Value::I64(self.u32(what)? as i32 as i64),
            6 => Value::F64(f32::from_bits(self.u32(what)?) as f64),
            7 => Value::Bool(self.take(1, what)?[0] != 0),
            8 => Value::Str(self.string(what)?),
            9 => {
                if depth > 0 {
                    return Err(GgufError::Malformed(format!("{}: nested arrays are not supported", what())));
                }
                let elem = self.u32(what)?;
                let n = self.u64(what)?;
                // every element takes at least one byte: refuse counts the file cannot hold
                if n > self.remaining() {
                    return Err(GgufError::Truncated { what: what(), offset: self.pos as u64, needed: n, len: self.b.len() as u64 });
                }
                let mut items = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    items.push(self.value(elem, what, depth + 1)?);
                }
                Value::Array(items)
            }
            10 => Value::U64(self.u64(what)?),
            11 => Value::I64(self.u64(what)? as i64),
            12 => Value::F64(f64::from_bits(self.u64(what)?)),
            other => return Err(GgufError::Malformed(format!("{}: unknown metadata type {other}", what()))),
        })
    }
}

impl Gguf {
    /// Memory-map and parse a file.
    pub fn open(path: &Path) -> Result<Gguf, GgufError> {
        let io = |source| GgufError::Io { path: path.to_path_buf(), source };
        let file = File::open(path).map_err(io)?;
        // SAFETY: the map is read-only; kiln does not modify model files
        // while they are open (a concurrent writer is outside its contract).
        // Populated up front (where the OS can), so the first tokens do not
        // pay the page faults and timings measure the model.
        let map = unsafe { memmap2::MmapOptions::new().populate().map(&file) }.map_err(io)?;
        Gguf::parse(Bytes::from_owner(map))
    }

    /// Parse bytes already in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Gguf, GgufError> {
        Gguf::parse(Bytes::from(bytes))
    }

    fn parse(bytes: Bytes) -> Result<Gguf, GgufError> {
        let b: &[u8] = &bytes;
        let mut c = Cursor { b, pos: 0 };
        let magic = c.take(4, &|| "magic".into()).map_err(|_| GgufError::BadMagic { found: String::from_utf8_lossy(b).into_owned() })?;
        if magic != MAGIC {
            return Err(GgufError::BadMagic { found: String::from_utf8_lossy(magic).into_owned() });
        }
        let version = c.u32(&|| "version".into())?;
        if !(2..=3).contains(&version) {
            return Err(GgufError::UnsupportedVersion(version));
        }
        let n_tensors = c.u64(&|| "tensor count".into())?;
        let n_kv = c.u64(&|| "metadata count".into())?;
        // each entry takes at least 8 bytes: refuse counts the file cannot hold
        let least = n_tensors.saturating_add(n_kv).saturating_mul(8);
        if least > c.remaining() {
            return Err(GgufError::Truncated { what: format!("{n_tensors} tensor descriptions and {n_kv} metadata entries"), offset: c.pos as u64, needed: least, len: b.len() as u64 });
        }
        let mut metadata = BTreeMap::new();
        for i in 0..n_kv {
            let key = c.string(&|| format!("key of metadata entry {i}"))?;
            let ty = c.u32(&|| format!("type of metadata `{key}`"))?;
            let v = c.value(ty, &|| format!("value of metadata `{key}`"), 0)?;
            metadata.insert(key, v);
        }
        let mut raw = Vec::new();
        for i in 0..n_tensors {
            let name = c.string(&|| format!("name of tensor {i}"))?;
            let n_dims = c.u32(&|| format!("rank of tensor `{name}`"))?;
            if n_dims > MAX_DIMS {
                return Err(GgufError::Malformed(format!("tensor `{name}` has {n_dims} dimensions; ggml allows at most {MAX_DIMS}")));
            }
            let mut dims = Vec::new();
            for _ in 0..n_dims {
                dims.push(c.u64(&|| format!("dimensions of tensor `{name}`"))?);
            }
            let type_id = c.u32(&|| format!("type of tensor `{name}`"))?;
            let offset = c.u64(&|| format!("offset of tensor `{name}`"))?;
            raw.push((name, dims, type_id, offset));
        }
        let alignment = match metadata.get("general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some(v) => v.as_u64().filter(|a| *a > 0 && a.is_power_of_two()).ok_or_else(|| GgufError::Malformed(format!("general.alignment {v} is not a power of two")))?,
        };
        let data_start = (c.pos as u64).div_ceil(alignment) * alignment;
        let len = b.len() as u64;
        let mut tensors = Vec::new();
        for (name, dims, type_id, offset) in raw {
            let dtype = dtype_of(type_id).map_err(|type_name| GgufError::UnsupportedTensorType { tensor: name.clone(), type_id, type_name })?;
            let n = dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d)).ok_or_else(|| GgufError::Malformed(format!("tensor `{name}` has too many elements")))?;
            let row = dims.first().copied().unwrap_or(1);
            if row % dtype.block_len() as u64 != 0 {
                return Err(GgufError::Malformed(format!("tensor `{name}`: rows of {row} values do not fill {dtype} blocks of {}", dtype.block_len())));
            }
            let size = (n / dtype.block_len() as u64).checked_mul(dtype.block_bytes() as u64);
            let start = data_start.checked_add(offset);
            let end = start.zip(size).and_then(|(s, size)| s.checked_add(size));
            match (start, end) {
                (Some(s), Some(e)) if e <= len => {
                    let shape = dims.iter().rev().map(|&d| d as usize).collect();
                    tensors.push(TensorInfo { name, dtype, shape, range: s as usize..e as usize });
                }
                _ => return Err(GgufError::TensorOutOfBounds { tensor: name, start: start.unwrap_or(u64::MAX), end: end.unwrap_or(u64::MAX), len }),
            }
        }
        Ok(Gguf { bytes, version, metadata, tensors })
    }

    /// A tensor's description.
    pub fn tensor(&self, name: &str) -> Result<&TensorInfo, GgufError> {
        self.tensors.iter().find(|t| t.name == name).ok_or_else(|| GgufError::NoSuchTensor(name.into()))
    }

    /// A tensor's raw bytes (zero-copy from the map).
    pub fn tensor_data(&self, info: &TensorInfo) -> &[u8] {
        &self.bytes[info.range.clone()]
    }

    /// A tensor as a [`HostTensor`] whose storage points into the file's
    /// memory map (no copy).
    pub fn host_tensor(&self, name: &str) -> Result<HostTensor, GgufError> {
        let info = self.tensor(name)?;
        HostTensor::from_bytes(info.dtype, &info.shape, self.bytes.slice(info.range.clone())).map_err(|m| GgufError::Malformed(format!("tensor `{name}`: {m}")))
    }

    /// A metadata value.
    pub fn get(&self, key: &str) -> Result<&Value, GgufError> {
        self.metadata.get(key).ok_or_else(|| GgufError::Metadata { key: key.into(), message: "missing".into() })
    }

    /// A metadata value that must be a non-negative integer.
    pub fn get_u64(&self, key: &str) -> Result<u64, GgufError> {
        let v = self.get(key)?;
        v.as_u64().ok_or_else(|| GgufError::Metadata { key: key.into(), message: format!("expected an unsigned integer, found {v}") })
    }

    /// A metadata value that must be a number.
    pub fn get_f64(&self, key: &str) -> Result<f64, GgufError> {
        let v = self.get(key)?;
        v.as_f64().ok_or_else(|| GgufError::Metadata { key: key.into(), message: format!("expected a number, found {v}") })
    }

    /// A metadata value that must be a string.
    pub fn get_str(&self, key: &str) -> Result<&str, GgufError> {
        let v = self.get(key)?;
        v.as_str().ok_or_else(|| GgufError::Metadata { key: key.into(), message: format!("expected a string, found {v}") })
    }
}

/// Builds a GGUF file in memory: metadata, then tensors laid out aligned.
/// Metadata is written in the types llama.cpp reads (see `write_to`), so
/// its files load there too (`random_gguf`, the benchmarks' peer).
#[derive(Debug, Default)]
pub struct GgufWriter {
    metadata: Vec<(String, Value)>,
    tensors: Vec<(String, DType, Vec<usize>, Vec<u8>)>,
}

impl GgufWriter {
    /// An empty file.
    pub fn new() -> GgufWriter {
        GgufWriter::default()
    }

    /// Add a metadata entry.
    pub fn metadata(&mut self, key: &str, value: Value) -> &mut Self {
        self.metadata.push((key.into(), value));
        self
    }

    /// Add a tensor (row-major shape, bytes in kiln/GGUF layout).
    pub fn tensor(&mut self, name: &str, dtype: DType, shape: &[usize], data: Vec<u8>) -> &mut Self {
        self.tensors.push((name.into(), dtype, shape.to_vec(), data));
        self
    }

    /// The file's bytes (version 3, alignment 32).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out).expect("writing to memory");
        out
    }

    /// Stream the file to `w` (tensor data is not copied first).
    pub fn write_to(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        fn string(out: &mut Vec<u8>, s: &str) {
            out.extend((s.len() as u64).to_le_bytes());
            out.extend(s.as_bytes());
        }
        // the narrowest of the types GGUF producers use (llama.cpp's loader
        // wants u32 and i32 hyperparameters and token types, f32 floats):
        // integers in 32 bits where every value of the item (or array) fits,
        // floats as f32
        fn type_of(v: &Value) -> u32 {
            match v {
                Value::U64(x) if u32::try_from(*x).is_ok() => 4,
                Value::U64(_) => 10,
                Value::I64(x) if i32::try_from(*x).is_ok() => 5,
                Value::I64(_) => 11,
                Value::F64(_) => 6,
                Value::Bool(_) => 7,
                Value::Str(_) => 8,
                Value::Array(_) => 9,
            }
        }
        fn value(out: &mut Vec<u8>, v: &Value, ty: u32) {
            match (v, ty) {
                (Value::U64(x), 4) => out.extend((*x as u32).to_le_bytes()),
                (Value::U64(x), _) => out.extend(x.to_le_bytes()),
                (Value::I64(x), 5) => out.extend((*x as i32).to_le_bytes()),
                (Value::I64(x), _) => out.extend(x.to_le_bytes()),
                (Value::F64(x), _) => out.extend((*x as f32).to_le_bytes()),
                (Value::Bool(x), _) => out.push(*x as u8),
                (Value::Str(s), _) => string(out, s),
                (Value::Array(items), _) => {
                    // one element type for all: 64 bits if any item needs them
                    let elem = items.iter().map(type_of).find(|&t| t == 10 || t == 11).or_else(|| items.first().map(type_of)).unwrap_or(8);
                    out.extend(elem.to_le_bytes());
                    out.extend((items.len() as u64).to_le_bytes());
                    for it in items {
                        value(out, it, elem);
                    }
                }
            }
        }
        let mut out = Vec::new();
        out.extend(MAGIC);
        out.extend(3u32.to_le_bytes());
        out.extend((self.tensors.len() as u64).to_le_bytes());
        out.extend((self.metadata.len() as u64).to_le_bytes());
        for (k, v) in &self.metadata {
            string(&mut out, k);
            let ty = type_of(v);
            out.extend(ty.to_le_bytes());
            value(&mut out, v, ty);
        }
        let mut offset = 0u64;
        for (name, dtype, shape, data) in &self.tensors {
            string(&mut out, name);
            out.extend((shape.len() as u32).to_le_bytes());
            for d in shape.iter().rev() {
                out.extend((*d as u64).to_le_bytes());
            }
            out.extend(ggml_type(*dtype).to_le_bytes());
            out.extend(offset.to_le_bytes());
            offset = (offset + data.len() as u64).div_ceil(DEFAULT_ALIGNMENT) * DEFAULT_ALIGNMENT;
        }
        out.resize((out.len() as u64).div_ceil(DEFAULT_ALIGNMENT) as usize * DEFAULT_ALIGNMENT as usize, 0);
        w.write_all(&out)?;
        let zeros = [0u8; DEFAULT_ALIGNMENT as usize];
        for (_, _, _, data) in &self.tensors {
            w.write_all(data)?;
            let pad = (data.len() as u64).div_ceil(DEFAULT_ALIGNMENT) * DEFAULT_ALIGNMENT - data.len() as u64;
            w.write_all(&zeros[..pad as usize])?;
        }
        Ok(())
    }
}
