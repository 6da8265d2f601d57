"""The README's configuration table is the one the settings model generates (core/settings_doc.py)."""

from __future__ import annotations

from core import settings_doc
from core.settings import Settings


def test_the_readme_configuration_table_is_the_generated_one():
    readme = settings_doc.README.read_text()
    assert settings_doc.render(readme) == readme, "run `python -m core.settings_doc` (make settings-doc)"


def test_every_setting_has_a_description_and_a_group():
    assert [name for name, field in Settings.model_fields.items() if not (field.description or "").strip()] == []
    grouped = [name for _group, names in settings_doc.groups() for name in names]
    assert sorted(grouped) == sorted(Settings.model_fields)
    assert "other" not in dict(settings_doc.groups())


def test_the_table_names_each_variable_by_its_environment_name():
    table = settings_doc.table()
    for variable in ("SYNCQ_REDIS_URL", "SYNCQ_KENKOOO_URL", "SYNCQ_TOKEN", "FLOWER_USER", "SYNCQ_RAIDA_TIME_LIMIT"):
        assert f"| `{variable}` |" in table


def test_a_changed_description_makes_the_check_fail(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text(settings_doc.README.read_text())
    assert settings_doc.main(["--check", "--readme", str(readme)]) == 0
    field = Settings.model_fields["queue"]
    monkeypatch.setattr(field, "description", "a different text")
    assert settings_doc.main(["--check", "--readme", str(readme)]) == 1
    assert settings_doc.main(["--readme", str(readme)]) == 0
    assert "| `SYNCQ_QUEUE` | `syncq` | a different text |" in readme.read_text()
