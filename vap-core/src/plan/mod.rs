//! Run-sheets (直播脚本 / SOP): what a session was planned to be, and how it
//! went against that plan.
//!
//! A [`RunSheet`] lists planned items of three kinds ([`PlanKind`]): host
//! shifts (who is on camera when), product slots (which product is explained
//! when and for how long, with its talking points) and promotions (which
//! flash sale, coupon or lucky bag fires when). [`read_run_sheet`] reads one
//! from CSV (UTF-8 or GB18030), XLSX or JSON as operators write them:
//!
//! - **columns** in English or in the Chinese operators use: `kind` / 类型,
//!   `time` / 时间段 (`"20:00-20:15"`), `start` / 开始时间, `end` / 结束时间,
//!   `duration` / 时长, `anchor` / 主播, `product` / 商品, `promotion` / 活动
//!   (福利, 促销), `talking_points` / 话术 (卖点), `label` / 备注 (环节);
//!   headers are matched without regard to case, spaces, underscores or a
//!   unit in brackets (`时长(分钟)`); other columns are listed in
//!   [`RunSheet::ignored`];
//! - **rows**: with a `kind` column each row is one item (`shift` / 主播,
//!   `product` / 商品 / 讲解, `promotion` / 活动, or a promotion kind such as
//!   秒杀); without one each row is a *slot*: its product is a product item,
//!   its anchor a shift (consecutive slots of one anchor become one shift
//!   when resolved), its promotion a promotion over the slot;
//! - **times**: a clock time `"20:15"` (on the session's day, in its time
//!   zone), an offset from the session's start `"+15min"` / `"+0:15"` /
//!   `"+15"` (minutes), or a
//!   date-time (`2026-06-18 20:15`, ISO 8601, Unix time, an Excel date);
//!   an item without an end or a duration lasts until the next item of its
//!   kind starts (the last one until the session ends); durations as `"15"`
//!   (minutes), `"15min"`, `"15分钟"`, `"90秒"`, `"00:15:00"`;
//! - **references**: anchors by id or name, products by id, name or alias
//!   (`"3号链接"`), case and width aside; a reference the session does not
//!   know is kept and reported, not refused.
//!
//! Every problem found (an unreadable time, an unknown kind, a product slot
//! without a product) is reported at once, each naming the file, row and
//! field ([`crate::error::VapError::Validation`]).
//!
//! A run-sheet is attached to a session ([`crate::schema::Session::plan`]),
//! kept with it in session directories and the store, and compared with what
//! happened by [`compare`]: what ran late or early, longer or shorter, what
//! was skipped or added, and what each deviation earned or cost according to
//! the attribution model, with bootstrap intervals. The session replay
//! carries the comparison ([`crate::replay::Replay::plan`]) and the report
//! shows it.
//!
//! This module gathers what lives at three levels of the crate: the types
//! in [`crate::schema`], the reading in [`crate::ingest`], the comparison in
//! [`crate::replay`].
//!
//! ```
//! use vap_core::plan::{read_run_sheet_bytes, PlanKind, RunSheetOptions};
//! let csv = "时间段,主播,商品,活动,话术\n\
//!            20:00-20:10,小雨,玻尿酸精华,,补水;到手价\n\
//!            20:10-20:20,小雨,修护面霜,秒杀,\n";
//! let sheet = read_run_sheet_bytes("plan.csv", csv.as_bytes(), &RunSheetOptions::default()).unwrap();
//! // Two product slots, the anchor's shift in each (one shift once resolved), one flash sale.
//! assert_eq!(sheet.items.iter().filter(|i| i.kind == PlanKind::Product).count(), 2);
//! assert_eq!(sheet.items.iter().filter(|i| i.kind == PlanKind::Promotion).count(), 1);
//! assert_eq!(sheet.items[0].talking_points, vec!["补水", "到手价"]);
//! ```

pub use crate::ingest::{read_run_sheet, read_run_sheet_bytes, PlannedItem, RunSheetOptions};
pub use crate::replay::plan::{
    compare, compare_with, Deviation, DeviationStatus, PlanEffect, PlanOptions, PlanReview,
    PLAN_TOLERANCE_MS,
};
pub use crate::replay::playbook::{
    playbook, store_playbook, AnchorCategory, Evidence, FlashTiming, Playbook, PlaybookOptions,
    ProductHistory, ProductPhrase, Recommendation,
};
pub use crate::schema::{PlanItem, PlanKind, PlanTime, RunSheet};

#[cfg(test)]
mod tests;
