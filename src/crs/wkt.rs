//! `.prj` WKT to a PROJ string. The projections boundary files use are mapped here: geographic, Transverse
//! Mercator (incl. ESRI `Gauss_Kruger`), Lambert Conformal Conic, Albers and Web Mercator, on the datums gridmap knows
//! how to shift (WGS84, CGCS2000, NAD83, NAD27); a datum it cannot shift is refused rather than read ~100 m off.
//! What this reader cannot read (WKT2, other projections) goes to `proj4wkt` (from the proj4rs authors), kept only
//! when its datum is one whose shift is known. proj4wkt was tried first on the reference files: it reads them all,
//! but drops NAD27's shift (the North Carolina file ~100 m off) and would take Beijing 1954 with no shift, so it is
//! the second reader, not the first.

/// A node of the WKT tree: `NAME[arg, arg, …]`.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Text(String),
    Number(f64),
    Node(Node),
}

#[derive(Debug, Clone, PartialEq)]
struct Node {
    name: String,
    args: Vec<Value>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.args.iter().find_map(|a| match a {
            Value::Node(n) if n.name.eq_ignore_ascii_case(name) => Some(n),
            _ => None,
        })
    }

    fn text(&self, i: usize) -> Option<&str> {
        match self.args.get(i)? {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    fn number(&self, i: usize) -> Option<f64> {
        match self.args.get(i)? {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// `PARAMETER["name", value]` children, names normalised to lower case.
    fn parameter(&self, names: &[&str]) -> Option<f64> {
        self.args.iter().find_map(|a| match a {
            Value::Node(n) if n.name.eq_ignore_ascii_case("PARAMETER") => {
                let name = n.text(0)?.to_ascii_lowercase();
                names.contains(&name.as_str()).then(|| n.number(1)).flatten()
            }
            _ => None,
        })
    }

    /// `AUTHORITY["EPSG", "code"]` directly under this node.
    fn epsg(&self) -> Option<u16> {
        let a = self.child("AUTHORITY")?;
        if !a.text(0)?.eq_ignore_ascii_case("EPSG") {
            return None;
        }
        match a.args.get(1)? {
            Value::Text(s) => s.trim().parse().ok(),
            Value::Number(n) => Some(*n as u16),
            Value::Node(_) => None,
        }
    }
}

fn parse(text: &str) -> Result<Node, String> {
    let chars: Vec<char> = text.trim().trim_start_matches('\u{feff}').chars().collect();
    let mut pos = 0;
    let node = parse_node(&chars, &mut pos)?;
    Ok(node)
}

fn skip_ws(c: &[char], pos: &mut usize) {
    while c.get(*pos).is_some_and(|c| c.is_whitespace()) {
        *pos += 1;
    }
}

fn parse_node(c: &[char], pos: &mut usize) -> Result<Node, String> {
    skip_ws(c, pos);
    let start = *pos;
    while c.get(*pos).is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_') {
        *pos += 1;
    }
    let name: String = c[start..*pos].iter().collect();
    if name.is_empty() {
        return Err(format!("expected a keyword at character {start}"));
    }
    skip_ws(c, pos);
    if !matches!(c.get(*pos), Some('[' | '(')) {
        return Err(format!("expected '[' after {name} at character {}", *pos));
    }
    *pos += 1;
    let mut args = Vec::new();
    loop {
        skip_ws(c, pos);
        match c.get(*pos) {
            None => return Err(format!("unterminated {name}[…]")),
            Some(']' | ')') => {
                *pos += 1;
                return Ok(Node { name, args });
            }
            Some(',') => *pos += 1,
            Some('"') => {
                *pos += 1;
                let s = *pos;
                while c.get(*pos).is_some_and(|c| *c != '"') {
                    *pos += 1;
                }
                args.push(Value::Text(c[s..(*pos).min(c.len())].iter().collect()));
                *pos += 1;
            }
            Some(ch) if ch.is_ascii_digit() || matches!(ch, '-' | '+' | '.') => {
                let s = *pos;
                while c.get(*pos).is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')) {
                    *pos += 1;
                }
                let t: String = c[s..*pos].iter().collect();
                args.push(Value::Number(t.parse().map_err(|_| format!("bad number {t:?} in {name}"))?));
            }
            Some(_) => {
                let before = *pos;
                let start = *pos;
                while c.get(*pos).is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_') {
                    *pos += 1;
                }
                skip_ws(c, pos);
                if matches!(c.get(*pos), Some('[' | '(')) {
                    *pos = before;
                    args.push(Value::Node(parse_node(c, pos)?));
                } else if *pos > start {
                    // Bare enumerations such as AXIS["X", EAST].
                    args.push(Value::Text(c[start..*pos].iter().collect::<String>().trim().to_owned()));
                } else {
                    return Err(format!("unexpected {:?} at character {}", c[*pos], *pos));
                }
            }
        }
    }
}

