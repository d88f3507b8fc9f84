from libs.contracts.onboarding import CONTRACTS
from libs.kit.declaration import Declaration
from services.onboarding.app import bootstrap
from services.onboarding.settings import Settings

DECLARATION = Declaration(name="onboarding", kind="domain", settings=Settings, bootstrap=bootstrap, contracts=CONTRACTS,
                          colour="\\033[36m")
