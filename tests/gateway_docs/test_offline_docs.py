"""/docs and /redoc work offline: Swagger UI's and ReDoc's files come from the gateway itself (the npm
packages pinned in package-lock.json, `make install`), never from a CDN, and nothing else is served.

No lifespan here: these routes need no bus, so the app is driven without a NATS connection.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from services.gateway.app import create_app
from services.gateway.i18n import MESSAGES
from services.gateway.routers.docs import ASSETS
from services.gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
PAGES = ("/docs", "/redoc")
ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def client(**settings) -> httpx.AsyncClient:
    app = create_app(Settings(log_level="WARNING", **settings))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


def referenced_urls(html: str) -> list[str]:
    """Every URL the page loads: src and href attributes, the spec-url of ReDoc, the url of Swagger UI."""
    urls = re.findall(r'\b(?:src|href|spec-url)="([^"]*)"', html)
    urls += re.findall(r"\burl:\s*'([^']*)'", html)
    return urls


def assert_local(url: str) -> None:
    parts = urlsplit(url)
    assert not parts.scheme and not parts.netloc and url.startswith("/") and not url.startswith("//"), url


def assert_problem(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code and body["status"] == status
    return body


@pytest.fixture(scope="module")
def installed() -> Path:
    if not all((NODE_MODULES / a.file).is_file() for a in ASSETS.values()):
        pytest.fail("Swagger UI and ReDoc are not in node_modules: run make install (npm ci)")
    return NODE_MODULES


@pytest.mark.parametrize("page", PAGES)
async def test_the_page_loads_only_local_files_each_served(installed, page):
    async with client() as c:
        r = await c.get(page)
        assert r.status_code == 200, r.text[:300]
        assert r.headers["content-type"].startswith("text/html")
        html = r.text
        assert "cdn" not in html.lower() and "http" not in html.lower(), html  # no other host, no scheme at all
        urls = referenced_urls(html)
        assert any(u.endswith(".js") for u in urls), urls  # the parse finds the UI's script
        assert "/openapi.json" in urls
        for url in urls:
            assert_local(url)
            served = await c.get(url)
            assert served.status_code == 200, (url, served.status_code)
            assert served.content, url
            if url.startswith("/docs-assets/"):
                expected = ASSET_TYPES[Path(url).suffix]
                assert served.headers["content-type"].startswith(expected), (url, served.headers["content-type"])
                assert served.headers["x-content-type-options"] == "nosniff"
    if page == "/docs":
        assert {"/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"} <= set(urls)
    else:
        assert "/docs-assets/redoc.standalone.js" in urls


@pytest.mark.parametrize("page", PAGES)
async def test_the_page_may_load_nothing_from_another_host(installed, page):
    async with client() as c:
        r = await c.get(page)
    csp = dict(d.strip().split(" ", 1) for d in r.headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'none'"
    assert csp["connect-src"] == "'self'"
    for directive, sources in csp.items():
        for source in sources.split():
            assert source.startswith("'") or source in ("data:", "blob:"), (directive, source)  # no host
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    inline = re.findall(r"<script>(.*?)</script>", r.text, re.S)
    assert len(re.findall(r"'sha256-", csp["script-src"])) == len(inline)  # the page's own inline script, by hash


async def test_the_assets_follow_the_setting(tmp_path):
    for asset in ASSETS.values():
        (tmp_path / asset.file).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / asset.file).write_bytes(b"/* " + asset.file.encode() + b" */")
    async with client(docs_assets_path=tmp_path) as c:
        assert (await c.get("/docs")).status_code == 200
        r = await c.get("/docs-assets/redoc.standalone.js")
    assert r.status_code == 200
    assert r.content == b"/* redoc/bundles/redoc.standalone.js */"


def test_the_setting_defaults_to_the_repository_node_modules_and_reads_its_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("HRM_DOCS_ASSETS_PATH", raising=False)
    assert Settings().docs_assets_path == NODE_MODULES
    monkeypatch.setenv("HRM_DOCS_ASSETS_PATH", str(tmp_path))
    assert Settings().docs_assets_path == tmp_path


@pytest.mark.parametrize("path", [
    "/docs-assets/..%2f..%2fpyproject.toml",
    "/docs-assets/..%2Fpackage.json",
    "/docs-assets/%2e%2e%2fsecret.txt",
    "/docs-assets/..%5csecret.txt",
    "/docs-assets/swagger-ui-dist%2fswagger-ui-bundle.js",
    "/docs-assets/swagger-ui-dist/swagger-ui-bundle.js",
    "/docs-assets/index.html",  # in swagger-ui-dist, not in the allow-list
    "/docs-assets/swagger-ui-bundle.js.map",
    "/docs-assets/secret.txt",
    "/docs-assets/",
    "/docs-assets",
])
async def test_only_the_listed_files_are_served(tmp_path, path):
    assets = tmp_path / "assets"
    for asset in ASSETS.values():
        (assets / asset.file).parent.mkdir(parents=True, exist_ok=True)
        (assets / asset.file).write_text("x", encoding="utf-8")
    (assets / "swagger-ui-dist" / "index.html").write_text("not listed", encoding="utf-8")
    (assets / "secret.txt").write_text("the-secret-content", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("the-secret-content", encoding="utf-8")
    async with client(docs_assets_path=assets) as c:
        r = await c.get(path)
    assert_problem(r, 404, "not_found")
    assert "the-secret-content" not in r.text and "not listed" not in r.text


@pytest.mark.parametrize("path", [*PAGES, "/docs-assets/swagger-ui-bundle.js", "/docs-assets/redoc.standalone.js"])
async def test_missing_assets_are_a_clear_503_in_russian_then_english(tmp_path, path):
    ru, en = MESSAGES["docs_assets_missing"]
    async with client(docs_assets_path=tmp_path / "nowhere") as c:
        r = await c.get(path)
        body = assert_problem(r, 503, "docs_assets_missing")
        assert body["title"] == ru and r.headers["content-language"] == "ru"
        r = await c.get(path, headers={"Accept-Language": "en"})
        body = assert_problem(r, 503, "docs_assets_missing")
        assert body["title"] == en and r.headers["content-language"] == "en"
    assert "make install" in en


@pytest.mark.parametrize("path", [*PAGES, *(f"/docs-assets/{name}" for name in ASSETS), "/openapi.json"])
async def test_nothing_of_it_is_served_where_the_documents_are_not(path):
    async with client(api_docs=False) as c:  # what production decides (Settings.docs_served)
        r = await c.get(path)
    assert_problem(r, 404, "not_found")


def test_the_pages_and_their_files_stay_out_of_the_openapi_document():
    paths = create_app(Settings(log_level="WARNING")).openapi()["paths"]
    assert not [p for p in paths if p in PAGES or p.startswith("/docs-assets")]


def test_the_packages_are_pinned_and_locked():
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    assert package["private"] is True
    pins = package["dependencies"]
    assert set(pins) == {"swagger-ui-dist", "redoc"}
    for name, version in pins.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned exactly: {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, f"package-lock.json is stale for {name}"
        assert lock["packages"][f"node_modules/{name}"]["integrity"].startswith("sha512-")
    assert lock["packages"][""]["dependencies"] == pins
    installed = NODE_MODULES / "swagger-ui-dist" / "package.json"
    if installed.is_file():  # what `make install` put there is what is locked
        for name, version in pins.items():
            meta = json.loads((NODE_MODULES / name / "package.json").read_text(encoding="utf-8"))
            assert meta["version"] == version, f"node_modules/{name} is {meta['version']}: run make install"


def test_the_image_carries_every_listed_file():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    runtime = dockerfile[dockerfile.index("AS runtime"):]
    target = re.search(r"\bHRM_DOCS_ASSETS_PATH=(\S+)", runtime)[1]
    copies = re.findall(r"^COPY --from=docs-assets /src/node_modules/(\S+) (\S+)$", runtime, re.M)
    workdir = re.findall(r"^WORKDIR (\S+)$", runtime, re.M)[-1]
    for asset in ASSETS.values():
        placed = [dest for source, dest in copies if asset.file.startswith(source.rstrip("/") + "/")]
        assert placed, f"the runtime image lacks {asset.file}"
        dest = (Path(workdir) / placed[0]).as_posix().rstrip("/")
        source = next(s for s, d in copies if d == placed[0]).rstrip("/")
        assert dest == f"{target}/{source}", (dest, target, source)  # the layout of node_modules under the setting
    assert "npm ci --ignore-scripts" in dockerfile
