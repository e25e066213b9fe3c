"""Fixtures of the Chromium tests: a real server on 127.0.0.1 and Debian's Chromium with
WebGPU on SwiftShader (flags: docs/architecture.md, Testing), driven by Playwright.

Playwright's own browser downloads are never used (no network): only /usr/bin/chromium,
which `make browser` installs. Without it the tests that need it skip, saying so.
"""

from pathlib import Path

import pytest

from tests.hub_server import running_hub

CHROMIUM = Path("/usr/bin/chromium")

# Quiet, offline Chromium (no update or sync traffic), sandbox off (root in CI containers).
BASE_FLAGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WEBGPU_FLAGS = [
    "--enable-unsafe-webgpu",
    "--enable-unsafe-swiftshader",
    "--use-webgpu-adapter=swiftshader",
]


def pytest_collection_modifyitems(config, items):
    """A Chromium test whose page crashed ("Target crashed": the renderer died, seen once in
    about ten full runs, in a test that passed on every rerun) runs once more, in a fresh
    page; every other failure fails at once. The rerun shows in pytest's summary."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.flaky(reruns=1, only_rerun=["Target crashed"]))


@pytest.fixture(scope="session")
def server_url(tmp_path_factory):
    """`python -m server` on a free port with a temporary data directory."""
    with running_hub(tmp_path_factory.mktemp("server") / "data", owners=()) as hub:
        yield hub.url


# Playwright's sync API keeps an asyncio loop running on this thread while it is open, which
# breaks any later test that calls asyncio.run(): so it lives per module, never per session.
@pytest.fixture(scope="module")
def playwright_instance():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (`make browser` installs Debian's chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance):
    """Chromium with WebGPU on SwiftShader."""
    instance = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), args=BASE_FLAGS + WEBGPU_FLAGS
    )
    yield instance
    instance.close()
