//! Values as platform exports and re-saved spreadsheets write them: numbers
//! with thousands separators, "万" and "亿" units, percentages, "-" for
//! missing; times in local wall-clock formats, Unix seconds or milliseconds,
//! ISO 8601 with an offset, Excel serial days.

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::schema::Ms;

/// Whether a cell means "no value" ("", "-", "--", "—", "N/A", "null").
pub(crate) fn is_missing(s: &str) -> bool {
    let t = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    matches!(
        t,
        "" | "-"
            | "--"
            | "—"
            | "——"
            | "－"
            | "N/A"
            | "n/a"
            | "NA"
            | "null"
            | "NULL"
            | "None"
            | "nan"
            | "NaN"
    )
}

/// A number as exports write it: "1,234.5", "12.3%" (0.123), "1.2万" (12000),
/// "3亿", "1.5w", "¥12.50", "12元", full-width digits. `Ok(None)` for a
/// missing cell; `Err` with what was found for anything else.
pub(crate) fn number(s: &str) -> Result<Option<f64>, String> {
    if is_missing(s) {
        return Ok(None);
    }
    let t = crate::text::normalize(s);
    let mut t: &str = t.trim();
    // A decimal exponent, so that "12.3%" reads as exactly what "0.123" reads as.
    let mut exponent = "";
    for (suffix, e) in [
        ("%", "e-2"),
        ("万", "e4"),
        ("亿", "e8"),
        ("w", "e4"),
        ("W", "e4"),
        ("元", ""),
    ] {
        if let Some(rest) = t.strip_suffix(suffix) {
            t = rest.trim_end();
            exponent = e;
            break;
        }
    }
    let t = t.trim_start_matches(['¥', '￥', '$', '+']).trim();
    let mut cleaned: String = t.chars().filter(|&c| c != ',' && c != '_').collect();
    // Digits, a point and a sign; an exponent ("1.2E+05", as Excel writes) only without a unit.
    let plain = !cleaned.is_empty()
        && cleaned.chars().all(|c| {
            c.is_ascii_digit()
                || c == '.'
                || c == '-'
                || (exponent.is_empty() && matches!(c, 'e' | 'E' | '+'))
        });
    if !plain {
        return Err(format!("not a number: {:?}", s.trim()));
    }
    cleaned.push_str(exponent);
    match cleaned.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(Some(x)),
        _ => Err(format!("not a number: {:?}", s.trim())),
    }
}

/// Days from 1899-12-30 (Excel's day 0) to the Unix epoch.
const EXCEL_EPOCH_DAYS: f64 = 25_569.0;

/// An Excel serial date-time (days since 1899-12-30, local wall clock) as UTC
/// ms in `tz`.
pub(crate) fn excel_serial(days: f64, tz: Tz) -> Result<Ms, String> {
    if !(days.is_finite() && (1.0..2_958_466.0).contains(&days)) {
        return Err(format!("not an Excel date: {days}"));
    }
    let local_ms = in_range(((days - EXCEL_EPOCH_DAYS) * 86_400_000.0).round())
        .ok_or_else(|| format!("an Excel date out of range: {days}"))?;
    let naive = chrono::DateTime::from_timestamp_millis(local_ms)
        .ok_or_else(|| format!("not an Excel date: {days}"))?
        .naive_utc();
    local(naive, tz)
}

fn local(naive: NaiveDateTime, tz: Tz) -> Result<Ms, String> {
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|d| d.timestamp_millis())
        .ok_or_else(|| format!("{naive} does not exist in {tz}"))
}

/// Unix time as a number: seconds below 10¹¹, else milliseconds; within
/// vap's time range.
pub(crate) fn epoch(x: f64) -> Result<Ms, String> {
    if !x.is_finite() || x < 0.0 {
        return Err(format!("not a Unix time: {x}"));
    }
    let ms = if x < 1e11 { x * 1000.0 } else { x };
    in_range(ms.round()).ok_or_else(|| format!("a Unix time out of range: {x}"))
}

/// `ms` as [`Ms`] when it lies in vap's time range.
fn in_range(ms: f64) -> Option<Ms> {
    use crate::schema::{MAX_TIME_MS, MIN_TIME_MS};
    (ms >= MIN_TIME_MS as f64 && ms <= MAX_TIME_MS as f64).then_some(ms as Ms)
}

fn checked(ms: Ms, what: &str) -> Result<Ms, String> {
    in_range(ms as f64).ok_or_else(|| format!("a time out of range: {what:?}"))
}

