//! A fitted room model ([`RoomModel`]): its JSON form, saving and loading it
//! in the store, and applying it to a new session without refitting.

use std::collections::BTreeMap;

use ndarray::Array1;
use serde::{Deserialize, Serialize};

use super::decompose::{Decomposition, DesignView};
use super::design::{self, ResolvedFactor, Role};
use super::{AttributeOptions, CarryoverKind, FactorSpec, Saturation, SaturationSpec};
use crate::align::Timeline;
use crate::error::{Result, VapError};
use crate::schema::*;
use crate::store::Store;

#[cfg(doc)]
use super::enrich;

/// A coefficient of a saved model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelColumn {
    /// Column name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Coefficient.
    pub value: f64,
}

/// A fitted single-room model: what [`RoomModel::apply`] needs to decompose a
/// new session of the room without refitting. Serialises to JSON
/// ([`RoomModel::save`] stores it in the store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomModel {
    /// `"vap-attribution"`.
    pub format: String,
    /// Format version: 2 where a factor has a logarithmic saturation (a
    /// reader before it would take that curve for a Hill curve), else 1.
    pub version: u32,
    /// Room.
    pub room_id: String,
    /// Sessions fitted.
    pub sessions: Vec<String>,
    /// Bin width of the fit.
    pub step_ms: Ms,
    /// Options (factors as given).
    pub options: AttributeOptions,
    /// The expected-order-value line `(a, b)` that multiplies the exposure.
    pub price: Option<(f64, f64)>,
    /// Factors as fitted (half-life chosen, saturation maximum kept).
    pub factors: Vec<ResolvedFactor>,
    /// Penalty chosen.
    pub penalty: f64,
    /// Coefficients, in design order.
    pub columns: Vec<ModelColumn>,
    /// Bootstrap replicates of the coefficients (same order).
    pub replicates: Vec<Vec<f64>>,
}

impl RoomModel {
    /// The format version a model of these factors is written with (see
    /// [`RoomModel::version`]).
    pub(crate) fn version_of(factors: &[ResolvedFactor]) -> u32 {
        if factors.iter().any(|f| !f.saturation_curve.is_hill()) {
            2
        } else {
            1
        }
    }

    /// JSON text.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| VapError::Internal(format!("model JSON: {e}")))
    }

    /// Reads a model from JSON, checking its format and version.
    pub fn from_json(text: &str) -> Result<RoomModel> {
        let m: RoomModel = serde_json::from_str(text)
            .map_err(|e| VapError::InvalidArgument(format!("not a vap attribution model: {e}")))?;
        if m.format != "vap-attribution" || !(1..=2).contains(&m.version) {
            return Err(VapError::InvalidArgument(format!(
                "model format '{}' version {} is not 'vap-attribution' version 1 or 2",
                m.format, m.version
            )));
        }
        if m.replicates.iter().any(|r| r.len() != m.columns.len()) {
            return Err(VapError::InvalidArgument(
                "model replicates do not match its columns".into(),
            ));
        }
        Ok(m)
    }

    /// Saves the model in the store under `rooms/<room>/models/<name>.json`.
    pub fn save(&self, store: &Store, name: &str) -> Result<()> {
        store.save_model(&self.room_id, name, &self.to_json()?)
    }

    /// Loads a saved model.
    pub fn load(store: &Store, room: &str, name: &str) -> Result<RoomModel> {
        RoomModel::from_json(&store.load_model(room, name)?)
    }

    /// Decomposes a timeline of this room (typically a new session) with the
    /// fitted coefficients, without refitting. A session the model was fitted
    /// on keeps its fixed effect; a new session gets the mean of the fitted
    /// sessions' effects. The timeline needs the model's columns (build it with
    /// the same step and [`enrich`] it as for the fit).
    pub fn apply(&self, tl: &Timeline) -> Result<Decomposition> {
        if tl.step_ms() != self.step_ms {
            return Err(VapError::InvalidArgument(format!(
                "the model was fitted on {} ms bins; the timeline has {} ms bins",
                self.step_ms,
                tl.step_ms()
            )));
        }
        if let Some(s) = tl.spans().iter().find(|s| s.room_id != self.room_id) {
            return Err(VapError::InvalidArgument(format!(
                "the model is of room '{}'; the timeline has session '{}' of room '{}'",
                self.room_id, s.session_id, s.room_id
            )));
        }
        let mut opts = self.options.clone();
        opts.controls.session_effects = false;
        let specs: Vec<FactorSpec> = self
            .factors
            .iter()
            .map(|f| FactorSpec {
                name: f.name.clone(),
                column: f.column.clone(),
                carryover_ms: vec![f.half_life_ms],
                carryover_kind: f.carryover_kind,
                saturation: f.saturation.map(|(slope, inflexion, _)| {
                    SaturationSpec::Hill(Saturation {
                        slope,
                        inflexion,
                        curve: f.saturation_curve,
                    })
                }),
                sign: Some(f.sign),
            })
            .collect();
        let mut d = design::build(tl, &opts, &specs, Some(&self.factors), self.price)?;
        // The session effects: a fitted session keeps its own (its dummy is 1),
        // a new session gets their mean (every dummy 1/S, the reference
        // session's effect being 0), under each bootstrap replicate too.
        let n_levels = self.sessions.len().max(1) as f64;
        let mut inserted = BTreeMap::new();
        for c in self.columns.iter().filter(|c| c.role == Role::Session) {
            let id = c.name.strip_prefix("session:").unwrap_or(&c.name);
            let x: Vec<f64> = (0..d.n)
                .map(|i| {
                    let sid = d.sessions[d.session[i]].0.as_str();
                    if sid == id {
                        1.0
                    } else if self.sessions.iter().any(|s| s == sid) {
                        0.0
                    } else {
                        1.0 / n_levels
                    }
                })
                .collect();
            d.cols.insert(
                d.nu,
                design::Col {
                    name: c.name.clone(),
                    role: Role::Session,
                    factor: None,
                    half_life_ms: 0,
                    kind: CarryoverKind::Adstock,
                    sat: None,
                    sat_max: None,
                    x,
                },
            );
            d.nu += 1;
            inserted.insert(c.name.clone(), ());
        }
        let mut sel = Vec::with_capacity(self.columns.len());
        for c in &self.columns {
            let j = d
                .cols
                .iter()
                .position(|dc| dc.name == c.name && dc.role == c.role)
                .ok_or_else(|| {
                    VapError::InvalidArgument(format!(
                        "the timeline lacks the model's column '{}'",
                        c.name
                    ))
                })?;
            sel.push(j);
        }
        // The model's columns must be the design's: every unpenalised column
        // once, first, then one column per factor.
        let mut head: Vec<usize> = sel[..d.nu.min(sel.len())].to_vec();
        head.sort_unstable();
        if sel.len() != d.nu + d.factors.len() || head != (0..d.nu).collect::<Vec<_>>() {
            return Err(VapError::InvalidArgument(format!(
                "the model's columns ({}) do not match the design it describes ({} unpenalised, {} factors)",
                self.columns.len(),
                d.nu,
                d.factors.len()
            )));
        }
        let coef: Vec<f64> = self.columns.iter().map(|c| c.value).collect();
        let reps = self.replicates.clone();
        let view = DesignView::new(&d, &sel);
        Ok(Decomposition::new(
            &self.options.target,
            &d,
            view,
            Array1::from(coef),
            reps,
        ))
    }
}
