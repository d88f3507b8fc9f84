from libs.kit.declaration import Declaration
from services.web.app import create_app
from services.web.settings import Settings

DECLARATION = Declaration(
    name="web", kind="edge", settings=Settings, app=create_app, colour="\033[35m",
    description="the web client: pages in Russian and English over the gateway's public API (no bus, no data)")
