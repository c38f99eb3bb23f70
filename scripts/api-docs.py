#!/usr/bin/env python3
"""Render gridmap's OpenAPI 3.1 document (`GET /openapi.json`) as the Markdown reference docs/http-api.md.

Usage:
    curl -s http://127.0.0.1:8080/openapi.json > /tmp/openapi.json
    python3 scripts/api-docs.py /tmp/openapi.json > docs/http-api.md

or, with a debug build, `scripts/regen-api-docs` (both steps on a throwaway database).

Python 3 standard library only. The output depends only on the input document, so the same document always gives
the same file. Operations are grouped by tag; each has its method, path, summary and description (with "Access: …"),
its parameters, its request body and its success answers, with `$ref`s resolved into `components/schemas`, `allOf`
flattened and one level of nested fields shown; every schema is listed once more at the end.
"""

import json
import sys

# Tags in the order a reader meets the service; tags the document adds later follow, alphabetically.
TAG_ORDER = [
    "lookup",
    "boundaries",
    "incidents",
    "dispatch",
    "responders",
    "patrols",
    "hazards",
    "resources",
    "statistics",
    "live",
    "tiles",
    "ogc",
    "operations",
]

TAG_TEXT = {
    "lookup": "Which street, community and grid a point or shape is in; areas, their relations and H3 cells.",
    "boundaries": "Generations of the boundary layers: list, activate, roll back, discard, import a file.",
    "incidents": "Incidents (事件): report, list, read, move along the lifecycle; categories.",
    "dispatch": "Nearest responders, policy-ranked recommendations, assign and release.",
    "responders": "Responders (处置力量): roster, status, positions and their history.",
    "patrols": "Patrol tracks, the H3 cells and grids they covered, grids nobody patrolled.",
    "hazards": "Safety hazards (安全隐患): report, list, lifecycle, overdue ones.",
    "resources": "Fixed resources (hydrants, AEDs, cameras, …).",
    "statistics": "Heatmaps and per-grid figures.",
    "live": "The live event stream.",
    "tiles": "Vector tiles, TileJSON and the MapLibre style.",
    "ogc": "OGC API Features over the boundary layers of the active generation.",
    "operations": "Health, readiness, metrics, the audit log, this document.",
}

METHODS = ["get", "post", "put", "patch", "delete"]

