"""A client generated from gridmap's /openapi.json by openapi-python-client (a mainstream generator) calls the API.

Usage: python client_check.py BASE_URL OUT_DIR. Generates the client package from BASE_URL/openapi.json into OUT_DIR,
imports it and calls four operations through it: a lookup, the layers, an incident report and the incident list.
Prints one line per call; any error (generation, import, a refused or unexpected answer) exits non-zero.
"""

import subprocess
import sys
import urllib.request
from pathlib import Path

base, out = sys.argv[1], Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
spec = out / "openapi.json"
spec.write_bytes(urllib.request.urlopen(f"{base}/openapi.json").read())
generator = Path(sys.executable).with_name("openapi-python-client")
subprocess.run(
    [str(generator), "generate", "--path", str(spec), "--meta", "none", "--output-path", str(out / "gridmap_client"),
     "--overwrite"],
    check=True,
)
sys.path.insert(0, str(out))

from gridmap_client import Client  # noqa: E402
from gridmap_client.api.incidents import incidents_create, incidents_list  # noqa: E402
from gridmap_client.api.lookup import lookup_list, lookup_locate_one  # noqa: E402
from gridmap_client.models import NewIncident  # noqa: E402

client = Client(base_url=base, raise_on_unexpected_status=True)
here = lookup_locate_one.sync(client=client, lon=118.79, lat=32.02)
assert here.grid is not None and here.grid.code and here.h3, here
print(f"locate: grid {here.grid.code} ({here.grid.name}), h3 {here.h3}")
layers = lookup_list.sync(client=client)
counts = {layer.name.value: layer.features for layer in layers.layers}
assert counts["grids"] > 0, counts
print(f"layers: {counts}")
created = incidents_create.sync(
    client=client, body=NewIncident(location=[118.79, 32.02], category="fire", priority=2, description="client")
)
assert created.grid_code == here.grid.code and created.status.value == "reported", created
print(f"incident {created.id} in grid {created.grid_code}, {created.status.value}")
page = incidents_list.sync(client=client, limit=5)
assert any(i.id == created.id for i in page.items), page
print(f"list: {len(page.items)} incident(s), newest {page.items[0].id}")
