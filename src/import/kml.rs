//! KML reader: every Placemark (in Documents and Folders, at any depth) is a feature; its `name` and the
//! `ExtendedData` (`Data`/`value` and `SchemaData`/`SimpleData`) are its attributes. KML is WGS84 by definition.

use ::kml::types::Element;
use ::kml::{Kml, types::Placemark};
use serde_json::Value;

use super::feature::{self, Properties};
use super::{ImportError, Parsed, ReadOptions, Report};
use crate::crs::{Crs, ImportCrs};

/// A KML file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum KmlError {
    /// Not UTF-8 or not well-formed KML.
    #[error("{file}: not valid KML: {reason}")]
    Parse {
        /// File name.
        file: String,
        /// Parser message.
        reason: String,
    },
}

/// Reads the Placemarks of a KML document.
pub(super) fn read(file: &str, bytes: &[u8], options: &ReadOptions) -> Result<Parsed, ImportError> {
    let parse = |reason: String| KmlError::Parse { file: file.to_owned(), reason };
    let text = std::str::from_utf8(bytes).map_err(|e| parse(format!("not UTF-8: {e}")))?;
    well_formed(text).map_err(parse)?;
    let root: Kml = text.parse().map_err(|e: ::kml::Error| parse(e.to_string()))?;
    let mut placemarks = Vec::new();
    walk(root, &mut placemarks);

    let crs = options.crs.clone().unwrap_or(ImportCrs::Named(Crs::Wgs84));
    let reprojector = crs.reprojector().map_err(|e| ImportError::crs(file, e))?;
    let mut report = Report::new(file, options.layer);
    report.features = placemarks.len();
    let mut parsed = Parsed::new(report);
    for (i, p) in placemarks.into_iter().enumerate() {
        let props = properties(&p);
        let geometry = match p.geometry.map(geo::Geometry::<f64>::try_from) {
            None => None,
            Some(Ok(g)) => Some(g),
            Some(Err(e)) => {
                parsed.report.error(super::Problem::at(
                    super::Kind::UnreadableGeometry,
                    i,
                    None,
                    "geometry",
                    format!("unusable KML geometry: {e}"),
                ));
                continue;
            }
        };
        if let Some(f) = feature::build(i, props, geometry, options, &reprojector, &mut parsed.report) {
            parsed.features.push(f);
            parsed.source_index.push(i);
        }
    }
    Ok(parsed)
}

/// kml 0.15 loops forever on a document that ends inside an element, so the XML is checked with quick-xml first.
fn well_formed(text: &str) -> Result<(), String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut open: Vec<String> = Vec::new();
    loop {
        let at = reader.buffer_position();
        match reader.read_event() {
            Ok(Event::Start(e)) => open.push(String::from_utf8_lossy(e.name().as_ref()).into_owned()),
            Ok(Event::End(_)) => {
                open.pop();
            }
            Ok(Event::Eof) => {
                return match open.last() {
                    None => Ok(()),
                    Some(tag) => Err(format!("the document ends inside <{tag}> (truncated?)")),
                };
            }
            Ok(_) => {}
            Err(e) => return Err(format!("at byte {at}: {e}")),
        }
    }
}

fn walk(k: Kml, out: &mut Vec<Placemark>) {
    match k {
        Kml::KmlDocument(d) => d.elements.into_iter().for_each(|e| walk(e, out)),
        Kml::Document { elements, .. } => elements.into_iter().for_each(|e| walk(e, out)),
        Kml::Folder(f) => f.elements.into_iter().for_each(|e| walk(e, out)),
        Kml::Placemark(p) => out.push(p),
        _ => {}
    }
}

fn properties(p: &Placemark) -> Properties {
    let mut props = Properties::new();
    if let Some(n) = &p.name {
        props.insert("name".into(), Value::String(n.trim().to_owned()));
    }
    if let Some(d) = &p.description {
        props.insert("description".into(), Value::String(d.trim().to_owned()));
    }
    for child in p.children.iter().filter(|c| c.name == "ExtendedData") {
        extended(child, &mut props);
    }
    props
}

fn extended(e: &Element, props: &mut Properties) {
    for c in &e.children {
        match c.name.as_str() {
            "SimpleData" => {
                if let Some(name) = c.attrs.get("name") {
                    props.insert(name.clone(), Value::String(c.content.clone().unwrap_or_default().trim().to_owned()));
                }
            }
            "Data" => {
                if let Some(name) = c.attrs.get("name") {
                    let value = c.children.iter().find(|v| v.name == "value").and_then(|v| v.content.clone());
                    props.insert(name.clone(), Value::String(value.unwrap_or_default().trim().to_owned()));
                }
            }
            "SchemaData" => extended(c, props),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Layer;

    const DOC: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>streets</name>
<Placemark><name>夫子庙街道</name>
  <ExtendedData><SchemaData schemaUrl="#s"><SimpleData name="code">320104001</SimpleData></SchemaData></ExtendedData>
  <MultiGeometry>
    <Polygon><outerBoundaryIs><LinearRing><coordinates>118.78,32.02 118.79,32.02 118.79,32.03 118.78,32.02</coordinates></LinearRing></outerBoundaryIs></Polygon>
    <Polygon><outerBoundaryIs><LinearRing><coordinates>118.80,32.02 118.81,32.02 118.81,32.03 118.80,32.02</coordinates></LinearRing></outerBoundaryIs></Polygon>
  </MultiGeometry>
</Placemark>
<Placemark><name>no code</name><ExtendedData><Data name="other"><value>x</value></Data></ExtendedData>
  <Polygon><outerBoundaryIs><LinearRing><coordinates>118.78,32.02 118.79,32.02 118.79,32.03 118.78,32.02</coordinates></LinearRing></outerBoundaryIs></Polygon>
</Placemark></Folder></Document></kml>"##;

    #[test]
    fn placemarks_multigeometry_and_extended_data() {
        let parsed = read("t.kml", DOC.as_bytes(), &ReadOptions::new(Layer::Streets)).expect("reads");
        assert_eq!(parsed.report.features, 2);
        assert_eq!(parsed.features.len(), 1);
        let f = &parsed.features[0];
        assert_eq!((f.code.as_str(), f.name.as_str(), f.geometry.0.len()), ("320104001", "夫子庙街道", 2));
        assert_eq!(parsed.report.errors.len(), 1, "{:?}", parsed.report.errors);
        assert_eq!(parsed.report.errors[0].feature, Some(1));
    }

    #[test]
    fn broken_xml_names_the_file() {
        let e = read("bad.kml", b"<kml><Placemark>", &ReadOptions::new(Layer::Streets)).expect_err("refused");
        assert!(e.to_string().contains("bad.kml"), "{e}");
    }
}
