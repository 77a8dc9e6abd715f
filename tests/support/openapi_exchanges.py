"""Validates recorded HTTP exchanges against an OpenAPI document with
openapi-core (and, for the error body of requests no operation takes, with
openapi-schema-validator, which openapi-core is built on).

usage: python3 openapi_exchanges.py openapi.json exchanges.jsonl

Each line of exchanges.jsonl is {"method", "url" (path and query), "body"
(or null), "status", "content_type", "response"}, and "shortened": true when
the recorder cut long strings out of a body too large to log (their JSON
types are kept). Every exchange is checked as one of:

- outside the API: /healthz, /readyz and /openapi.json; counted only;
- unrouted: no operation of the document takes the request; the server must
  have answered a 4xx status (404, 405, or 400 for a path refused before
  routing) with the document's error body;
- HEAD is checked as GET whose reply has no body; OPTIONS (HTTP's own list
  of a path's methods) must be 204 without a body, or an error;
- refused: the document says the request is invalid; the server must have
  answered an error status with the operation's (default) error response;
- taken without a REQUIRED field: the only thing the document finds wrong
  is a missing field google.api.field_behavior marks REQUIRED, which is the
  service's to enforce (the transcoder passes it on, as grpc-gateway does);
  the reply must still match the operation;
- valid: the request and its response must both match the operation. A
  newline-delimited JSON response (a server stream) is read as the array of
  its lines, which is how the document describes it, so each line is
  validated against the line schema.

A request to a custom method (x-additionalOperations) is checked against
that operation; a path whose "**" value holds slashes (a parameter marked
x-spans-segments) is matched with those slashes escaped, as one parameter.
Any error body's `code` must be the HTTP status. Prints one line per
mismatch and the counts; exits 1 if there is a mismatch.
"""

import copy
import json
import re
import sys
from urllib.parse import parse_qsl, urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.request.exceptions import (
    InvalidRequestBody,
    MissingRequiredParameter,
    RequestValidationError,
)
from openapi_schema_validator import OAS31Validator
from werkzeug.datastructures import ImmutableMultiDict


OUTSIDE_THE_API = {"/healthz", "/readyz", "/openapi.json"}
STANDARD_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
CUSTOM_METHODS = "x-additionalOperations"
SPANS_SEGMENTS = "x-spans-segments"
NDJSON = "application/x-ndjson"


# openapi-core calls a body of no bytes missing; an empty stream (a method
# that sent no message) is an empty array of lines, so such a body is handed
# over as one placeholder byte while this is set.
EMPTY_STREAM = False


def ndjson_lines(data):
    """An application/x-ndjson body as the JSON array of its lines."""
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    text = data
    if EMPTY_STREAM:
        return []
    if text and not text.endswith("\n"):
        raise ValueError("the last line of the stream is not ended by a newline")
    return [json.loads(line) for line in text.split("\n")[:-1]]


def unrouted(errors):
    """Whether no operation of the document takes the request."""
    return any(isinstance(e, (PathNotFound, OperationNotFound)) for e in errors)


def missing_required(error):
    """Whether a request error is only a field the document marks required
    (google.api.field_behavior REQUIRED) missing."""
    if isinstance(error, MissingRequiredParameter):
        return True
    if isinstance(error, InvalidRequestBody):
        schema_errors = getattr(error.__cause__, "schema_errors", None)
        return bool(schema_errors) and all(e.validator == "required" for e in schema_errors)
    return False


def spanning_path(document, path):
    """The request path with the slashes inside the values of parameters
    that span segments (x-spans-segments, a "**") escaped, when a path of
    the document takes it so; else None."""
    for template, item in document["paths"].items():
        params = {
            p["name"]
            for op in operations(item)
            for p in op.get("parameters", [])
            if p.get("in") == "path" and p.get(SPANS_SEGMENTS)
        }
        if not params:
            continue
        pattern = ""
        for literal, name in re.findall(r"([^{]*)(?:\{([^}]*)\})?", template):
            pattern += re.escape(literal)
            if name:
                pattern += f"(?P<{name}>.+)" if name in params else f"(?P<{name}>[^/]+)"
        match = re.fullmatch(pattern, path)
        if not match:
            continue
        out, at = "", 0
        for name in sorted(params, key=match.start):
            start, end = match.span(name)
            out += path[at:start] + path[start:end].replace("/", "%2F")
            at = end
        return out + path[at:]
    return None


def operations(item):
    for key, value in item.items():
        if key in STANDARD_METHODS:
            yield value
        elif key == CUSTOM_METHODS:
            yield from value.values()


def mimetype(content_type):
    return content_type.split(";")[0].strip().lower()


