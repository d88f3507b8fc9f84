from libs.contracts.calendar import CONTRACTS
from libs.kit.declaration import Declaration
from services.calendar.app import bootstrap
from services.calendar.settings import Settings

DECLARATION = Declaration(
    name="calendar", kind="domain", settings=Settings, bootstrap=bootstrap, contracts=CONTRACTS,
    description="seasons, event requests, the grid, registrations with waitlists, ICS feeds",
    colour="\033[33m",
)
