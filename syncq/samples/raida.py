"""RAIDA payloads: echo answers, the users CSV, QMail servers and the RAIDA list."""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

from syncq.samples.contests import FIXED_NOW

BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
FIRST = [
    "Alice",
    "Bruno",
    "Chen",
    "Dana",
    "Emeka",
    "Fatima",
    "Goran",
    "Hana",
    "Ivan",
    "Jia",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zara",
]
LAST = [
    "Anders",
    "Bauer",
    "Costa",
    "Diaz",
    "Eze",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quispe",
    "Rossi",
    "Silva",
    "Tanaka",
    "Umar",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhou",
]
ORGS = [
    "CloudCoin",
    "AcmeMail",
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
]
CLASSES = ["bit", "byte", "kilo", "mega", "giga"]
REGIONS = ["us-east", "us-west", "eu-central", "eu-west", "ap-south", "ap-northeast", "sa-east"]


def serial(rng: random.Random, length: int = 7) -> str:
    """A Base32 serial number (Crockford alphabet)."""
    return "".join(rng.choice(BASE32) for _ in range(length))


def echo(index: int, now: datetime = FIXED_NOW, status: str = "ready") -> dict[str, Any]:
    """A RAIDA's `/service/echo` answer."""
    return {
        "server": f"RAIDA{index}",
        "status": status,
        "message": "Execution successful" if status == "ready" else "Server is not ready",
        "version": "2026-10-01",
        "time": now.isoformat().replace("+00:00", "Z"),
    }


def users_csv(count: int = 1250, bad_rows: bool = True) -> str:
    """The users directory as CSV with a header row (and, by default, a few malformed rows)."""
    rng = random.Random(5)
    lines = ["CustomSerialNumber,First,Last,Description,InboxFee,Class,Beacon"]
    seen = set()
    while len(seen) < count:
        number = serial(rng)
        if number in seen:
            continue
        seen.add(number)
        lines.append(
            ",".join(
                [
                    number,
                    rng.choice(FIRST),
                    rng.choice(LAST),
                    rng.choice(ORGS),
                    f"{rng.choice([0, 0, 0.5, 1, 2.5, 10])}",
                    rng.choice(CLASSES),
                    f"raida{rng.randrange(25)}",
                ]
            )
        )
    if bad_rows:
        lines += [
            "ILOU123,Bad,Serial,Acme,1,bit,raida1",  # I, L, O, U are not Base32
            "7K3M9QX,Too,Few,Columns",  # wrong column count
            "8PQRSTV,Odd,Class,Acme,1,tera,raida2",  # unknown class
            "9VWXYZ0,Neg,Fee,Acme,-3,bit,raida3",
        ]  # negative fee
    return "\n".join(lines) + "\n"


def qmail_servers(count: int = 30, wrapped: bool = True, bad_item: bool = True) -> Any:
    """QMail servers as `{"servers": [...]}` (or a bare list)."""
    rng = random.Random(6)
    servers = []
    for k in range(count):
        servers.append(
            {
                "server_id": f"QM{k:03d}",
                "ip_address": f"203.0.113.{10 + k}",
                "port": 50000 + k,
                "server_index": k if k < 25 else None,
                "server_type": rng.choice(["primary", "mirror"]),
                "cost_per_mb": round(rng.uniform(0.001, 0.05), 4),
                "cost_per_8_weeks": round(rng.uniform(1, 25), 2),
                "percent_uptime": round(rng.uniform(95, 99.99), 2),
                "performance_benchmark_percentile": rng.randint(10, 99),
                "region": rng.choice(REGIONS),
                "description": f"QMail server {k}",
            }
        )
    if bad_item:
        servers.append({"ip_address": "198.51.100.7", "port": 1})  # no server_id
    return {"servers": servers} if wrapped else servers


def raida_servers(count: int = 25) -> str:
    """The RAIDA list: `IP:PORT` per line (two without a port)."""
    return (
        "\n".join(f"198.51.100.{20 + i}" if i in (3, 17) else f"198.51.100.{20 + i}:{50000 + i}" for i in range(count))
        + "\n"
    )


def write_fixtures(directory) -> list:
    """Write the recorded RAIDA payloads the tests parse."""
    files = {
        "raida_echo_ready.json": json.dumps(echo(7)),
        "raida_echo_not_ready.json": json.dumps(echo(8, status="error")),
        "raida_users.csv": users_csv(),
        "raida_qmail_servers.json": json.dumps(qmail_servers()),
        "raida_qmail_servers_list.json": json.dumps(qmail_servers(wrapped=False, bad_item=False)),
        "raida_servers.txt": raida_servers(),
    }
    written = []
    for name, text in files.items():
        (directory / name).write_text(text)
        written.append(directory / name)
    return written