/// What a `.prj` says, as a PROJ string, with the EPSG code when the file names one.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PrjCrs {
    pub proj4: String,
    pub epsg: Option<u16>,
    pub name: String,
}

/// NAD27 as PROJ's `cs2cs EPSG:4267 EPSG:4326` shifts it without NADCON grids: EPSG:1173 (CONUS, ±10 m).
/// proj4rs's `+datum=NAD27` wants the grids and would silently apply no shift (~20 m off) without them.
pub(super) const NAD27: &str = "+ellps=clrk66 +towgs84=-8,160,176,0,0,0,0";

/// Datum part of a PROJ string for a GEOGCS node.
fn datum(geogcs: &Node) -> Result<String, String> {
    let datum = geogcs.child("DATUM").ok_or("GEOGCS without DATUM")?;
    let name = datum.text(0).unwrap_or_default().to_ascii_lowercase().replace([' ', '-'], "_");
    let spheroid = datum.child("SPHEROID");
    let a = spheroid.and_then(|s| s.number(1));
    let rf = spheroid.and_then(|s| s.number(2));
    let ellps = |a: f64, rf: f64| format!("+a={a} +rf={rf}");
    let towgs = datum.child("TOWGS84").map(|t| {
        let v: Vec<String> =
            t.args.iter().filter_map(|x| if let Value::Number(n) = x { Some(n.to_string()) } else { None }).collect();
        format!(" +towgs84={}", v.join(","))
    });
    let n = name.trim_start_matches("d_");
    Ok(if n.contains("wgs_1984") || n == "wgs84" {
        "+datum=WGS84".to_owned()
    } else if n.contains("north_american_1983") || n.contains("north_american_datum_1983") || n == "nad83" {
        "+ellps=GRS80 +towgs84=0,0,0,0,0,0,0".to_owned()
    } else if n.contains("north_american_1927") || n.contains("north_american_datum_1927") || n == "nad27" {
        NAD27.to_owned()
    } else if n.contains("china_2000") || n.contains("cgcs2000") || n.contains("cgcs_2000") {
        // CGCS2000 and WGS84 agree within about a metre: no shift, as elsewhere in gridmap.
        "+ellps=GRS80 +towgs84=0,0,0,0,0,0,0".to_owned()
    } else if let Some(t) = towgs {
        format!("{}{t}", ellps(a.ok_or("SPHEROID without axis")?, rf.ok_or("SPHEROID without flattening")?))
    } else if let (Some(a), Some(rf)) = (a, rf)
        && ((a - 6_378_137.0).abs() < 0.5
            && ((rf - 298.257_223_563).abs() < 1e-6 || (rf - 298.257_222_101).abs() < 1e-6))
    {
        // An unnamed datum on the WGS84/GRS80 ellipsoid (e.g. "D_unknown" from R's sf): taken as WGS84.
        format!("{} +towgs84=0,0,0,0,0,0,0", ellps(a, rf))
    } else {
        return Err(format!(
            "datum {:?} needs a datum shift gridmap does not know (Beijing 1954 and Xi'an 1980 are not supported); \
             reproject the file to EPSG:4326 or EPSG:4490 first, or pass --crs EPSG:NNNN",
            datum.text(0).unwrap_or_default()
        ));
    })
}

/// Parses a `.prj` file's WKT: this module's reader, else proj4wkt for what it cannot read (a datum this reader
/// refuses stays refused).
pub(super) fn prj_to_proj4(text: &str) -> Result<PrjCrs, String> {
    match wkt1(text) {
        Err(e) if !e.starts_with("datum ") => {
            via_proj4wkt(text).map_err(|second| format!("{e} (nor can proj4wkt: {second})"))
        }
        other => other,
    }
}