CONVENTIONS = """\
## Conventions

**Base paths.** The API proper is under `/api/v1`; health (`/healthz`, `/readyz`), `/metrics`, tiles (`/tiles/…`),
OGC API Features (`/ogc/…`), `/openapi.json` and `/docs` (a page rendering this document, offline) are at the top
level. The console is served at `/`.

**Coordinates.** Positions are `[lon, lat]` arrays (longitude first) and geometries are GeoJSON, in WGS84 unless the
request says otherwise. Operations with a `crs` query parameter or body field accept `wgs84` (also `EPSG:4326`,
`CRS84`), `cgcs2000` (`EPSG:4490`), `gcj02` (Amap, Tencent) or `bd09` (Baidu):

- on a write, `crs` says what the coordinates in the body are; they are converted to WGS84 before anything is
  stored or geocoded;
- on a read, `crs=` converts every position (`location`, …) and geometry of the answer from WGS84, and a `bbox`
  parameter is read in that system, so a client drawing on a GCJ-02 or BD-09 base map never converts anything
  itself. CGCS2000 is written as WGS84 (they are centimetres apart).

OGC API Features has its own CRS parameters (`crs`, `bbox-crs`; CRS84 by default), as the standard says.

**Errors.** Every refusal is JSON of one shape, whatever the status:

```json
{"error": {"code": "invalid_coordinate", "message": "parameter lon=\\"abc\\": invalid float literal",
           "details": {"parameter": "lon", "value": "abc"}}}
```

`code` is a stable snake_case word for programs, `message` a sentence for people, `details` what the code needs. A
query parameter that does not parse is a 400 naming it in `details.parameter` (a missing required one is
`missing_parameter`); a JSON body that does not parse, or has a field of the wrong type, is a 400 `invalid_json` with
`details.line`, `details.column` and `details.field` (the path of the field, e.g. `location[1]`). A path no route
serves is a 404 `not_found` and a route asked with a method it does not answer is a 405 `method_not_allowed`, both in
the same shape. A body over `--body-limit-mb` is a 413 `body_too_large`. While the database is unreachable, writes
and reads that need it are a 503 `store_unavailable`; what is served from memory keeps answering.

**Pagination.** Lists of incidents, hazards, fixed resources and audit entries are `{"items": [...],
"next_cursor"}`, newest first, `limit` items a page (default 100, at most 1 000). Pass `next_cursor` back as
`cursor=` for the next page; it is `null` when the page was not full. (A full last page still carries a cursor, whose
page is empty.)

**Access.** With access control on (`gridmap serve --auth on`, or `auto` on a non-loopback address), a request sends
an API key as `Authorization: Bearer KEY` (the live WebSocket also takes `?access_token=KEY`). Each operation's
`security` requirement says what it needs: none (`{}`) is open to anyone, without a key; otherwise the `bearer`
scheme with one scope, granted by these roles (keys are made with `gridmap keys create --role ROLE`):

| scope | what it covers | roles that have it |
|---|---|---|
| (none) | boundary reads and lookups, category lists, boundary tiles, the style, OGC API Features, health, this document (and the console's files) | anyone, no key needed |
| `read` | incidents, hazards, resources, responders and positions, heatmaps, statistics, item tiles, live events, generations, `/metrics` | `viewer`, `service`, `dispatcher`, `gis_admin` |
| `report` | field reports: positions, patrols, incidents and hazards and their status, responder status | `service`, `dispatcher`, `gis_admin` |
| `dispatch` | recommend, assign, unassign, add responders | `dispatcher`, `gis_admin` |
| `admin` | imports, activation, rollback, discard, bulk loads, fixed resources, the audit log | `gis_admin` |

No key, or an unknown or revoked one, is a 401 with `WWW-Authenticate: Bearer`; a role without the scope is a 403
`forbidden`. With access control off every caller may do everything. The description of each operation below
repeats who may call it ("Access: …").

**Area-scoped keys (`x-area-keys`).** A key made with `--scope street:CODE` or `--scope community:CODE` may call an
operation marked `x-area-keys: true` (shown below as "Area-scoped keys: answered for the key's area"): lists are
narrowed to the area, single items outside it are 404, and placing an item outside it is a 403 `outside_scope`. A
scoped key calling any other operation that needs a key is refused with 403 `outside_scope` rather than shown what
lies outside its area. Open operations answer scoped keys like anyone else.
"""


def slug(text):
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def cell(text):
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def sentences(parts):
    """Pieces of text as sentences: each ends in a full stop, none twice."""
    out = []
    for part in parts:
        part = " ".join(str(part).split())
        if not part or part in out:
            continue
        out.append(part if part[-1] in ".!?:" else part + ".")
    return " ".join(out)


def code(value):
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "`" + text.replace("`", "'") + "`"


