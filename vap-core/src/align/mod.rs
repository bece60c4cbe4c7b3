//! Alignment: every stream of a session on one regular grid, a [`Timeline`].
//!
//! [`Timeline::build`] reads a [`SessionData`](crate::SessionData) and makes
//! these columns (bins are closed-left, `[t, t + step)`):
//!
//! | columns | kind | how |
//! |---|---|---|
//! | each flow metric (`entries`, `gmv`, ...) | flow | summed per bin; a sample accrued over `(previous, ts]` is spread over that span ([`FlowMode::Spread`], default) or counted at `ts` ([`FlowMode::Point`]) |
//! | each gauge metric (`online_viewers`) | gauge | time-weighted mean of the last observation carried forward, each valid for a maximum staleness; bins it does not reach are missing (NaN + mask) |
//! | `gpm`, `conversion`, `aov` | rate | `1000 × gmv / entries`, `orders / entries`, `gmv / orders` (`gmv` = the platform metric when declared, else `order_gmv`); missing where the denominator is 0 |
//! | `comments`, `questions`, `orders`, `quantity`, `order_gmv`, `refunds`, `refund_gmv`, `gmv:<product>`, `orders:<product>` | count / sum | events summed into the bin of their timestamp |
//! | `anchor:<id>`, `explain:any`, `explain:<product>`, `promo:<kind>`, `speech` | interval | the share of the bin covered by the union of the intervals, in [0, 1] |
//! | `speech:<group>`, `comments:<group>` | lexicon | phrase matches per bin ([`Lexicon`]); a match in an utterance is placed by its character position between the utterance's start and end |
//!
//! Conservation holds for flows and events (the bins sum to what lies inside
//! the grid), interval fractions times the step sum to the clipped length of
//! the union, and gauge means lie between the samples' minimum and maximum.
//!
//! Also here: [`Transform`]s (lag, lead, adstock, Weibull, Hill) applied with
//! [`Timeline::derive`], the room view ([`room_timeline`]), clock offsets
//! ([`estimate_offset`], [`estimate_transcript_offset`]) and as-of joins
//! ([`asof_join`]).
//!
//! ```
//! use vap_core::{align::{AlignOptions, Timeline}, sim};
//! let room = sim::simulate(&sim::SimConfig { seed: 1, hours: 0.25, ..Default::default() }).unwrap();
//! let tl = Timeline::build(&room.data, &AlignOptions { step_ms: 60_000, ..Default::default() }).unwrap();
//! assert_eq!(tl.len(), 15);
//! let orders: f64 = tl.values("orders").unwrap().iter().sum();
//! assert_eq!(orders as usize, room.data.orders.iter().filter(|o| o.status == vap_core::OrderStatus::Paid).count());
//! ```

mod asof;
mod build;
mod grid;
mod lexicon;
mod offset;
mod questions;
mod timeline;
mod transform;

pub use asof::{asof_indices, asof_join, AsofDirection, AsofOptions};
pub(crate) use build::median_gap;
pub use build::{
    bin_flow, bin_gauge, bin_union, default_staleness, room_timeline, store_room_timeline,
    AlignOptions, FlowMode, EVENT_COLUMNS, MAX_TIMELINE_CELLS, RATE_COLUMNS,
};
pub use grid::{parse_duration_ms, Grid, MAX_BINS};
pub use lexicon::{fold, fold_into, Lexicon, Matcher, PhraseMatch, BUILTIN};
pub use offset::{
    estimate_offset, estimate_recording_offset, estimate_transcript_offset, shift_utterances,
    OffsetEstimate, OffsetOptions, OffsetStatus, MIN_EDGE_STARTS,
};
pub use questions::{
    focus_at, question_kind, questions, Answer, LinkedBy, Question, QuestionKind, QuestionOptions,
};
pub use timeline::{ColumnKind, ColumnMeta, ColumnOptions, ColumnsOptions, SessionSpan, Timeline};
pub use transform::{adstock, convolve, hill, log_saturation, weibull_weights, Transform};
