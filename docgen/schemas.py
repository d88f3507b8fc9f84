"""JSON Schema of every event, command and query: `make schemas` writes them to docs/schemas.

Consumers outside Python read these; tests/contracts check they are current.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from libs.contracts.envelope import Envelope
from libs.contracts.registry import CATALOG
from libs.contracts.rpc import Reply, Request


def schemas() -> dict[str, dict]:
    out: dict[str, dict] = {"envelope.json": Envelope.model_json_schema(),
                            "rpc-request.json": Request.model_json_schema(),
                            "rpc-reply.json": Reply.model_json_schema()}
    for contracts in CATALOG:
        service = contracts.service
        for e in contracts.events:
            schema = e.model_json_schema()
            schema["x-event-type"] = e.type_name
            schema["x-schema-version"] = e.schema_version
            schema["x-personal-data"] = sorted(e.pii_fields)
            out[f"events/{service}/{e.type_name}.v{e.schema_version}.json"] = schema
        for c in contracts.commands:
            out[f"commands/{service}/{c.type_name}.json"] = c.model_json_schema()
        for q in contracts.queries:
            out[f"queries/{service}/{q.type_name}.json"] = q.model_json_schema()
        for r in contracts.replies:
            out[f"replies/{service}/{r.__name__}.json"] = r.model_json_schema()
    return out


def render(schema: dict) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(target: str) -> None:
    root = Path(target)
    for name, schema in schemas().items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(schema), encoding="utf-8")
    print(f"wrote {len(schemas())} schemas to {root}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")