def main() -> int:
    global EMPTY_STREAM
    with open(sys.argv[1], encoding="utf-8") as f:
        document = json.load(f)
    config = Config(extra_media_type_deserializers={NDJSON: ndjson_lines})
    specs = {}

    def spec_for(method):
        """The document, and the method to validate as. A method OpenAPI 3.1
        cannot name is in each path item's x-additionalOperations (OpenAPI
        3.2's additionalOperations); openapi-core reads only the named ones,
        so such a request is validated, as a POST, against a copy of the
        document whose paths hold only that method's operations."""
        if method.lower() in STANDARD_METHODS:
            method = ""
        if method not in specs:
            variant = document
            if method:
                variant = copy.deepcopy(document)
                variant["paths"] = {
                    path: {"post": item[CUSTOM_METHODS][method]}
                    for path, item in document["paths"].items()
                    if method in item.get(CUSTOM_METHODS, {})
                }
            specs[method] = OpenAPI.from_dict(variant, config=config)
        return specs[method], "post" if method else None
    error_ref = document["components"]["responses"]["Error"]["content"][
        "application/json"
    ]["schema"]["$ref"]
    error_schema = OAS31Validator(
        {"$ref": error_ref, "components": document["components"]}
    )

    counts = {
        "outside": 0,
        "unrouted": 0,
        "refused": 0,
        "valid": 0,
        "required": 0,
        "spanning": 0,
        "head": 0,
        "http": 0,
    }
    total = mismatches = lines = shortened = 0

    def mismatch(exchange, why):
        nonlocal mismatches
        mismatches += 1
        print(
            f"{exchange['method']} {exchange['url'][:200]} -> {exchange['status']}: {why}"
        )

    def error_body_ok(exchange):
        """The body is the document's error body with the status as code."""
        if mimetype(exchange["content_type"]) != "application/json":
            return f"an error answered as {exchange['content_type']!r}"
        try:
            body = json.loads(exchange["response"])
        except ValueError as error:
            return f"an error body that is not JSON: {error}"
        problems = [e.message for e in error_schema.iter_errors(body)]
        if problems:
            return f"not the error body: {problems}"
        if body["error"]["code"] != exchange["status"]:
            return f"error.code {body['error']['code']} is not the HTTP status"
        return None

    def request_for(exchange, path, method=None):
        body = exchange.get("body")
        method = method or exchange["method"]
        spec, as_method = spec_for(method)
        request = MockRequest(
            "http://localhost",
            as_method or method.lower(),
            path,
            data=body.encode() if body is not None else None,
        )
        request.parameters.query = ImmutableMultiDict(
            parse_qsl(urlsplit(exchange["url"]).query, keep_blank_values=True)
        )
        return spec, request

    with open(sys.argv[2], encoding="utf-8") as log:
        for line in log:
            exchange = json.loads(line)
            total += 1
            shortened += bool(exchange.get("shortened"))
            path = urlsplit(exchange["url"]).path
            if path in OUTSIDE_THE_API:
                counts["outside"] += 1
                continue
            status = exchange["status"]
            head = exchange["method"] == "HEAD"
            if exchange["method"] == "OPTIONS":
                # HTTP's own: the methods of a path, in Allow, no body.
                if status == 204 and exchange["response"] == "":
                    counts["http"] += 1
                elif 400 <= status < 500 and not (why := error_body_ok(exchange)):
                    counts["unrouted"] += 1
                else:
                    mismatch(exchange, "OPTIONS answered neither 204 without a body nor an error")
                continue
            if head and exchange["response"] != "":
                mismatch(exchange, "a reply to HEAD has a body")
                continue
            spec, request = request_for(exchange, path)
            errors = list(spec.iter_request_errors(request))
            if head and unrouted(errors):
                # Without a HEAD rule, HEAD is GET without the body of its
                # reply (RFC 9110), as the router serves it.
                spec, request = request_for(exchange, path, "GET")
                errors = list(spec.iter_request_errors(request))
            if unrouted(errors):
                # A "**" value's slashes, which no OpenAPI parameter holds.
                spanned = spanning_path(document, path)
                if spanned is not None:
                    spec, request = request_for(exchange, spanned, "GET" if head else None)
                    errors = list(spec.iter_request_errors(request))
                    counts["spanning"] += 1
            if route_error := next(
                (e for e in errors if isinstance(e, (PathNotFound, OperationNotFound))), None
            ):
                # 404 or 405, or 400 for a path refused before routing.
                if not 400 <= status < 500:
                    mismatch(exchange, f"no operation takes it ({route_error}) but it was answered")
                elif not head and (why := error_body_ok(exchange)):
                    mismatch(exchange, why)
                else:
                    counts["unrouted"] += 1
                continue
            if failure := next(
                (e for e in errors if not isinstance(e, RequestValidationError)), None
            ):
                mismatch(exchange, f"openapi-core cannot check the request: {failure!r}")
                continue
            if head:
                # No body to check: the status must say what GET's would.
                if errors and status < 400:
                    mismatch(exchange, "HEAD of a request the document refuses answered OK")
                else:
                    counts["head"] += 1
                continue
            EMPTY_STREAM = (
                mimetype(exchange["content_type"]) == NDJSON and exchange["response"] == ""
            )
            response = MockResponse(
                b" " if EMPTY_STREAM else exchange["response"].encode(),
                status_code=status,
                content_type=mimetype(exchange["content_type"]),
            )
            try:
                spec.validate_response(request, response)
            except Exception as error:  # every response validation error class
                cause = error.__cause__ or ""
                mismatch(exchange, f"the response does not match: {error} {cause}")
                continue
            if status >= 400 and (why := error_body_ok(exchange)):
                mismatch(exchange, why)
                continue
            if errors and status >= 400:
                counts["refused"] += 1
            elif errors and all(missing_required(e) for e in errors):
                # google.api.field_behavior REQUIRED is the service's to
                # enforce; the transcoder passes such a request on.
                counts["required"] += 1
            elif errors:
                problems = "; ".join(f"{e} {e.__cause__ or ''}" for e in errors)
                mismatch(exchange, f"the document refuses the request ({problems}) but the server took it")
            else:
                counts["valid"] += 1
            if status == 200 and mimetype(exchange["content_type"]) == NDJSON:
                lines += len(ndjson_lines(exchange["response"]))

    print(
        f"{total} exchanges, {mismatches} invalid, {counts['outside']} outside the API: "
        f"{counts['valid']} valid, {counts['refused']} invalid requests refused as documented, "
        f"{counts['unrouted']} unrouted requests answered with the error body, "
        f"{counts['required']} taken without a REQUIRED field (the service's to refuse), "
        f"{counts['head']} HEAD as GET without a body, {counts['http']} OPTIONS, "
        f"{lines} stream lines, {counts['spanning']} multi-segment paths, "
        f"{shortened} bodies shortened"
    )
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