/// An instant as exports write it, local times read in `tz`:
/// "2026/11/25 20:00:00", "2026-11-25 20:00", "2026年11月25日 20:00",
/// "2026/1/5 8:00", ISO 8601 with "Z" or an offset, Unix seconds or ms.
pub(crate) fn instant(s: &str, tz: Tz) -> Result<Ms, String> {
    let raw = s.trim();
    if is_missing(raw) {
        return Err("no time".into());
    }
    if let Ok(x) = raw.parse::<f64>() {
        return epoch(x);
    }
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(raw) {
        return checked(d.timestamp_millis(), raw);
    }
    // An explicit offset or Z after the time: read it, then the wall clock.
    let (body, offset_min) = split_offset(raw);
    let groups: Vec<&str> = body
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let bad = || format!("not a date-time: {raw:?}");
    if groups.len() < 3 || groups[0].len() != 4 {
        return Err(bad());
    }
    let n = |i: usize| -> Result<u32, String> {
        groups
            .get(i)
            .map_or(Ok(0), |g| g.parse::<u32>().map_err(|_| bad()))
    };
    let (y, mo, d, h, mi, se) = (n(0)? as i32, n(1)?, n(2)?, n(3)?, n(4)?, n(5)?);
    let frac_ms = groups
        .get(6)
        .map(|g| {
            let digits: String = g.chars().take(3).collect();
            let v: u32 = digits.parse().unwrap_or(0);
            v * 10u32.pow(3 - digits.len() as u32)
        })
        .unwrap_or(0);
    let naive = NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|date| date.and_hms_milli_opt(h, mi, se, frac_ms))
        .ok_or_else(bad)?;
    let ms = match offset_min {
        Some(m) => naive.and_utc().timestamp_millis() - m as i64 * 60_000,
        None => local(naive, tz)?,
    };
    checked(ms, raw)
}

/// Splits a trailing "Z", "+08:00" or "+0800" (after a time) off.
fn split_offset(s: &str) -> (&str, Option<i32>) {
    if let Some(body) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        return (body, Some(0));
    }
    for len in [6usize, 5] {
        let Some(cut) = s.len().checked_sub(len).filter(|c| *c > 8) else {
            continue;
        };
        let (Some(body), Some(tail)) = (s.get(..cut), s.get(cut..)) else {
            continue;
        };
        let sign = match tail.as_bytes()[0] {
            b'+' => 1,
            b'-' => -1,
            _ => continue,
        };
        let digits: String = tail[1..].chars().filter(|c| *c != ':').collect();
        if digits.len() == 4 && digits.chars().all(|c| c.is_ascii_digit()) && body.contains(':') {
            let h: i32 = digits[..2].parse().unwrap_or(0);
            let m: i32 = digits[2..].parse().unwrap_or(0);
            return (body.trim_end(), Some(sign * (h * 60 + m)));
        }
    }
    (s, None)
}

/// Parses an IANA time zone name.
pub(crate) fn zone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>()
        .map_err(|_| format!("unknown time zone {name:?} (an IANA name such as \"Asia/Shanghai\")"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_exports_write_them() {
        let n = |s: &str| number(s).unwrap();
        assert_eq!(n("1,234,567.89"), Some(1_234_567.89));
        assert_eq!(n("12.3%"), Some(0.123));
        assert_eq!(n("1.2万"), Some(12_000.0));
        assert_eq!(n("3亿"), Some(3e8));
        assert_eq!(n("1.5w"), Some(15_000.0));
        assert_eq!(n("￥12.50"), Some(12.5));
        assert_eq!(n("１２３"), Some(123.0));
        assert_eq!(n(" 0.0812 "), Some(0.0812));
        assert_eq!(n("1.2E+05"), Some(120_000.0));
        assert!(number("1e5%").is_err());
        for m in ["-", "", "--", "—", "N/A", "null"] {
            assert_eq!(n(m), None, "{m}");
        }
        assert!(number("abc").unwrap_err().contains("abc"));
        assert!(number("12.3.4%").is_err());
    }

    #[test]
    fn instants_in_local_and_explicit_zones() {
        let sh = zone("Asia/Shanghai").unwrap();
        let t = 1_795_608_000_000; // 2026-11-25 12:00 UTC = 20:00 in Shanghai
        for s in [
            "2026/11/25 20:00:00",
            "2026-11-25 20:00",
            "2026年11月25日 20:00",
            "2026年11月25日 20时00分00秒",
            "2026-11-25T12:00:00Z",
            "2026-11-25T20:00:00+08:00",
            "2026-11-25 20:00:00 +0800",
            "1795608000",
            "1795608000000",
        ] {
            assert_eq!(instant(s, sh).unwrap(), t, "{s}");
        }
        assert_eq!(
            instant("2026/1/5 8:00", sh).unwrap(),
            instant("2026-01-05 08:00:00", sh).unwrap()
        );
        assert_eq!(instant("2026/11/25 20:00:00.250", sh).unwrap(), t + 250);
        assert!(instant("25/11/2026", sh).is_err());
        assert!(instant("2026/13/01 00:00", sh).is_err());
        assert!(instant("-", sh).is_err());
        // Out of vap's time range: an error, not a saturated instant.
        for s in [
            "1e300",
            "9999999999999999",
            "9999-01-01 00:00:00",
            "0001-01-01T00:00:00Z",
        ] {
            assert!(instant(s, sh).is_err(), "{s}");
        }
        assert!(epoch(1e15).is_err() && epoch(f64::MAX).is_err());
        assert!(excel_serial(2_958_465.0, sh).is_err());
        // 46351.5 = 2026-11-25 12:00 local.
        assert_eq!(excel_serial(46_351.5, sh).unwrap(), t - 8 * 3_600_000);
        assert!(zone("Mars/Base").is_err());
    }
}
