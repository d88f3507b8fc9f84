import uvicorn
from pydantic import ValidationError

from libs.kit.heap import freeze_what_startup_built
from libs.kit.http_writes import OneWritePerAnswer
from libs.kit.logging import setup_logging
from libs.kit.settings import exit_refused, secret_values
from services.gateway.app import create_app
from services.gateway.settings import Settings

if __name__ == "__main__":
    try:
        settings = Settings()
    except ValidationError as e:
        exit_refused(e)
    # before uvicorn starts, so its errors before the app's lifespan are sanitized too
    setup_logging("gateway", settings.log_format, settings.log_level, secrets=secret_values(settings))
    # log_config=None: uvicorn's loggers keep no handlers of their own and reach the sanitized root handler
    # proxy_headers=False: uvicorn would believe any X-Forwarded-For from 127.0.0.1; the gateway trusts
    # only the one the web client vouches for with HRM_FORWARDED_SECRET (services/gateway/deps.py)
    # timeout_graceful_shutdown: open live streams (GET /v1/stream) would hold a stop for minutes; they are
    # cut after a few seconds, and their browsers resume with Last-Event-ID on another replica
    app = create_app(settings, started=freeze_what_startup_built)
    # http=OneWritePerAnswer: an answer's head and body leave in one write (libs/kit/http_writes.py)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", log_config=None,
                proxy_headers=False, timeout_graceful_shutdown=5, http=OneWritePerAnswer)
