"""FAQ loading: the validity rules of the contract, with errors naming file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatdesk.bot.faq import (
    FaqProblem,
    FaqValidationError,
    faq_json_schema,
    load_faq,
    normalize_language,
)

LANGS = ("en", "cs", "sk", "pl", "et", "lv")

VALID = """\
entries:
  - id: shipping-cost
    tags: [shipping]
    questions:
      en: ["How much does shipping cost?", "delivery fee"]
      cs-CZ: ["Kolik stojí doprava?"]
    answer:
      en: "4.90 EUR"
      cs_CZ: "4,90 EUR"
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(directory: Path) -> list[FaqProblem]:
    with pytest.raises(FaqValidationError) as info:
        load_faq(directory, languages=LANGS)
    return info.value.problems


def test_valid_file_loads_with_regional_codes_folded(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", VALID)
    faq = load_faq(tmp_path, languages=LANGS)
    (entry,) = faq.entries
    assert entry.id == "shipping-cost"
    assert entry.questions["cs"] == ("Kolik stojí doprava?",)
    assert entry.answer["cs"] == "4,90 EUR"
    assert entry.tags == ("shipping",)
    assert entry.handoff is False
    assert entry.source.endswith("a.yaml")
    assert faq.languages == ("cs", "en")
    assert faq.get("shipping-cost") is entry
    assert faq.get("missing") is None


def test_files_are_found_recursively_and_empty_files_are_fine(tmp_path: Path) -> None:
    write(tmp_path, "sub/dir/a.yml", VALID)
    write(tmp_path, "empty.yaml", "")
    write(tmp_path, "comments.yaml", "# nothing yet\n")
    write(tmp_path, "notes.txt", "not: [yaml")
    assert [e.id for e in load_faq(tmp_path, languages=LANGS).entries] == ["shipping-cost"]


def test_unknown_key_names_file_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", VALID.replace("    tags:", "    tgas:"))
    (problem,) = problems_of(tmp_path)
    assert problem.file == str(path)
    assert problem.line == 3
    assert "unknown key 'tgas'" in problem.message
    assert str(problem).startswith(f"{path}:3: ")


def test_duplicate_key_is_an_error_with_both_lines(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", VALID + '      en: "again"\n')
    (problem,) = problems_of(tmp_path)
    assert problem.line == 10
    assert "duplicate key 'en' (first at line 8)" in problem.message


def test_unknown_language_is_an_error_at_its_line(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", VALID.replace("cs-CZ:", "de:"))
    (problem,) = problems_of(tmp_path)
    assert problem.line == 6
    assert "unknown language 'de'" in problem.message


def test_question_language_without_answer_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", VALID.replace('      cs_CZ: "4,90 EUR"\n', ""))
    (problem,) = problems_of(tmp_path)
    assert problem.line == 2
    assert "no answer in: ['cs']" in problem.message


def test_language_with_only_empty_phrasings_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", VALID.replace('["Kolik stojí doprava?"]', '["  "]'))
    (problem,) = problems_of(tmp_path)
    assert "'cs' needs at least one non-empty phrasing" in problem.message


def test_entry_without_questions_and_bad_id_are_reported_together(tmp_path: Path) -> None:
    text = "entries:\n  - id: Bad_Id\n    questions: {}\n    answer: {en: x}\n"
    write(tmp_path, "a.yaml", text)
    messages = [p.message for p in problems_of(tmp_path)]
    assert any("entries.0.id" in m and "pattern" in m for m in messages)
    assert any("at least one language" in m for m in messages)


def test_duplicate_ids_across_files_name_both_places(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", VALID)
    second = write(tmp_path, "b.yaml", "# other\n" + VALID)
    (problem,) = problems_of(tmp_path)
    assert problem.file == str(second)
    assert problem.line == 3
    assert f"first in {first}:2" in problem.message


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "entries:\n  - id: x\n    questions: [unclosed\n")
    (problem,) = problems_of(tmp_path)
    assert problem.line is not None
    assert "YAML syntax error" in problem.message


def test_wrong_types_are_errors(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", VALID.replace("tags: [shipping]", "tags: shipping"))
    write(tmp_path, "b.yaml", "- just a list\n")
    problems = problems_of(tmp_path)
    assert len(problems) == 2
    assert problems[0].line == 3


def test_problems_of_all_files_are_listed(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", VALID.replace("tags", "tagz"))
    write(tmp_path, "b.yaml", VALID.replace("shipping-cost", "other").replace("en:", "xx:", 1))
    assert {Path(p.file).name for p in problems_of(tmp_path)} == {"a.yaml", "b.yaml"}


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path / "nope")
    assert problem.message == "not a directory"


def test_regional_codes_mean_the_language() -> None:
    assert normalize_language("cs-CZ") == "cs"
    assert normalize_language("PL_pl") == "pl"
    assert normalize_language("et") == "et"


def test_json_schema_describes_entries_for_editors() -> None:
    schema = faq_json_schema()
    json.dumps(schema)
    entry = schema["$defs"]["EntryModel"]
    assert set(entry["required"]) == {"id", "questions", "answer"}
    assert entry["additionalProperties"] is False
    assert entry["properties"]["id"]["pattern"] == "^[a-z0-9][a-z0-9-]*$"
