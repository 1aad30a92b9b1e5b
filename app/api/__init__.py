"""The HTTP API under /api/v1: one blueprint per resource, registered here."""

from flask import Flask, send_from_directory
from flask_smorest.arguments import ArgumentsMixin
from swagger_ui_bundle import swagger_ui_path

from app.api.links import LINKS
from app.errors import RAW_BODY_ENDPOINTS
from app.extensions import api
from app.jsonprovider import JsonArgumentsParser
from app.openapi import Links, OperationIds, ProblemResponses, SchemaConditions, declared_forms, required_by_schema

# Every blueprint's @arguments reads JSON bodies with orjson (app.jsonprovider says why).
ArgumentsMixin.ARGUMENTS_PARSER = JsonArgumentsParser()

API_CONFIG = {
    "API_TITLE": "Bazres",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    # Served from the swagger-ui-bundle package: the docs work with no internet.
    "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
    "OPENAPI_SWAGGER_UI_CONFIG": {"persistAuthorization": True},
}

SPEC_KWARGS = {
    "info": {
        "description": "Field-inspection sync service for Tehran's electronic services offices. "
        "Log in with `POST /api/v1/auth/token`, then send `Authorization: Bearer <token>`. "
        "Errors are `application/problem+json` (RFC 9457).",
    },
}


def register(app: Flask) -> None:
    from app.api import (activity, attachments, auth, corrections, coverage, districts, hours, offices, rounds,
                         signals, sync, violations, visits)

    for key, value in API_CONFIG.items():
        app.config.setdefault(key, value)
    api.init_app(app, spec_kwargs={**SPEC_KWARGS, "extra_plugins": [
        ProblemResponses(), SchemaConditions(), OperationIds(), Links(LINKS)]})
    api.ma_plugin.converter.add_attribute_function(declared_forms)
    api.ma_plugin.converter.add_parameter_attribute_function(required_by_schema)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "A token from POST /api/v1/auth/token"}
    )
    for module in (auth, districts, offices, hours, sync, attachments, corrections, violations, coverage, visits,
                   rounds, activity, signals):
        api.register_blueprint(module.blp)

    RAW_BODY_ENDPOINTS.add("attachments.AttachmentBySha")

    @app.get("/api/v1/docs/assets/<path:filename>")
    def swagger_ui_assets(filename: str):
        return send_from_directory(swagger_ui_path, filename)
