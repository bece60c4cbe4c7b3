//! Room-level model documents (fitted attribution models), stored as
//! `rooms/<room>/models/<name>.json`.

use std::fs;

use super::layout::id_arg;
use super::Store;
use crate::error::{Result, VapError};

impl Store {
    /// Saves a room-level model document (JSON) as
    /// `rooms/<room>/models/<name>.json`, atomically (written aside, renamed
    /// over the old one). The room must exist.
    pub fn save_model(&self, room: &str, name: &str, json: &str) -> Result<()> {
        let room = id_arg(room)?;
        let name = id_arg(name)?;
        let _lock = self.lock(true)?;
        let rd = self.room_dir(room);
        if !rd.join("room.json").exists() {
            return Err(VapError::NotFound(format!(
                "room '{room}' is not in the store"
            )));
        }
        let dir = rd.join("models");
        fs::create_dir_all(&dir).map_err(|e| VapError::io(&dir, e))?;
        self.write_atomic(
            "save_model",
            &dir.join(format!("{name}.json")),
            json.as_bytes(),
        )
    }

    /// Reads a model document saved by [`Store::save_model`].
    pub fn load_model(&self, room: &str, name: &str) -> Result<String> {
        let room = id_arg(room)?;
        let name = id_arg(name)?;
        let _lock = self.lock(false)?;
        let p = self
            .room_dir(room)
            .join("models")
            .join(format!("{name}.json"));
        if !p.exists() {
            return Err(VapError::NotFound(format!(
                "room '{room}' has no model '{name}' (looked for {})",
                p.display()
            )));
        }
        fs::read_to_string(&p).map_err(|e| VapError::io(&p, e))
    }

    /// Names of the models saved for a room, sorted.
    pub fn models(&self, room: &str) -> Result<Vec<String>> {
        let room = id_arg(room)?;
        let _lock = self.lock(false)?;
        let dir = self.room_dir(room).join("models");
        let mut out = Vec::new();
        if let Ok(rd) = fs::read_dir(&dir) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                if let Some(stem) = n.strip_suffix(".json") {
                    if !stem.starts_with('.') {
                        out.push(stem.to_string());
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }
}
