"""Numbers in a platform's JSON that the store cannot hold: read as floats, so the item that
carries one is refused alone (or stored, where any number will do) and the answer still syncs."""

from __future__ import annotations

import json

import bson
import httpx

from adapters import codeforces, codeforces_users
from adapters.http import decode_json

HUGE = 10**30


def _answer(value) -> httpx.Response:
    return httpx.Response(200, content=json.dumps(value).encode(), headers={"Content-Type": "application/json"})


def test_an_integer_beyond_64_bits_is_read_as_a_float_and_the_rest_as_integers():
    body = b'{"big": 9223372036854775808, "edge": 9223372036854775807, "low": -9223372036854775808, '
    body += b'"huge": ' + b"7" * 5000 + b', "small": 5}'
    value = decode_json(httpx.Response(200, content=body), "codeforces")
    assert value["edge"] == 2**63 - 1 and value["low"] == -(2**63) and value["small"] == 5
    assert all(isinstance(value[k], int) for k in ("edge", "low", "small"))
    assert value["big"] == float(2**63) and value["huge"] == float("inf")  # 5,000 digits: no error
    bson.encode(value)  # every one of them can be stored


def test_a_submission_whose_id_is_beyond_64_bits_is_skipped_and_the_others_can_be_stored():
    items = [
        {"id": n, "creationTimeSeconds": 1_700_000_000 + n, "problem": {"contestId": 1, "index": "A"}, "verdict": "OK"}
        for n in (1, HUGE, 3)
    ]
    parsed = codeforces_users.parse_submissions(decode_json(_answer(items), "codeforces"), "someone")
    assert [r["submissionId"] for r in parsed.records] == [1, 3] and len(parsed.failed) == 1
    for record in parsed.records:
        bson.encode(record)


def test_a_contest_whose_payload_holds_an_enormous_number_keeps_it_storable():
    item = {"id": 2001, "name": "Round", "type": "CF", "phase": "BEFORE", "frozen": False}
    item.update(durationSeconds=7200, startTimeSeconds=1_900_000_000, preparedBy=HUGE)
    parsed = codeforces.parse(decode_json(_answer([item]), "codeforces"))
    (contest,) = parsed.records
    assert contest.to_doc()["raw"]["preparedBy"] == float(HUGE)
    bson.encode(contest.to_doc())
