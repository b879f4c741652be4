"""The document the httpbin example was generated from is the one the live
upstream serves (GET /spec.json), and mcpgen accepts the live one as it is."""

from __future__ import annotations

import json
import subprocess
import urllib.request

from conftest import HTTPBIN_SPEC, HTTPBIN_URL, MCPGEN_BIN


def live_spec() -> dict:
    with urllib.request.urlopen(f"{HTTPBIN_URL}/spec.json", timeout=10) as response:
        assert response.headers.get_content_type() == "application/json"
        return json.load(response)


def test_live_spec_is_the_document_the_example_was_generated_from():
    live = live_spec()
    assert live["swagger"] == "2.0" and live["info"]["version"] == "0.10.4"
    # Semantic equality: JSON objects compare without regard to key order.
    assert live == json.loads(HTTPBIN_SPEC.read_text())


def test_mcpgen_validates_the_live_spec(tmp_path):
    path = tmp_path / "httpbin-live.json"
    path.write_text(json.dumps(live_spec()))
    proc = subprocess.run([MCPGEN_BIN, "validate", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"{path}: ok (78 tools, 0 resources, 0 resource templates, 0 prompts)" in proc.stdout + proc.stderr
