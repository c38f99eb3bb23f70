"""OWSLib against gridmap's /ogc: lists collections and conformance, pages through a collection's items inside a
bbox, reads one item, and prints what it saw as JSON for tests/ogc.rs to compare with PostGIS / a direct scan.

usage: owslib_check.py BASE_URL COLLECTION MIN_LON,MIN_LAT,MAX_LON,MAX_LAT PAGE_SIZE
"""
import json
import sys

from owslib.ogcapi.features import Features

base, collection, bbox, page_size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
bbox = [float(v) for v in bbox.split(",")]
api = Features(base + "/ogc")
collections = [c["id"] for c in api.collections()["collections"]]
conforms = api.conformance()["conformsTo"]
codes, offset, pages, matched = [], 0, 0, None
while True:
    page = api.collection_items(collection, bbox=bbox, limit=page_size, offset=offset)
    pages += 1
    matched = page["numberMatched"]
    codes += [f["id"] for f in page["features"]]
    if not any(link["rel"] == "next" for link in page["links"]):
        break
    offset += page["numberReturned"]
one = api.collection_item(collection, codes[0]) if codes else None
print(json.dumps({
    "collections": collections,
    "conforms": conforms,
    "codes": codes,
    "pages": pages,
    "number_matched": matched,
    "item": one["id"] if one else None,
}))
