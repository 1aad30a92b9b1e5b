"""OpenAPI links: which answer gives the id (and version) that another operation takes.

A client can follow them (create a round, then read, change or delete it); Schemathesis's
stateful phase chains requests along them (tests/fuzz/test_openapi_fuzz.py). Operations are
named as app.openapi.OperationIds names them; app.openapi.Links writes these into the
document, under each source operation's answer.
"""

ID, FIRST_ID = "$response.body#/id", "$response.body#/0/id"
VERSION, FIRST_VERSION = "$response.body#/version", "$response.body#/0/version"
BEARER = {"header.Authorization": "Bearer {$response.body#/token}"}


def link(operation: str, parameters: dict | None = None, body: dict | None = None) -> dict:
    out = {"operationId": operation, "parameters": parameters or {}}
    if body is not None:
        out["requestBody"] = body
    return out


def _round(ref: str, version: str) -> dict:
    """What can be done with a round whose id and version the answer holds at these pointers."""
    return {"GetRound": link("get_rounds_round_by_id", {"round_id": ref}),
            "ChangeRound": link("patch_rounds_round_by_id", {"round_id": ref}, {"version": version}),
            "DeleteRound": link("delete_rounds_round_by_id", {"round_id": ref, "query.version": version})}


def _rule(ref: str, version: str) -> dict:
    return {"GetRule": link("get_hours_hours_rule_by_id", {"rule_id": ref}),
            "ChangeRule": link("patch_hours_hours_rule_by_id", {"rule_id": ref}, {"version": version}),
            "WithdrawRule": link("delete_hours_hours_rule_by_id", {"rule_id": ref, "query.version": version}),
            "RuleChanges": link("get_hours_hours_changes", {"entity_id": ref})}


def _case(ref: str, version: str) -> dict:
    return {"GetCase": link("get_violations_case_by_id", {"case_id": ref}),
            "DecideCase": link("post_violations_decision", {"case_id": ref}, {"version": version})}


def _office(ref: str) -> dict:
    return {"GetOffice": link("get_offices_office_by_id", {"office_id": ref}),
            "MandatedHours": link("get_hours_office_mandated_hours", {"office_id": ref})}


# (source operation, status) → {link name: link}
LINKS: dict[tuple[str, int], dict] = {
    ("post_auth_token", 201): {"WhoAmI": link("get_auth_me", BEARER), "LogOut": link("delete_auth_token", BEARER)},
    ("get_districts_districts", 200): {
        "GetDistrict": link("get_districts_district_by_number", {"number": "$response.body#/features/0/id"})},
    ("get_offices_offices", 200): _office(FIRST_ID),
    ("get_offices_office_by_id", 200): {"MandatedHours": link("get_hours_office_mandated_hours",
                                                              {"office_id": ID})},
    ("post_hours_hours_rules", 201): _rule(ID, VERSION),
    ("get_hours_hours_rules", 200): _rule(FIRST_ID, FIRST_VERSION),
    ("get_hours_hours_rule_by_id", 200): _rule(ID, VERSION),
    ("patch_hours_hours_rule_by_id", 200): _rule(ID, VERSION),
    ("post_hours_holidays", 201): {
        "CancelHoliday": link("delete_hours_holiday_by_id", {"holiday_id": ID}),
        "HolidayChanges": link("get_hours_hours_changes", {"entity_id": ID})},
    ("get_hours_holidays", 200): {"CancelHoliday": link("delete_hours_holiday_by_id", {"holiday_id": FIRST_ID})},
    ("post_sync_pull", 200): {"PullOn": link("post_sync_pull", body={
        "protocol": 1, "device_id": "$request.body#/device_id", "cursor": "$response.body#/cursor"})},
    ("get_corrections_corrections", 200): {
        "DecideCorrection": link("post_corrections_decision", {"correction_id": FIRST_ID})},
    ("get_violations_cases", 200): _case(FIRST_ID, FIRST_VERSION),
    ("get_violations_case_by_id", 200): _case(ID, VERSION) | _office("$response.body#/office_id"),
    ("post_violations_decision", 200): _case(ID, VERSION),
    ("post_rounds_rounds", 201): _round("$response.body#/rounds/0/id", "$response.body#/rounds/0/version"),
    ("get_rounds_rounds", 200): _round(FIRST_ID, FIRST_VERSION),
    ("get_rounds_round_by_id", 200): _round(ID, VERSION),
    ("patch_rounds_round_by_id", 200): _round(ID, VERSION),
    ("delete_rounds_round_by_id", 204): {"GetRound": link("get_rounds_round_by_id",
                                                          {"round_id": "$request.path.round_id"})},
    ("get_visits_visit_list", 200): {"GetRound": link("get_rounds_round_by_id",
                                                      {"round_id": "$response.body#/round_id"})},
}
