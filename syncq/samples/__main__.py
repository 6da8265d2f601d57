"""`python -m syncq.samples DIR`: write every recorded fixture into DIR."""

import json
import sys
from pathlib import Path

from syncq.samples import contests, raida, students

target = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures")
target.mkdir(parents=True, exist_ok=True)
written = contests.write_contest_fixtures(target) + raida.write_fixtures(target)
student_files = {
    "codeforces_user_info.json": {"status": "OK", "result": [students.user_info("heavy_10k")]},
    "codeforces_user_rating.json": {"status": "OK", "result": students.user_rating("heavy_10k")},
    "codeforces_user_status_10000.json": {"status": "OK", "result": students.user_status("heavy_10k", 10000)},
    "codeforces_user_not_found_400.json": {
        "status": "FAILED",
        "comment": "handles: User with handle nobody_here not found",
    },
}
for name, body in student_files.items():
    (target / name).write_text(json.dumps(body, separators=(",", ":")))
    written.append(target / name)
for path in written:
    print(path, path.stat().st_size)
