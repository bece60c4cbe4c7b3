//! The manifest of a session directory (`manifest.json`) and its format version.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Problem, Result, VapError};
use crate::schema::{DataGap, Fact, MetricDecl, Ms, Room, SessionData, VideoRef};
use crate::table::TableName;
use crate::text;

/// Newest manifest format this version reads and writes.
pub const MANIFEST_VERSION: u32 = 1;

/// The manifest of a session directory. Unknown keys are refused (with the
/// closest known one suggested), as are keys given twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Format version; a manifest newer than [`MANIFEST_VERSION`] is refused.
    pub vap_format: u32,
    /// The room.
    pub room: Room,
    /// The session (`room_id` may be omitted: it defaults to the room's id).
    pub session: ManifestSession,
    /// Metric declarations.
    #[serde(default)]
    pub metrics: Vec<MetricDecl>,
    /// Explicit file per table (relative to the directory), overriding discovery.
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub tables: HashMap<String, String>,
}

/// The session entry of a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestSession {
    /// Session id.
    pub id: String,
    /// Room id; defaults to the manifest's room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_id: Option<String>,
    /// Start, ms UTC.
    pub start_ms: Ms,
    /// End, ms UTC (exclusive).
    pub end_ms: Ms,
    /// IANA time zone for display.
    #[serde(default = "utc")]
    pub timezone: String,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Recordings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recordings: Vec<VideoRef>,
    /// Session-level figures the platform reported.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub facts: BTreeMap<String, Fact>,
    /// Spans where a source had no data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<DataGap>,
    /// The run-sheet attached to the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<crate::schema::RunSheet>,
}

fn utc() -> String {
    "UTC".into()
}

impl Manifest {
    /// The manifest describing a loaded session.
    pub fn of(data: &SessionData) -> Manifest {
        Manifest {
            vap_format: MANIFEST_VERSION,
            room: data.room.clone(),
            session: ManifestSession {
                id: data.session.id.clone(),
                room_id: Some(data.session.room_id.clone()),
                start_ms: data.session.start_ms,
                end_ms: data.session.end_ms,
                timezone: data.session.timezone.clone(),
                title: data.session.title.clone(),
                recordings: data.session.recordings.clone(),
                facts: data.session.facts.clone(),
                gaps: data.session.gaps.clone(),
                plan: data.session.plan.clone(),
            },
            metrics: data.metrics.clone(),
            tables: HashMap::new(),
        }
    }

    /// Parses manifest JSON, checking its version. A type error names the
    /// field (`session.start_ms`) and the line and column; an unknown key is
    /// refused with the closest known one suggested (`timzone` → `timezone`);
    /// a key given twice is refused.
    ///
    /// ```
    /// use std::path::Path;
    /// use vap_core::ingest::Manifest;
    /// let e = Manifest::from_json(Path::new("manifest.json"), r#"{"vap_format": 1,
    ///     "room": {"id": "r", "name": "R"},
    ///     "session": {"id": "s", "start_ms": 0, "end_ms": 1000, "timzone": "Asia/Shanghai"}}"#)
    ///     .unwrap_err();
    /// assert!(e.to_string().contains("session.timzone: unknown field `timzone`"), "{e}");
    /// assert!(e.to_string().contains("did you mean `timezone`?"), "{e}");
    /// ```
    pub fn from_json(source: &Path, json: &str) -> Result<Manifest> {
        let value = text::parse_json_strict(json)
            .map_err(|e| VapError::format(source, format!("not valid JSON: {e}")))?;
        let version = value
            .get("vap_format")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        if version > MANIFEST_VERSION as u64 {
            return Err(VapError::Version {
                what: format!("manifest {}", source.display()),
                found: version.min(u32::MAX as u64) as u32,
                supported: MANIFEST_VERSION,
            });
        }
        // From the text, so that errors carry the line and column too.
        let mut de = serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = crate::options::with_suggestion(e.into_inner().to_string());
            let at = if path.is_empty() || path == "." {
                String::new()
            } else {
                format!("{path}: ")
            };
            VapError::format(source, format!("invalid manifest: {at}{inner}"))
        })
    }

    /// The manifest of in-memory tables (`vap.from_tables`, `vap.fromTables`):
    /// as [`Manifest::from_json`], `vap_format` defaulting to this version
    /// when absent (a file on disk must carry it; tables built in code are
    /// always of the running version).
    pub fn for_tables(json: &str) -> Result<Manifest> {
        let source = Path::new("manifest");
        let mut value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| VapError::format(source, format!("not valid JSON: {e}")))?;
        match &mut value {
            serde_json::Value::Object(m) => {
                m.entry("vap_format")
                    .or_insert_with(|| MANIFEST_VERSION.into());
            }
            _ => {
                return Err(VapError::InvalidArgument(
                    "the manifest must be an object (room, session, metrics)".into(),
                ))
            }
        }
        Manifest::from_json(source, &value.to_string())
    }
}

/// Reads `<dir>/manifest.json` (UTF-8 or GB18030), checking its version and
/// that `tables` names only known tables.
pub(super) fn read_manifest(dir: &Path) -> Result<Manifest> {
    let mpath = dir.join("manifest.json");
    let mtext = fs::read(&mpath).map_err(|e| VapError::io(&mpath, e))?;
    let (mtext, _) = text::decode(&mtext).map_err(|m| VapError::format(&mpath, m))?;
    let manifest = Manifest::from_json(&mpath, &mtext)?;
    for k in manifest.tables.keys() {
        if TableName::parse(k).is_none() {
            return Err(VapError::Validation(vec![Problem::new(
                "manifest.json",
                None,
                Some("tables"),
                format!("unknown table '{k}'"),
            )]));
        }
    }
    Ok(manifest)
}
