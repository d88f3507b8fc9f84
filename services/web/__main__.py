import uvicorn
from pydantic import ValidationError

from libs.kit.heap import freeze_what_startup_built
from libs.kit.http_writes import OneWritePerAnswer
from libs.kit.logging import setup_logging
from libs.kit.settings import exit_refused, secret_values
from services.web.app import SHUTDOWN_GRACE_S, create_app
from services.web.settings import Settings

if __name__ == "__main__":
    try:
        settings = Settings()
    except ValidationError as e:
        exit_refused(e)
    setup_logging("web", settings.log_format, settings.log_level, secrets=secret_values(settings))
    # proxy_headers=False: the client's address is read from X-Forwarded-For only behind HRM_TRUSTED_PROXIES
    # (libs/kit/forwarding.py), never because uvicorn believes any local proxy
    # live streams stay open for minutes: on shutdown they are cut after a short grace (the browsers reconnect,
    # to another replica, and resume where they were)
    app = create_app(settings, started=freeze_what_startup_built)
    # http=OneWritePerAnswer: an answer's head and body leave in one write (libs/kit/http_writes.py)
    uvicorn.run(app, host=settings.web_host, port=settings.web_port, log_level="warning", log_config=None,
                proxy_headers=False, timeout_graceful_shutdown=SHUTDOWN_GRACE_S, http=OneWritePerAnswer)
