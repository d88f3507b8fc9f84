from libs.contracts.feedback import CONTRACTS
from libs.kit.declaration import Declaration
from services.feedback.app import bootstrap
from services.feedback.settings import Settings

DECLARATION = Declaration(
    name="feedback", kind="domain", settings=Settings, bootstrap=bootstrap, contracts=CONTRACTS,
    description="HR-ВЛИЯНИЕ games and rounds, observers' developmental feedback, requests for expert help",
    colour="\033[36m",
)
