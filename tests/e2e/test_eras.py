"""The two protocol eras side by side (docs/protocol-2026.md). Every test taking
``connect`` runs in both, and the connection fails unless the client
negotiated its era's version; this file holds what only concerns the choice:
each era's handshake (server/discover or initialize), and a modern client
reaching a server with the 2026-07-28 era switched off falling back to a
2025-11-25 session, its calls still reaching the upstream.
"""

from __future__ import annotations

import pytest
from conftest import LEGACY_VERSION, MODERN_VERSION, marker

pytestmark = pytest.mark.anyio


@pytest.mark.era("modern")
async def test_a_modern_client_falls_back_when_the_server_serves_only_2025(connect, upstream):
    m = marker()
    async with connect(args=("--protocol-2026=false",), expect_version=LEGACY_VERSION) as mcp:
        mark = upstream.mark()
        echo = await mcp.call_ok("get_anything_anything", {"anything": m})
        assert echo["url"].endswith(f"/anything/{m}")
        await upstream.wait_for(mark, lambda r: r.path == f"/anything/{m}")


async def test_each_era_opens_with_its_own_handshake(connect, era):
    """Modern: server/discover and no initialize; legacy: initialize and no discover."""
    async with connect() as mcp:
        session = mcp.client.session
        if era == "modern":
            assert session.initialize_result is None
            discovered = session.discover_result
            assert discovered is not None and MODERN_VERSION in discovered.supported_versions
            assert mcp.client.server_info.name == "httpbin"
        else:
            assert session.discover_result is None
            assert session.initialize_result.protocol_version == LEGACY_VERSION
            assert session.initialize_result.server_info.name == "httpbin"
        # Either way the same tools, reaching the upstream.
        assert (await mcp.call_ok("get_uuid"))["uuid"]
