//! Work files: checkpoints of long jobs (a transcription's finished chunks),
//! stored as `<session>/work/<area>/<name>` and carried over by
//! [`Store::update_session`] unless it drops their area.

use std::fs;

use super::layout::id_arg;
use super::Store;
use crate::error::{Result, VapError};

impl Store {
    /// Saves one work file (a checkpoint of a long job) as
    /// `<session>/work/<area>/<name>`, atomically. Work files survive
    /// [`Store::update_session`] unless it names their area in `drop_work`.
    pub fn save_work(
        &self,
        room: &str,
        session: &str,
        area: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<()> {
        id_arg(area)?;
        id_arg(name)?;
        let _lock = self.lock(true)?;
        self.manifest_unlocked(room, session)?;
        let dir = self.session_dir(room, session)?.join("work").join(area);
        fs::create_dir_all(&dir).map_err(|e| VapError::io(&dir, e))?;
        let p = dir.join(name);
        self.write_atomic(&format!("work:{area}"), &p, bytes)
    }

    /// The work files of one area of a session, `(name, bytes)` sorted by name
    /// (empty when there are none).
    pub fn read_work(
        &self,
        room: &str,
        session: &str,
        area: &str,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        id_arg(area)?;
        let _lock = self.lock(false)?;
        self.manifest_unlocked(room, session)?;
        let dir = self.session_dir(room, session)?.join("work").join(area);
        let mut out = Vec::new();
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => Some(rd),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(VapError::io(&dir, e)),
        };
        if let Some(rd) = rd {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.starts_with('.') || !e.path().is_file() {
                    continue;
                }
                let bytes = fs::read(e.path()).map_err(|err| VapError::io(e.path(), err))?;
                out.push((name, bytes));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}
