from libs.contracts.notifications import CONTRACTS
from libs.kit.declaration import Declaration
from services.notifications.app import bootstrap
from services.notifications.settings import Settings

DECLARATION = Declaration(
    name="notifications", kind="domain", settings=Settings, bootstrap=bootstrap, contracts=CONTRACTS,
    description="who is told what: notifications in the app and by e-mail, preferences, quiet hours, digests",
    colour="\033[94m",
)
