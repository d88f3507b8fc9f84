from libs.kit.declaration import Declaration
from services.gateway.app import create_app
from services.gateway.settings import Settings

DECLARATION = Declaration(name="gateway", kind="edge", settings=Settings, app=create_app, colour="\033[32m")
