from libs.contracts.roles import CONTRACTS
from libs.kit.declaration import Declaration
from services.roles.app import bootstrap
from services.roles.settings import Settings

DECLARATION = Declaration(
    name="roles", kind="domain", settings=Settings, bootstrap=bootstrap, contracts=CONTRACTS,
    description="the 12 roles: vacancies, seasonal picks, Vision eligibility, development maps",
    colour="\033[35m",
)