class Doc:
    def __init__(self, doc):
        self.doc = doc
        self.schemas = doc.get("components", {}).get("schemas", {})

    def ref_name(self, schema):
        ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
        prefix = "#/components/schemas/"
        return ref[len(prefix):] if ref.startswith(prefix) else None

    def resolve(self, schema):
        name = self.ref_name(schema)
        return self.schemas.get(name, {}) if name else (schema or {})

    def link(self, name):
        return "[`%s`](#schema-%s)" % (name, slug(name))

    # --- types ---------------------------------------------------------------------------------------------------

    def non_null(self, alternatives):
        rest = [a for a in alternatives if not (isinstance(a, dict) and a.get("type") == "null")]
        return rest, len(rest) != len(alternatives)

    def type_of(self, schema):
        """A short description of a schema's type (a link for a named schema)."""
        if not isinstance(schema, dict) or not schema:
            return "any"
        name = self.ref_name(schema)
        if name:
            target = self.schemas.get(name, {})
            inner = "" if self.is_object(target) else self.plain_type(target)
            return self.link(name) + (" (%s)" % inner if inner else "")
        for key in ("oneOf", "anyOf"):
            if key in schema:
                rest, nullable = self.non_null(schema[key])
                text = " or ".join(self.type_of(a) for a in rest) or "null"
                return text + (" or null" if nullable and rest else "")
        if "allOf" in schema:
            parts = [self.link(self.ref_name(p)) for p in schema["allOf"] if self.ref_name(p)]
            return "object" + (" (%s and more)" % ", ".join(parts) if parts else "")
        return self.plain_type(schema)

    def plain_type(self, schema):
        types = schema.get("type")
        types = types if isinstance(types, list) else ([types] if types else [])
        nullable = "null" in types
        types = [t for t in types if t != "null"]
        if "enum" in schema:
            text = "one of " + ", ".join(code(v) for v in schema["enum"] if v is not None)
        elif "const" in schema:
            text = "always " + code(schema["const"])
        elif types == ["array"]:
            text = "array of " + self.type_of(schema.get("items", {}))
        elif types == ["object"] and isinstance(schema.get("additionalProperties"), dict):
            text = "map of string → " + self.type_of(schema["additionalProperties"])
        elif types:
            text = " or ".join(types)
            if schema.get("format"):
                text += " (%s)" % schema["format"]
        elif "properties" in schema:
            text = "object"
        else:
            text = "any"
        return text + (" or null" if nullable else "")

    def notes(self, schema):
        """Constraints and examples of a schema, for the description column."""
        schema = schema if isinstance(schema, dict) else {}
        for key in ("oneOf", "anyOf"):
            if key in schema:
                rest, _ = self.non_null(schema[key])
                if len(rest) == 1 and not self.ref_name(rest[0]):
                    schema = dict(rest[0], **{k: v for k, v in schema.items() if k != key})
        out = []
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if lo is not None and hi is not None:
            out.append("From %s to %s" % (lo, hi))
        elif lo is not None and lo != 0:
            out.append("At least %s" % lo)
        elif hi is not None:
            out.append("At most %s" % hi)
        if schema.get("pattern"):
            out.append("Pattern " + code(schema["pattern"]))
        if "default" in schema:
            out.append("Default " + code(schema["default"]))
        if "example" in schema:
            out.append("Example " + code(schema["example"]))
        return out

    def describe(self, schema):
        """The description of a property or parameter schema (also inside `oneOf: [X, null]`)."""
        if not isinstance(schema, dict):
            return ""
        if schema.get("description"):
            return schema["description"]
        for key in ("oneOf", "anyOf", "allOf"):
            for alt in schema.get(key, []):
                if isinstance(alt, dict) and alt.get("description"):
                    return alt["description"]
        return ""

    # --- objects ---------------------------------------------------------------------------------------------------

    def is_object(self, schema):
        schema = self.resolve(schema)
        return bool(schema.get("properties")) or "allOf" in schema

    def fields(self, schema):
        """(name, property schema, required) of an object schema, `$ref`s resolved and `allOf` flattened."""
        schema = self.resolve(schema)
        out, required = [], set(schema.get("required", []))
        for part in schema.get("allOf", []):
            out.extend(self.fields(part))
        for name, prop in schema.get("properties", {}).items():
            out.append((name, prop, name in required))
        return out

    def object_target(self, prop):
        """The object schema a property holds, directly or as array items (with `[]`), for one level of nesting."""
        schema = prop
        suffix = ""
        for _ in range(3):
            if not isinstance(schema, dict):
                return None, ""
            for key in ("oneOf", "anyOf"):
                if key in schema:
                    rest, _ = self.non_null(schema[key])
                    schema = rest[0] if len(rest) == 1 else {}
            resolved = self.resolve(schema)
            types = resolved.get("type")
            types = types if isinstance(types, list) else [types]
            if "array" in types and isinstance(resolved.get("items"), dict):
                schema, suffix = resolved["items"], suffix + "[]"
                continue
            return (schema if self.is_object(schema) else None), suffix
        return None, ""

    def field_rows(self, schema, prefix="", nest=True):
        rows = []
        for name, prop, required in self.fields(schema):
            text = self.describe(prop)
            notes = self.notes(prop) + self.notes(self.resolve(prop)) if self.ref_name(prop) else self.notes(prop)
            text = sentences([text] + notes)
            rows.append("| `%s%s` | %s | %s | %s |" % (
                prefix, name, cell(self.type_of(prop)), "yes" if required else "", cell(text)))
            if nest:
                target, suffix = self.object_target(prop)
                if target is not None:
                    rows.extend(self.field_rows(target, "%s%s%s." % (prefix, name, suffix), nest=False))
        return rows

    def schema_block(self, schema):
        """A schema as lines: its type, then a table of its fields (one level of nesting)."""
        lines = []
        target, suffix = (schema, "") if self.is_object(schema) else self.object_target(schema)
        if target is None:
            return lines
        header = "| field | type | required | description |\n|---|---|---|---|"
        if suffix:
            rows = self.field_rows(target, suffix + ".")
        else:
            rows = self.field_rows(target)
        if rows:
            lines.append("")
            lines.append(header)
            lines.extend(rows)
        return lines

    # --- operations ------------------------------------------------------------------------------------------------

    def operations(self):
        found = []
        for path, item in self.doc.get("paths", {}).items():
            for method in METHODS:
                if method in item:
                    found.append((path, method, item[method]))
        return found

    def tags(self):
        seen = []
        for _, _, op in self.operations():
            for tag in op.get("tags", ["other"])[:1]:
                if tag not in seen:
                    seen.append(tag)
        known = [t for t in TAG_ORDER if t in seen]
        return known + sorted(t for t in seen if t not in TAG_ORDER)

    def access_scope(self, op):
        scopes = []
        for requirement in op.get("security", []):
            for values in requirement.values():
                scopes.extend(values)
        return ", ".join(code(s) for s in scopes) if scopes else "none (open)"

    def operation(self, path, method, op):
        out = []
        anchor = "op-" + slug(op.get("operationId") or method + path)
        out.append('<a id="%s"></a>' % anchor)
        out.append("")
        out.append("### `%s %s`" % (method.upper(), path))
        out.append("")
        if op.get("summary"):
            out.append("**%s.**" % op["summary"].rstrip("."))
            out.append("")
        if op.get("description"):
            out.append(op["description"].strip())
            out.append("")
        facts = ["Security scope: %s" % self.access_scope(op)]
        if op.get("x-area-keys"):
            facts.append("Area-scoped keys: answered for the key's area (`x-area-keys`)")
        if op.get("operationId"):
            facts.append("operation id `%s`" % op["operationId"])
        out.append(" · ".join(facts) + ".")
        params = op.get("parameters", [])
        if params:
            out.append("")
            out.append("| parameter | in | required | type | description |")
            out.append("|---|---|---|---|---|")
            for p in params:
                schema = p.get("schema", {})
                text = [p.get("description") or self.describe(schema)]
                if p.get("description") and self.describe(schema) and self.describe(schema) != p.get("description"):
                    text.append(self.describe(schema))
                text += self.notes(schema)
                if "example" in p and "example" not in schema:
                    text.append("Example " + code(p["example"]))
                out.append("| `%s` | %s | %s | %s | %s |" % (
                    p.get("name"), p.get("in"), "yes" if p.get("required") else "", cell(self.type_of(schema)),
                    cell(sentences(text))))
        body = op.get("requestBody")
        if body:
            out.append("")
            required = "required" if body.get("required") else "optional"
            for media, content in body.get("content", {}).items():
                schema = content.get("schema", {})
                line = "**Request body** (%s, `%s`): %s" % (required, media, self.type_of(schema))
                if body.get("description"):
                    line += " — " + body["description"].strip()
                out.append(line + ".")
                out.extend(self.schema_block(schema))
        responses = op.get("responses", {})
        success = [s for s in responses if s[:1] in "123"]
        for status in success:
            answer = responses[status]
            content = answer.get("content") or {}
            out.append("")
            text = "**%s** %s" % (status, answer.get("description", "").strip())
            if not content:
                out.append(text.rstrip() + " (no body).")
                continue
            for media, c in content.items():
                schema = c.get("schema", {})
                out.append("%s — `%s`: %s." % (text.rstrip(), media, self.type_of(schema)))
                later = [s for s in success[success.index(status) + 1:]
                         if (responses[s].get("content") or {}).get(media, {}).get("schema") == schema]
                if not later:
                    out.extend(self.schema_block(schema))
        others = [s for s in responses if s[:1] not in "123"]
        if others:
            out.append("")
            parts = []
            for status in others:
                label = "any other status" if status == "default" else "`%s`" % status
                parts.append("%s — %s" % (label, responses[status].get("description", "").strip().rstrip(".")))
            out.append("**Errors** (%s): %s." % (self.link("Error"), "; ".join(parts)))
        out.append("")
        return out

    # --- the whole file --------------------------------------------------------------------------------------------

    def render(self):
        info = self.doc.get("info", {})
        out = [
            "<!-- Generated by scripts/api-docs.py from the server's /openapi.json: do not edit by hand. -->",
            "",
            "# HTTP API reference",
            "",
            "> Generated from the OpenAPI %s document of gridmap %s (`GET /openapi.json`) by `scripts/api-docs.py`; "
            "do not edit by hand. To regenerate, start a server (`gridmap serve`) and run "
            "`curl -s http://127.0.0.1:8080/openapi.json > /tmp/openapi.json && "
            "python3 scripts/api-docs.py /tmp/openapi.json > docs/http-api.md`."
            % (self.doc.get("openapi", "?"), info.get("version", "?")),
            "",
        ]
        if info.get("description"):
            out += [info["description"].strip(), ""]
        out += [
            "Things the document cannot express — the live events, tile layers and their attributes, the dispatch "
            "policy file — are in [api-guide.md](api-guide.md).",
            "",
            CONVENTIONS,
            "## Operations",
            "",
        ]
        ops = self.operations()
        for tag in self.tags():
            mine = [o for o in ops if (o[2].get("tags") or ["other"])[0] == tag]
            out.append("- [%s](#tag-%s): %s" % (tag, slug(tag), ", ".join(
                "[`%s %s`](#op-%s)" % (m.upper(), p, slug(o.get("operationId") or m + p)) for p, m, o in mine)))
        out.append("")
        for tag in self.tags():
            out.append('<a id="tag-%s"></a>' % slug(tag))
            out.append("")
            out.append("## %s" % tag)
            out.append("")
            if tag in TAG_TEXT:
                out += [TAG_TEXT[tag], ""]
            for path, method, op in ops:
                if (op.get("tags") or ["other"])[0] == tag:
                    out += self.operation(path, method, op)
        out += ["## Schemas", "",
                "Every named schema of `components/schemas`, with its fields (`allOf` flattened).", ""]
        for name in sorted(self.schemas):
            schema = self.schemas[name]
            out.append('<a id="schema-%s"></a>' % slug(name))
            out.append("")
            out.append("### `%s`" % name)
            out.append("")
            if self.describe(schema):
                out += [" ".join(self.describe(schema).split()), ""]
            if self.is_object(schema):
                out.append("| field | type | required | description |")
                out.append("|---|---|---|---|")
                out.extend(self.field_rows(schema, nest=False))
            else:
                notes = self.notes(schema)
                out.append(sentences(["Type: " + self.plain_type(schema)] + notes))
            out.append("")
        text = "\n".join(out)
        while "\n\n\n" in text:
            text = text.replace("\n\n\n", "\n\n")
        return text.rstrip("\n") + "\n"


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        sys.stderr.write("usage: python3 scripts/api-docs.py OPENAPI_JSON_FILE > docs/http-api.md\n")
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        sys.stderr.write("api-docs: cannot read %s: %s\n" % (argv[1], e))
        return 1
    if not str(doc.get("openapi", "")).startswith("3."):
        sys.stderr.write("api-docs: %s is not an OpenAPI 3 document\n" % argv[1])
        return 1
    sys.stdout.write(Doc(doc).render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
