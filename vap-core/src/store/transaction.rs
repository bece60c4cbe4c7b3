//! How a store changes safely: the advisory lock, atomic single-file writes,
//! staging and the journalled commit of a session or room directory, the
//! recovery that [`Store::open`] runs, and the fault injector the crash tests
//! use (feature `testing`).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(feature = "testing")]
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Store;
use crate::error::{Result, VapError};

/// The fault injector: called with the name of each write step.
pub(super) type FaultFn = dyn Fn(&str) -> std::io::Result<()> + Send + Sync;

#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    target: PathBuf,
    backup: PathBuf,
}

static TX: AtomicU64 = AtomicU64::new(0);

pub(super) fn txid() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        nanos,
        TX.fetch_add(1, Ordering::Relaxed)
    )
}

pub(super) fn sync_dir(p: &Path) {
    // Durability of renames; best effort (not every platform can open a dir).
    if let Ok(f) = fs::File::open(p) {
        let _ = f.sync_all();
    }
}

pub(super) fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Writes a file atomically: aside, synced, then renamed over the target.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", txid()));
    write_synced(&tmp, bytes).map_err(|e| VapError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        VapError::io(path, e)
    })?;
    if let Some(p) = path.parent() {
        sync_dir(p);
    }
    Ok(())
}

impl Store {
    /// Test hook (feature `testing`): `f(step)` runs before each write step of
    /// an import, replace or delete; returning an error makes that step fail.
    /// Used by the crash and failure-injection tests.
    #[cfg(feature = "testing")]
    #[doc(hidden)]
    pub fn set_fault_injector(
        &mut self,
        f: impl Fn(&str) -> std::io::Result<()> + Send + Sync + 'static,
    ) {
        self.fault = Some(Arc::new(f));
    }

    pub(super) fn step(&self, name: &str, path: &Path) -> Result<()> {
        if let Some(f) = &self.fault {
            f(name).map_err(|e| VapError::io(path, e))?;
        }
        Ok(())
    }

    /// Takes the store's advisory lock (exclusive for writers); released on drop.
    pub(super) fn lock(&self, exclusive: bool) -> Result<fs::File> {
        let p = self.root.join(".lock");
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&p)
            .map_err(|e| VapError::io(&p, e))?;
        if exclusive { f.lock() } else { f.lock_shared() }.map_err(|e| VapError::io(&p, e))?;
        Ok(f)
    }

    /// Removes the housekeeping directories when they are empty.
    pub(super) fn tidy(&self) {
        for d in [".staging", ".trash", ".journal"] {
            let _ = fs::remove_dir(self.root.join(d));
        }
    }

    pub(super) fn recover(&self) -> Result<()> {
        let jdir = self.root.join(".journal");
        if jdir.is_dir() {
            for entry in fs::read_dir(&jdir).map_err(|e| VapError::io(&jdir, e))? {
                let p = entry.map_err(|e| VapError::io(&jdir, e))?.path();
                let text = fs::read_to_string(&p).map_err(|e| VapError::io(&p, e))?;
                // A journal is written whole before anything moves; one that does
                // not parse means the store was damaged from outside: stop rather
                // than throw away the backup it may point to.
                let j: Journal = serde_json::from_str(&text).map_err(|e| {
                    VapError::format(
                        &p,
                        format!(
                            "unreadable store journal ({e}); the backup it names is kept in .trash"
                        ),
                    )
                })?;
                let target = self.root.join(&j.target);
                let backup = self.root.join(&j.backup);
                if !target.exists() && backup.exists() {
                    // Interrupted before the commit rename: restore the old session.
                    fs::rename(&backup, &target).map_err(|e| VapError::io(&target, e))?;
                }
                fs::remove_file(&p).map_err(|e| VapError::io(&p, e))?;
            }
        }
        for d in [".staging", ".trash", ".journal"] {
            let p = self.root.join(d);
            if p.exists() {
                fs::remove_dir_all(&p).map_err(|e| VapError::io(&p, e))?;
            }
        }
        // Leftover temporary files of atomic single-file writes.
        if let Ok(rooms) = fs::read_dir(self.rooms_dir()) {
            for r in rooms.flatten() {
                remove_tmp_files(&r.path());
                if let Ok(sessions) = fs::read_dir(r.path().join("sessions")) {
                    for s in sessions.flatten() {
                        remove_tmp_files(&s.path());
                    }
                }
            }
        }
        Ok(())
    }

    /// Moves `staged` to `target`, replacing an existing target through the
    /// journal so that a crash at any point is recoverable.
    fn commit(&self, tx: &str, staged: &Path, target: &Path, replacing: bool) -> Result<()> {
        let parent = target.parent().expect("target has a parent");
        fs::create_dir_all(parent).map_err(|e| VapError::io(parent, e))?;
        if !replacing {
            self.step("commit", target)?;
            fs::rename(staged, target).map_err(|e| VapError::io(target, e))?;
            sync_dir(parent);
            return Ok(());
        }
        let jdir = self.root.join(".journal");
        let tdir = self.root.join(".trash");
        fs::create_dir_all(&jdir).map_err(|e| VapError::io(&jdir, e))?;
        fs::create_dir_all(&tdir).map_err(|e| VapError::io(&tdir, e))?;
        let backup = tdir.join(tx);
        let rel = |p: &Path| p.strip_prefix(&self.root).unwrap_or(p).to_path_buf();
        let journal = Journal {
            target: rel(target),
            backup: rel(&backup),
        };
        let jp = jdir.join(format!("{tx}.json"));
        self.step("journal", &jp)?;
        write_synced(&jp, &serde_json::to_vec(&journal).expect("serialisable"))
            .map_err(|e| VapError::io(&jp, e))?;
        sync_dir(&jdir);
        let undo = |e: VapError| -> VapError {
            if !target.exists() && backup.exists() {
                let _ = fs::rename(&backup, target);
            }
            let _ = fs::remove_file(&jp);
            e
        };
        self.step("backup", target).map_err(undo)?;
        fs::rename(target, &backup).map_err(|e| undo(VapError::io(target, e)))?;
        self.step("commit", target).map_err(undo)?;
        fs::rename(staged, target).map_err(|e| undo(VapError::io(target, e)))?;
        sync_dir(parent);
        // Committed. Cleanup failures leave garbage that the next open removes.
        if self.step("cleanup", &backup).is_ok() {
            let _ = fs::remove_file(&jp);
            let _ = fs::remove_dir_all(&backup);
        }
        Ok(())
    }

    /// Runs `write` to fill the staging area `staging_root`, then commits
    /// `staged` to `target` (through the journal when `replacing`). The
    /// staging area is removed whatever happens; a failure before the commit
    /// leaves the store as it was.
    pub(super) fn commit_staged(
        &self,
        tx: &str,
        staging_root: &Path,
        staged: &Path,
        target: &Path,
        replacing: bool,
        write: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        if let Err(e) = write() {
            let _ = fs::remove_dir_all(staging_root);
            self.tidy();
            return Err(e);
        }
        let committed = self.commit(tx, staged, target, replacing);
        let _ = fs::remove_dir_all(staging_root);
        self.tidy();
        committed
    }
}

fn remove_tmp_files(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let n = e.file_name();
            let n = n.to_string_lossy();
            if n.starts_with('.') && n.contains(".tmp-") {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}
