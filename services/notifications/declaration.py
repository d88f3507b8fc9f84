from libs.contracts.notifications import CONTRACTS
from libs.kit.declaration import Declaration
from services.notifications.app import bootstrap
from services.notifications.settings import Settings

DECLARATION = Declaration(
    name="notifications", kind="domain", settings=Settings, bootstrap=bootstrap, contracts=CONTRACTS,
    description="who is told what: notifications in the app and by e-mail, preferences, quiet hours, digests",
    colour="\033[94m",
    # the mail account the e-mails leave by: a deployment sends e-mail (without a host e-mail is no
    # channel, which suits development only), so the account is required there like a secret
    deploy_required=("smtp_host", "smtp_username", "smtp_password", "mail_sender"),
    # the links in e-mails open the web client's pages and post to the gateway, on the Ingress host
    # (deploy/k8s/ingress.yaml); the Message-IDs' domain is the platform's
    deploy_defaults={
        "smtp_port": ("587", '"587"'),
        "smtp_tls": ("starttls", "starttls"),
        "mail_domain": ("localhost", "hr-mnenie.example.org"),
        "web_url": ("http://localhost:8080", "https://hr-mnenie.example.org"),
        "api_url": ("http://localhost:8000", "https://hr-mnenie.example.org"),
    },
)
