from libs.contracts.onboarding import CONTRACTS
from libs.kit.declaration import Declaration
from services.onboarding.app import bootstrap
from services.onboarding.settings import Settings

DECLARATION = Declaration(
    name="onboarding", kind="domain", settings=Settings, bootstrap=bootstrap, contracts=CONTRACTS,
    description="invitations, registration and consent, rules, profiles, moderation, access, accounts and tokens",
    colour="\033[36m",
    deploy_required=("admin_email",),
    # the join page of the invitation links: the web client's host (deploy/k8s/ingress.yaml sends / to it)
    deploy_defaults={"invitation_base_url": ("http://localhost:8080/join", "https://hr-mnenie.example.org/join")},
    # each password hash in flight takes HRM_ARGON2_MEMORY_KIB (64 MiB) on top of the process
    memory_limit="384Mi",
)