/// WKT (1 or 2) through proj4wkt, kept when the datum's shift to WGS84 is known: an explicit `+towgs84`, or the
/// WGS84/GRS80 ellipsoid (WGS84, CGCS2000, NAD83 agree within a metre or so).
fn via_proj4wkt(text: &str) -> Result<PrjCrs, String> {
    let proj4 = proj4wkt::wkt_to_projstring(text).map_err(|e| e.to_string())?;
    let has = |param: &str, value: f64| {
        proj4
            .split_whitespace()
            .filter_map(|t| t.strip_prefix(param))
            .any(|v| v.parse::<f64>().is_ok_and(|v| (v - value).abs() < 1e-6))
    };
    let known = proj4.contains("+towgs84=")
        || proj4.contains("+datum=WGS84")
        || (has("+a=", 6_378_137.0) && (has("+rf=", 298.257_223_563) || has("+rf=", 298.257_222_101)));
    if !known {
        return Err(format!("its datum has no known shift to WGS84 ({proj4}); pass --crs EPSG:NNNN"));
    }
    let name = text.split('"').nth(1).unwrap_or_default().to_owned();
    Ok(PrjCrs { proj4: format!("{proj4} +no_defs"), epsg: None, name })
}

/// This module's WKT1 reader.
fn wkt1(text: &str) -> Result<PrjCrs, String> {
    let root = parse(text)?;
    let name = root.text(0).unwrap_or_default().to_owned();
    match root.name.to_ascii_uppercase().as_str() {
        "GEOGCS" => {
            let d = datum(&root)?;
            Ok(PrjCrs { proj4: format!("+proj=longlat {d} +no_defs"), epsg: root.epsg(), name })
        }
        "PROJCS" => {
            let geogcs = root.child("GEOGCS").ok_or("PROJCS without GEOGCS")?;
            let d = datum(geogcs)?;
            let to_m = root.child("UNIT").and_then(|u| u.number(1)).unwrap_or(1.0);
            let projection = root.child("PROJECTION").and_then(|p| p.text(0)).unwrap_or_default().to_ascii_lowercase();
            let p = |names: &[&str], default: f64| root.parameter(names).unwrap_or(default);
            let lon_0 = p(&["central_meridian", "longitude_of_center", "longitude_of_origin"], 0.0);
            let lat_0 = p(&["latitude_of_origin", "latitude_of_center"], 0.0);
            // False easting/northing are in the projection's linear unit; PROJ wants metres.
            let x_0 = p(&["false_easting"], 0.0) * to_m;
            let y_0 = p(&["false_northing"], 0.0) * to_m;
            let k = p(&["scale_factor"], 1.0);
            let proj = if projection.contains("transverse_mercator") || projection.contains("gauss_kruger") {
                format!("+proj=tmerc +lat_0={lat_0} +lon_0={lon_0} +k={k} +x_0={x_0} +y_0={y_0}")
            } else if projection.starts_with("lambert_conformal_conic") {
                let lat_1 = p(&["standard_parallel_1"], lat_0);
                let lat_2 = p(&["standard_parallel_2"], lat_1);
                format!(
                    "+proj=lcc +lat_1={lat_1} +lat_2={lat_2} +lat_0={lat_0} +lon_0={lon_0} +k_0={k} +x_0={x_0} +y_0={y_0}"
                )
            } else if projection.starts_with("albers") {
                let lat_1 = p(&["standard_parallel_1"], lat_0);
                let lat_2 = p(&["standard_parallel_2"], lat_1);
                format!("+proj=aea +lat_1={lat_1} +lat_2={lat_2} +lat_0={lat_0} +lon_0={lon_0} +x_0={x_0} +y_0={y_0}")
            } else if projection.contains("mercator_auxiliary_sphere") || projection.contains("popular_visualisation") {
                return Ok(PrjCrs { proj4: crs_definitions::EPSG_3857.proj4.to_owned(), epsg: Some(3857), name });
            } else if projection == "mercator" || projection.starts_with("mercator_1sp") {
                format!("+proj=merc +lon_0={lon_0} +k={k} +x_0={x_0} +y_0={y_0}")
            } else {
                return Err(format!("projection {projection:?} is not supported; pass --crs EPSG:NNNN"));
            };
            Ok(PrjCrs { proj4: format!("{proj} {d} +to_meter={to_m} +no_defs"), epsg: root.epsg(), name })
        }
        other => Err(format!("{other}[…] is not a WKT1 coordinate system (expected GEOGCS or PROJCS)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esri_gauss_kruger_cgcs2000() {
        let wkt = r#"PROJCS["CGCS2000_3_Degree_GK_CM_120E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
        let p = prj_to_proj4(wkt).expect("parses");
        assert!(p.proj4.starts_with("+proj=tmerc +lat_0=0 +lon_0=120 +k=1 +x_0=500000 +y_0=0"), "{}", p.proj4);
        assert!(p.proj4.contains("+ellps=GRS80"), "{}", p.proj4);
    }

    #[test]
    fn ogc_wkt_with_authority() {
        let p = prj_to_proj4(crs_definitions::EPSG_32618.wkt).expect("parses");
        assert_eq!(p.epsg, Some(32618));
    }

    #[test]
    fn unknown_datum_is_refused() {
        let wkt = r#"GEOGCS["GCS_Beijing_1954",DATUM["D_Beijing_1954",SPHEROID["Krasovsky_1940",6378245.0,298.3]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
        let e = prj_to_proj4(wkt).expect_err("refused");
        assert!(e.contains("Beijing_1954"), "{e}");
    }
}

#[cfg(test)]
mod second_reader {
    use super::*;

    /// CGCS2000 / 3-degree Gauss-Kruger CM 120E (EPSG:4549) in WKT2, which the WKT1 reader cannot read.
    const WKT2_4549: &str = r#"PROJCRS["CGCS2000 / 3-degree Gauss-Kruger CM 120E",BASEGEOGCRS["China Geodetic Coordinate System 2000",DATUM["China 2000",ELLIPSOID["CGCS2000",6378137,298.257222101,LENGTHUNIT["metre",1]]],PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]]],CONVERSION["3-degree Gauss-Kruger CM 120E",METHOD["Transverse Mercator",ID["EPSG",9807]],PARAMETER["Latitude of natural origin",0,ANGLEUNIT["degree",0.0174532925199433]],PARAMETER["Longitude of natural origin",120,ANGLEUNIT["degree",0.0174532925199433]],PARAMETER["Scale factor at natural origin",1,SCALEUNIT["unity",1]],PARAMETER["False easting",500000,LENGTHUNIT["metre",1]],PARAMETER["False northing",0,LENGTHUNIT["metre",1]]],CS[Cartesian,2],AXIS["northing (X)",north,ORDER[1],LENGTHUNIT["metre",1]],AXIS["easting (Y)",east,ORDER[2],LENGTHUNIT["metre",1]]]"#;

    #[test]
    fn wkt2_is_read_by_proj4wkt() {
        assert!(wkt1(WKT2_4549).is_err(), "the WKT1 reader does not read WKT2");
        let prj = prj_to_proj4(WKT2_4549).expect("proj4wkt reads it");
        assert!(prj.proj4.contains("+proj=tmerc") && prj.proj4.contains("+lon_0=120"), "{}", prj.proj4);
        assert_eq!(prj.name, "CGCS2000 / 3-degree Gauss-Kruger CM 120E");
        // The same place as EPSG:4549 gives it, near Nanjing (easting, northing as files store them).
        let from_wkt2 = crate::crs::ImportCrs::from_prj(WKT2_4549).expect("prj").reprojector().expect("proj");
        let from_epsg = crate::crs::ImportCrs::Epsg(4549).reprojector().expect("proj");
        let (a, b) = (from_wkt2.to_wgs84(387_000.0, 3_544_000.0), from_epsg.to_wgs84(387_000.0, 3_544_000.0));
        let ((x0, y0), (x1, y1)) = (a.expect("wkt2"), b.expect("epsg"));
        assert!((x0 - x1).abs() < 1e-7 && (y0 - y1).abs() < 1e-7, "({x0}, {y0}) vs ({x1}, {y1})");
    }

    #[test]
    fn a_datum_without_a_known_shift_stays_refused() {
        let beijing = r#"GEOGCS["GCS_Beijing_1954",DATUM["D_Beijing_1954",SPHEROID["Krasovsky_1940",6378245.0,298.3]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
        let e = prj_to_proj4(beijing).expect_err("no shift known");
        assert!(e.contains("Beijing"), "{e}");
        let wkt2 = WKT2_4549.replace("6378137,298.257222101", "6378245,298.3");
        assert!(prj_to_proj4(&wkt2).is_err(), "proj4wkt's answer is not kept without a known shift");
    }
}
