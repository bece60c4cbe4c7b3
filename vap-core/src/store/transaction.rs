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

/// Writes a file atomically: aside, synced, then renamed over the target. The
/// file written aside is removed when any step fails. `fault` (the store's
/// injector, or none) runs once the file aside holds half of `bytes`, so that
/// an injected failure leaves a torn file, as a disk filling up would.
fn write_aside_and_rename(
    path: &Path,
    bytes: &[u8],
    fault: &dyn Fn() -> std::io::Result<()>,
) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", txid()));
    let written = (|| {
        let mut f = fs::File::create(&tmp)?;
        let half = bytes.len() / 2;
        f.write_all(&bytes[..half])?;
        fault()?;
        f.write_all(&bytes[half..])?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(VapError::io(&tmp, e));
    }
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        VapError::io(path, e)
    })?;
    if let Some(p) = path.parent() {
        sync_dir(p);
    }
    Ok(())
}

/// [`Store::write_atomic`] before there is a store (its meta file), and for
/// files vap writes outside a store (the report).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_aside_and_rename(path, bytes, &|| Ok(()))
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
        self.fault_at(name).map_err(|e| VapError::io(path, e))
    }

    fn fault_at(&self, name: &str) -> std::io::Result<()> {
        match &self.fault {
            Some(f) => f(name),
            None => Ok(()),
        }
    }

    /// Writes a new file whole and syncs it (write step `step`). An injected
    /// failure strikes with half the bytes written, as a full disk would.
    pub(super) fn write_file(&self, step: &str, path: &Path, bytes: &[u8]) -> Result<()> {
        let written = (|| {
            let mut f = fs::File::create(path)?;
            let half = bytes.len() / 2;
            f.write_all(&bytes[..half])?;
            self.fault_at(step)?;
            f.write_all(&bytes[half..])?;
            f.sync_all()
        })();
        written.map_err(|e| VapError::io(path, e))
    }

    /// Replaces one file atomically (write step `step`): written aside, synced
    /// and renamed over `path`. On failure nothing is left behind and `path`
    /// is as it was.
    pub(super) fn write_atomic(&self, step: &str, path: &Path, bytes: &[u8]) -> Result<()> {
        write_aside_and_rename(path, bytes, &|| self.fault_at(step))
    }

    /// Takes the store's advisory lock (exclusive for writers); released on
    /// drop. A store opened without write access shares the lock file when
    /// there is one (none can be created) and refuses writers with an I/O
    /// error saying so.
    pub(super) fn lock(&self, exclusive: bool) -> Result<Option<fs::File>> {
        let p = self.root.join(".lock");
        if let Some(kind) = self.read_only {
            if exclusive {
                return Err(VapError::io(
                    &self.root,
                    std::io::Error::new(
                        kind,
                        "the store was opened without write access: imports, replacements, \
                         deletions and saves need it",
                    ),
                ));
            }
            // A lock file someone else created can still be shared-locked.
            return match fs::File::open(&p) {
                Ok(f) => {
                    f.lock_shared().map_err(|e| VapError::io(&p, e))?;
                    Ok(Some(f))
                }
                Err(_) => Ok(None),
            };
        }
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&p)
            .map_err(|e| VapError::io(&p, e))?;
        if exclusive { f.lock() } else { f.lock_shared() }.map_err(|e| VapError::io(&p, e))?;
        Ok(Some(f))
    }

    /// Removes the housekeeping directories when they are empty.
    pub(super) fn tidy(&self) {
        for d in [".staging", ".trash", ".journal"] {
            let _ = fs::remove_dir(self.root.join(d));
        }
    }

    /// Whether a replace was interrupted (a journal entry is left).
    pub(super) fn interrupted_replace(&self) -> bool {
        fs::read_dir(self.root.join(".journal"))
            .map(|rd| {
                rd.flatten()
                    .any(|e| !e.file_name().to_string_lossy().starts_with('.'))
            })
            .unwrap_or(false)
    }

    /// Finishes or rolls back interrupted changes and removes their leftovers;
    /// returns one line per thing it did.
    pub(super) fn recover(&self) -> Result<Vec<String>> {
        let mut notes = Vec::new();
        let jdir = self.root.join(".journal");
        if jdir.is_dir() {
            let mut entries = Vec::new();
            for entry in fs::read_dir(&jdir).map_err(|e| VapError::io(&jdir, e))? {
                entries.push(entry.map_err(|e| VapError::io(&jdir, e))?.path());
            }
            entries.sort();
            for p in entries {
                let Some(tx) = p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".json"))
                    .filter(|n| !n.starts_with('.'))
                else {
                    // A journal being written aside when the process stopped:
                    // nothing had moved yet.
                    continue;
                };
                let backup_of_tx = self.root.join(".trash").join(tx);
                let text = fs::read(&p).map_err(|e| VapError::io(&p, e))?;
                let parsed = serde_json::from_slice::<Journal>(&text)
                    .map_err(|e| e.to_string())
                    .and_then(|j| {
                        // A journal names a place inside the store and the
                        // backup of its own transaction, nothing else.
                        let inside = |p: &Path| {
                            p.is_relative()
                                && p.components()
                                    .all(|c| matches!(c, std::path::Component::Normal(_)))
                        };
                        if inside(&j.target)
                            && j.target.starts_with("rooms")
                            && j.backup == Path::new(".trash").join(tx)
                        {
                            Ok(j)
                        } else {
                            Err(format!(
                                "it names {} and {}, outside the store's places",
                                j.target.display(),
                                j.backup.display()
                            ))
                        }
                    });
                let (target, backup) = match parsed {
                    Ok(j) => (Some(self.root.join(&j.target)), self.root.join(&j.backup)),
                    Err(e) => {
                        // Journals are written aside and renamed, so a torn one
                        // was damaged from outside (or by an older vap). The
                        // backup it would name is `.trash/<tx>`, and the
                        // session it holds names its own place.
                        let target = self.target_of_backup(&backup_of_tx);
                        notes.push(format!(
                            "journal {} was unreadable ({e}); {}",
                            p.display(),
                            if target.is_some() {
                                "its backup was used to finish the recovery"
                            } else {
                                "nothing had been committed under it"
                            }
                        ));
                        (target, backup_of_tx)
                    }
                };
                if let Some(target) = target {
                    let rel = target.strip_prefix(&self.root).unwrap_or(&target);
                    if !target.exists() && backup.exists() {
                        // Interrupted before the commit rename: restore the old session.
                        fs::rename(&backup, &target).map_err(|e| VapError::io(&target, e))?;
                        notes.push(format!(
                            "rolled back an interrupted replace of {}",
                            rel.display()
                        ));
                    } else if backup.exists() {
                        notes.push(format!(
                            "finished an interrupted replace of {}",
                            rel.display()
                        ));
                    }
                }
                fs::remove_file(&p).map_err(|e| VapError::io(&p, e))?;
            }
        }
        let staging = self.root.join(".staging");
        if let Ok(rd) = fs::read_dir(&staging) {
            let n = rd.count();
            if n > 0 {
                notes.push(format!("removed {n} unfinished import(s) from .staging"));
            }
        }
        for d in [".staging", ".trash", ".journal"] {
            let p = self.root.join(d);
            if p.exists() {
                fs::remove_dir_all(&p).map_err(|e| VapError::io(&p, e))?;
            }
        }
        // Leftover temporary files of atomic single-file writes.
        let mut tmp = remove_tmp_files(&self.root);
        if let Ok(rooms) = fs::read_dir(self.rooms_dir()) {
            for r in rooms.flatten() {
                tmp += remove_tmp_files(&r.path());
                tmp += remove_tmp_files(&r.path().join("models"));
                if let Ok(sessions) = fs::read_dir(r.path().join("sessions")) {
                    for s in sessions.flatten() {
                        tmp += remove_tmp_files(&s.path());
                        if let Ok(areas) = fs::read_dir(s.path().join("work")) {
                            for a in areas.flatten() {
                                tmp += remove_tmp_files(&a.path());
                            }
                        }
                    }
                }
            }
        }
        if tmp > 0 {
            notes.push(format!(
                "removed {tmp} temporary file(s) of interrupted writes"
            ));
        }
        Ok(notes)
    }

    /// Where a session backed up in `.trash/<tx>` belongs, from its manifest.
    fn target_of_backup(&self, backup: &Path) -> Option<PathBuf> {
        let text = fs::read(backup.join("manifest.json")).ok()?;
        let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
        let room = v.pointer("/room/id")?.as_str()?;
        let session = v.pointer("/session/id")?.as_str()?;
        self.session_dir(room, session).ok()
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
        // Written aside and renamed: the journal is whole or absent.
        self.write_atomic(
            "journal",
            &jp,
            &serde_json::to_vec(&journal).expect("serialisable"),
        )?;
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

/// Removes the temporary files of interrupted atomic writes in `dir`;
/// returns how many.
fn remove_tmp_files(dir: &Path) -> usize {
    let mut n = 0;
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.contains(".tmp-") && fs::remove_file(e.path()).is_ok()
            {
                n += 1;
            }
        }
    }
    n
}
