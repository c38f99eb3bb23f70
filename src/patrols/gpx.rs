//! GPX tracks (GPX 1.0 and 1.1): every `<trkpt>` of every track and segment in document order, with its `<time>`.
//! A file with only route or waypoint points, or points without time, is refused: a patrol needs timestamps.

use quick_xml::events::Event;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Fix;
use crate::coord::LonLat;

/// Why a GPX file was refused; messages name the file and the point.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GpxError {
    /// Not well-formed XML.
    #[error("{file}: not readable GPX at byte {at}: {reason}")]
    Xml {
        /// File name.
        file: String,
        /// Byte offset.
        at: u64,
        /// Parser message.
        reason: String,
    },
    /// A point's attribute or time is wrong.
    #[error("{file}: {element} {index}: {problem}")]
    Point {
        /// File name.
        file: String,
        /// `trkpt` or `rtept`.
        element: &'static str,
        /// 0-based among those elements.
        index: usize,
        /// What is wrong.
        problem: String,
    },
    /// No track points.
    #[error(
        "{file}: no <trkpt> with a <time> ({routes} route/way points without times): a patrol needs a timestamped track"
    )]
    NoTrack {
        /// File name.
        file: String,
        /// `rtept`/`wpt` seen.
        routes: usize,
    },
}

#[derive(Default)]
struct Open {
    lon: Option<f64>,
    lat: Option<f64>,
    time: Option<String>,
}

/// Reads the track points of a GPX document.
pub fn read_gpx(file: &str, text: &str) -> Result<Vec<Fix>, GpxError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut fixes = Vec::new();
    let mut point: Option<Open> = None;
    let mut in_time = false;
    let mut routes = 0usize;
    let point_err =
        |index: usize, problem: String| GpxError::Point { file: file.into(), element: "trkpt", index, problem };
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event().map_err(|e| GpxError::Xml { file: file.into(), at, reason: e.to_string() })?;
        match event {
            Event::Start(e) if e.local_name().as_ref() == b"trkpt" => {
                let mut p = Open::default();
                for a in e.attributes().flatten() {
                    let v = std::str::from_utf8(&a.value).unwrap_or_default().trim().to_owned();
                    let number = |name: &str| {
                        v.parse::<f64>().map_err(|_| point_err(fixes.len(), format!("{name}={v:?} is not a number")))
                    };
                    match a.key.local_name().as_ref() {
                        b"lon" => p.lon = Some(number("lon")?),
                        b"lat" => p.lat = Some(number("lat")?),
                        _ => {}
                    }
                }
                point = Some(p);
            }
            Event::Empty(e) if e.local_name().as_ref() == b"trkpt" => {
                return Err(point_err(fixes.len(), "has no <time>: a patrol needs timestamps".into()));
            }
            Event::Start(e) | Event::Empty(e) if matches!(e.local_name().as_ref(), b"rtept" | b"wpt") => routes += 1,
            Event::Start(e) if point.is_some() && e.local_name().as_ref() == b"time" => in_time = true,
            Event::Text(t) if in_time => {
                if let Some(p) = point.as_mut() {
                    p.time = Some(t.decode().map(|s| s.trim().to_owned()).unwrap_or_default());
                }
            }
            Event::End(e) if e.local_name().as_ref() == b"time" => in_time = false,
            Event::End(e) if e.local_name().as_ref() == b"trkpt" => {
                let Some(p) = point.take() else { continue };
                let index = fixes.len();
                let (Some(lon), Some(lat)) = (p.lon, p.lat) else {
                    return Err(point_err(index, "needs both lat and lon attributes".into()));
                };
                let location = LonLat::new(lon, lat).map_err(|e| point_err(index, e.to_string()))?;
                let Some(raw) = p.time else {
                    return Err(point_err(index, "has no <time>: a patrol needs timestamps".into()));
                };
                let at = OffsetDateTime::parse(&raw, &Rfc3339)
                    .map_err(|e| point_err(index, format!("time {raw:?} is not ISO 8601 / RFC 3339: {e}")))?;
                fixes.push(Fix { location, at });
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if fixes.is_empty() {
        return Err(GpxError::NoTrack { file: file.into(), routes });
    }
    Ok(fixes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_points_with_times_in_order() {
        let gpx = r#"<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>
            <trkpt lat="32.02" lon="118.79"><ele>10</ele><time>2026-11-28T08:00:00Z</time></trkpt>
            <trkpt lat="32.021" lon="118.791"><time>2026-11-28T08:01:00Z</time></trkpt></trkseg></trk></gpx>"#;
        let fixes = read_gpx("a.gpx", gpx).expect("valid");
        assert_eq!(fixes.len(), 2);
        assert_eq!((fixes[1].location.lon(), fixes[1].location.lat()), (118.791, 32.021));
        assert!(fixes[1].at > fixes[0].at);
    }

    #[test]
    fn routes_and_untimed_points_are_refused() {
        let route = r#"<gpx><rte><rtept lat="45.2" lon="13.7"><name>1</name></rtept></rte></gpx>"#;
        let e = read_gpx("route.gpx", route).expect_err("no track");
        assert!(e.to_string().contains("route.gpx: no <trkpt>"), "{e}");
        let untimed = r#"<gpx><trk><trkseg><trkpt lat="45.2" lon="13.7"><ele>3</ele></trkpt></trkseg></trk></gpx>"#;
        let e = read_gpx("t.gpx", untimed).expect_err("no time");
        assert_eq!(e.to_string(), "t.gpx: trkpt 0: has no <time>: a patrol needs timestamps");
        let bad = r#"<gpx><trk><trkseg><trkpt lat="x" lon="13.7"><time>2026-11-28T08:00:00Z</time></trkpt></trkseg></trk></gpx>"#;
        assert!(read_gpx("b.gpx", bad).expect_err("bad lat").to_string().contains("lat=\"x\""));
    }
}
