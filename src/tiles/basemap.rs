//! An optional raster base map under gridmap's own layers (`gridmap serve --basemap-url`), e.g. a Tianditu or Amap
//! tile service, or tiles served on the local network. Chinese vendors' tiles (Amap, Tencent) are drawn in GCJ-02:
//! with `--basemap-crs gcj02` the style routes them through the console's `gcj02://` protocol, which cuts each tile
//! from the vendor tiles at the place the vendor draws it, so WGS84 data sits on the base map where it belongs.

use serde_json::{Value, json};

/// Coordinates a base map's tiles are drawn in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BasemapCrs {
    /// WGS84 (or CGCS2000, centimetres apart), e.g. Tianditu's `_w` services, OpenStreetMap-style tiles.
    Wgs84,
    /// GCJ-02, e.g. Amap (Gaode) and Tencent tiles.
    Gcj02,
}

/// Why a base map setting was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BasemapError {
    /// The URL lacks one of the tile placeholders.
    #[error("--basemap-url {0:?}: a tile URL template needs {{z}}, {{x}} and {{y}}")]
    Placeholders(String),
    /// Neither http(s) nor a path on this server.
    #[error("--basemap-url {0:?}: expected an http:// or https:// URL, or a path on this server starting with /")]
    Scheme(String),
}

/// A raster base map: 256-pixel XYZ tiles in Web Mercator.
#[derive(Debug, Clone, PartialEq)]
pub struct Basemap {
    url: String,
    crs: BasemapCrs,
    attribution: Option<String>,
    max_zoom: u8,
}

impl Basemap {
    /// Checks the URL template (`{z}`, `{x}`, `{y}`; http(s) or a local path).
    pub fn new(url: &str, crs: BasemapCrs, attribution: Option<String>) -> Result<Self, BasemapError> {
        if !["{z}", "{x}", "{y}"].iter().all(|p| url.contains(p)) {
            return Err(BasemapError::Placeholders(url.to_owned()));
        }
        if !(url.starts_with("http://") || url.starts_with("https://") || url.starts_with('/')) {
            return Err(BasemapError::Scheme(url.to_owned()));
        }
        Ok(Self { url: url.to_owned(), crs, attribution, max_zoom: 18 })
    }

    /// The style source; `base` makes a local path absolute.
    pub fn source(&self, base: &str) -> Value {
        let url = if self.url.starts_with('/') { format!("{base}{}", self.url) } else { self.url.clone() };
        let tile = match self.crs {
            BasemapCrs::Wgs84 => url,
            // The vendor's template travels percent-encoded after the tile's own z/x/y, so MapLibre fills in only
            // the latter; the console decodes it (decodeURIComponent) and fetches the vendor tiles it needs.
            BasemapCrs::Gcj02 => {
                format!("gcj02://{{z}}/{{x}}/{{y}}/{}", url.replace('%', "%25").replace('{', "%7B").replace('}', "%7D"))
            }
        };
        let mut source = json!({"type": "raster", "tiles": [tile], "tileSize": 256, "maxzoom": self.max_zoom});
        if let Some(a) = &self.attribution {
            source["attribution"] = json!(a);
        }
        source
    }

    /// Adds the source and its layer (just above the background) to `style`, and lets it show through the grids'
    /// fill.
    pub fn add_to(&self, style: &mut Value, base: &str) {
        if let Some(sources) = style["sources"].as_object_mut() {
            sources.insert("basemap".into(), self.source(base));
        }
        let Some(layers) = style["layers"].as_array_mut() else { return };
        let at = layers.iter().position(|l| l["type"] != "background").unwrap_or(layers.len());
        layers.insert(at, json!({"id": "basemap", "type": "raster", "source": "basemap"}));
        for l in layers.iter_mut().filter(|l| l["id"] == "grids-fill") {
            l["paint"]["fill-opacity"] = json!(0.15);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_checked() {
        assert!(matches!(
            Basemap::new("https://t0.example/{z}/{x}.png", BasemapCrs::Wgs84, None),
            Err(BasemapError::Placeholders(_))
        ));
        assert!(matches!(Basemap::new("ftp://t/{z}/{x}/{y}", BasemapCrs::Wgs84, None), Err(BasemapError::Scheme(_))));
        assert!(Basemap::new("/basemap/{z}/{x}/{y}.png", BasemapCrs::Wgs84, None).is_ok());
    }

    #[test]
    fn gcj02_tiles_go_through_the_console_protocol_with_the_template_encoded() {
        let b = Basemap::new("https://webrd01.example/tile?x={x}&y={y}&z={z}&s=%20", BasemapCrs::Gcj02, None)
            .expect("valid");
        let s = b.source("http://127.0.0.1:8080");
        assert_eq!(
            s["tiles"][0],
            "gcj02://{z}/{x}/{y}/https://webrd01.example/tile?x=%7Bx%7D&y=%7By%7D&z=%7Bz%7D&s=%2520"
        );
        let w = Basemap::new("/tiles-local/{z}/{x}/{y}.png", BasemapCrs::Wgs84, Some("© local".into())).expect("valid");
        let s = w.source("http://h:1");
        assert_eq!(
            (s["tiles"][0].as_str(), s["attribution"].as_str()),
            (Some("http://h:1/tiles-local/{z}/{x}/{y}.png"), Some("© local"))
        );
    }

    #[test]
    fn the_layer_goes_under_everything_but_the_background() {
        let mut style = json!({"sources": {}, "layers": [{"id": "background", "type": "background"},
            {"id": "grids-fill", "type": "fill", "paint": {"fill-opacity": 0.6}}]});
        Basemap::new("/b/{z}/{x}/{y}.png", BasemapCrs::Wgs84, None).expect("valid").add_to(&mut style, "http://h");
        let ids: Vec<&str> =
            style["layers"].as_array().expect("layers").iter().filter_map(|l| l["id"].as_str()).collect();
        assert_eq!(ids, ["background", "basemap", "grids-fill"]);
        assert_eq!(style["layers"][2]["paint"]["fill-opacity"], 0.15);
    }
}
