"""Validates recorded HTTP exchanges against an OpenAPI document with
openapi-core: every request (path, query, body) and every response (status,
body) must match an operation of the document.

usage: python3 openapi_exchanges.py openapi.json exchanges.jsonl

Each line of exchanges.jsonl is {"method", "url" (path and query), "body"
(or null), "status", "response"}. Requests outside the API are counted, not
checked: the health and document endpoints, and unknown routes the server
answered 404 or 405. Prints one line per invalid exchange and the counts;
exits 1 if any is invalid.
"""

import json
import sys
from urllib.parse import parse_qsl, urlsplit

from openapi_core import OpenAPI
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.testing import MockRequest, MockResponse
from werkzeug.datastructures import ImmutableMultiDict


OUTSIDE_THE_API = {"/healthz", "/readyz", "/openapi.json"}


def main() -> int:
    spec = OpenAPI.from_file_path(sys.argv[1])
    total = invalid = outside = 0
    with open(sys.argv[2], encoding="utf-8") as lines:
        for line in lines:
            exchange = json.loads(line)
            url = urlsplit(exchange["url"])
            body = exchange.get("body")
            request = MockRequest(
                "http://localhost",
                exchange["method"],
                url.path,
                data=body.encode() if body else None,
            )
            request.parameters.query = ImmutableMultiDict(
                parse_qsl(url.query, keep_blank_values=True)
            )
            response = MockResponse(
                exchange["response"].encode(), status_code=exchange["status"]
            )
            total += 1
            if url.path in OUTSIDE_THE_API:
                outside += 1
                continue
            try:
                spec.validate_request(request)
                spec.validate_response(request, response)
            except (PathNotFound, OperationNotFound) as error:
                if exchange["status"] in (404, 405):
                    outside += 1
                    continue
                invalid += 1
                print(f"{exchange['method']} {exchange['url']}: {error}")
            except Exception as error:  # every validation error class
                invalid += 1
                cause = error.__cause__ or ""
                print(f"{exchange['method']} {exchange['url']}: {error} {cause}")
    print(f"{total} exchanges, {invalid} invalid, {outside} outside the API")
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())
