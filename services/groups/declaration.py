from libs.contracts.groups import CONTRACTS
from libs.kit.declaration import Declaration
from services.groups.app import bootstrap
from services.groups.settings import Settings

DECLARATION = Declaration(
    name="groups", kind="domain", settings=Settings, bootstrap=bootstrap, contracts=CONTRACTS,
    description="base and working groups, membership; reacts to onboarding's events", colour="\033[35m",
)
