"""Stripe's error responses: ``{"error": {type, code, message, param, ...}}`` with their HTTP status."""

from __future__ import annotations

from typing import Any

JsonDict = dict[str, Any]

_DOCS = "https://stripe.com/docs/error-codes/"


class ApiError(Exception):
    """One Stripe API error. ``saved`` says whether an idempotent replay returns it again: Stripe
    keeps the result once an endpoint started executing, but not for requests that failed
    parameter validation."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        saved: bool = False,
        extra: JsonDict | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param
        self.saved = saved
        self.extra = extra or {}

    def body(self) -> JsonDict:
        error: JsonDict = {"message": self.message, "type": self.type}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = _DOCS + self.code.replace("_", "-")
        if self.param is not None:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}


def unknown_param(param: str) -> ApiError:
    return ApiError(400, f"Received unknown parameter: {param}", code="parameter_unknown", param=param)


def missing_param(param: str) -> ApiError:
    return ApiError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def invalid_param(param: str, message: str, code: str = "parameter_invalid_string") -> ApiError:
    return ApiError(400, message, code=code, param=param)


def invalid_integer(param: str) -> ApiError:
    return ApiError(400, f"Invalid integer: {param}", code="parameter_invalid_integer", param=param)


def no_such(kind: str, object_id: str, param: str = "id") -> ApiError:
    label = kind.replace(".", " ").replace("_", " ") if kind != "checkout.session" else "checkout.session"
    return ApiError(404, f"No such {label}: '{object_id}'", code="resource_missing", param=param)


def bad_state(message: str, code: str = "resource_invalid_state", param: str | None = None) -> ApiError:
    return ApiError(400, message, code=code, param=param, saved=True)


def card_error(
    code: str, decline_code: str | None, message: str, *, payment_intent: JsonDict | None, charge: str | None
) -> ApiError:
    extra: JsonDict = {}
    if decline_code is not None:
        extra["decline_code"] = decline_code
    if charge is not None:
        extra["charge"] = charge
    if payment_intent is not None:
        extra["payment_intent"] = payment_intent
    return ApiError(402, message, type_="card_error", code=code, saved=True, extra=extra)


def idempotency_error(key: str) -> ApiError:
    return ApiError(
        400,
        "Keys for idempotent requests can only be used with the same parameters they were first used "
        f"with. Try using a key other than '{key}' if you meant to execute a different request.",
        type_="idempotency_error",
    )


def rate_limited() -> ApiError:
    return ApiError(
        429,
        "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
        code="rate_limit",
    )


def server_error() -> ApiError:
    return ApiError(500, "An unknown error occurred (simulated).", type_="api_error")


def auth_missing() -> ApiError:
    return ApiError(
        401,
        "You did not provide an API key. You need to provide your API key in the Authorization header, "
        "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    )


def auth_invalid(key: str) -> ApiError:
    # Stripe echoes only the last four characters; a full key must never reach a log.
    shown = "*" * 4 + key[-4:] if len(key) > 8 else "****"
    return ApiError(401, f"Invalid API Key provided: {shown}")


def not_found_route(method: str, path: str) -> ApiError:
    return ApiError(404, f"Unrecognized request URL ({method}: {path}).")
