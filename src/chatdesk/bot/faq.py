"""FAQ files: the pydantic schema of the YAML contract and a loader whose errors name file and line.

Admins edit the FAQ by hand in git, so a mistake must point at the exact place: every problem
carries the file and the 1-based line of the offending node. PyYAML's composer gives every node
a start mark; we build plain Python values from the node tree ourselves (which also lets us
reject duplicate keys, a silent "last one wins" in PyYAML) and remember the line of every path,
so a pydantic error location such as ``entries.3.questions.cs`` maps back to a line.

See docs/bot.md ("Writing FAQ entries").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

ENTRY_ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
FAQ_SUFFIXES = (".yaml", ".yml")

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class FaqEntry:
    """One FAQ entry: example phrasings and answers per language."""

    id: str
    tags: tuple[str, ...]
    questions: Mapping[str, tuple[str, ...]]
    answer: Mapping[str, str]
    handoff: bool
    source: str

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages this entry can answer in."""
        return tuple(sorted(self.answer))


@dataclass(frozen=True, slots=True)
class Faq:
    """A validated FAQ: the entries of every file under one directory, in file order."""

    entries: tuple[FaqEntry, ...]
    # Lookup by id, built once: the engine looks entries up on every reply.
    _by_id: Mapping[str, FaqEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, FaqEntry] = {}
        for entry in self.entries:
            by_id.setdefault(entry.id, entry)
        object.__setattr__(self, "_by_id", MappingProxyType(by_id))

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language that some entry asks or answers in, sorted."""
        langs: set[str] = set()
        for entry in self.entries:
            langs.update(entry.questions)
            langs.update(entry.answer)
        return tuple(sorted(langs))

    def get(self, entry_id: str) -> FaqEntry | None:
        """The entry with this id (the first one if an unvalidated FAQ repeats it), or None."""
        return self._by_id.get(entry_id)


@dataclass(frozen=True, slots=True)
class FaqProblem:
    """One validation problem, printed as ``file:line: message`` like a compiler error."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


class FaqValidationError(ValueError):
    """The FAQ directory holds at least one invalid file; ``problems`` lists every problem."""

    def __init__(self, problems: Sequence[FaqProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid FAQ")


def normalize_language(code: str) -> str:
    """``cs-CZ``, ``cs_CZ`` and ``CS`` all mean ``cs``: regional variants share one FAQ text."""
    return re.split(r"[-_]", code.strip(), maxsplit=1)[0].lower()


# --- schema ---------------------------------------------------------------------------------


def _allowed_languages(info: ValidationInfo) -> tuple[str, ...] | None:
    context = info.context
    if isinstance(context, Mapping):
        langs = context.get("languages")
        if langs is not None:
            return tuple(langs)
    return None


def _check_language(code: str, info: ValidationInfo) -> str:
    lang = normalize_language(code)
    allowed = _allowed_languages(info)
    if allowed is not None and lang not in allowed:
        raise ValueError(f"unknown language {code!r} (configured languages: {', '.join(allowed)})")
    return lang


def _no_duplicate_languages(value: Any) -> Any:
    if isinstance(value, Mapping):
        seen: dict[str, Any] = {}
        for key in value:
            if isinstance(key, str):
                lang = normalize_language(key)
                if lang in seen:
                    raise ValueError(f"language {lang!r} given twice ({seen[lang]!r}, {key!r})")
                seen[lang] = key
    return value


LanguageCode = Annotated[str, AfterValidator(_check_language)]


class EntryModel(BaseModel):
    """One entry of the YAML contract (see docs/bot.md)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(pattern=ENTRY_ID_PATTERN, description="unique across all FAQ files")
    tags: list[str] = Field(default_factory=list)
    questions: dict[LanguageCode, list[str]] = Field(
        description="language code -> example phrasings visitors might type"
    )
    answer: dict[LanguageCode, str] = Field(description="language code -> answer (Markdown subset)")
    handoff: bool = Field(default=False, description="answer, then bring in a human")

    @field_validator("questions", "answer", mode="before")
    @classmethod
    def _languages(cls, value: Any) -> Any:
        return _no_duplicate_languages(value)

    @field_validator("questions")
    @classmethod
    def _non_empty_phrasings(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if not value:
            raise ValueError("an entry needs questions in at least one language")
        for lang, phrasings in value.items():
            if not any(p.strip() for p in phrasings):
                raise ValueError(f"language {lang!r} needs at least one non-empty phrasing")
        return value

    @field_validator("answer")
    @classmethod
    def _non_empty_answers(cls, value: dict[str, str]) -> dict[str, str]:
        for lang, text in value.items():
            if not text.strip():
                raise ValueError(f"answer in {lang!r} is empty")
        return value

    @model_validator(mode="after")
    def _answer_for_every_question_language(self) -> EntryModel:
        missing = sorted(set(self.questions) - set(self.answer))
        if missing:
            raise ValueError(f"entry {self.id!r} has questions but no answer in: {missing}")
        return self


class FaqFileModel(BaseModel):
    """A whole FAQ file: a list of entries (an empty file is fine)."""

    model_config = ConfigDict(extra="forbid", strict=True, title="chatdesk FAQ file")

    entries: list[EntryModel] = Field(default_factory=list)


def faq_json_schema() -> dict[str, Any]:
    """JSON Schema of one FAQ file, for editors' YAML autocompletion (`chatdesk faq schema`)."""
    schema = FaqFileModel.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


# --- YAML with line numbers -----------------------------------------------------------------


class _YamlShapeError(Exception):
    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


# libyaml's composer when PyYAML was built with it (about 5x faster); nodes carry the same
# line marks either way.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _scalar(node: yaml.Node) -> Any:
    """A scalar node's value with the safe resolver (int, float, bool, null, str)."""
    return yaml.SafeLoader("").construct_object(node)


def _construct(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> Any:
    """Plain values from a composed node; records each path's line, refuses duplicate keys."""
    lines[path] = _line(node)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _YamlShapeError(_line(key_node), "mapping keys must be plain values")
            key = _scalar(key_node)
            if key in out:
                raise _YamlShapeError(
                    _line(key_node),
                    f"duplicate key {key!r} (first at line {lines[(*path, key)]})",
                )
            lines[(*path, key)] = _line(key_node)
            if isinstance(key, str):
                lines.setdefault((*path, normalize_language(key)), _line(key_node))
            out[key] = _construct(value_node, (*path, key), lines)
            lines[(*path, key)] = _line(key_node)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), lines) for i, item in enumerate(node.value)]
    return _scalar(node)


def _parse_yaml(text: str) -> tuple[Any, dict[Path_, int]]:
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else None
        raise _YamlShapeError(line, f"YAML syntax error: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise _YamlShapeError(None, f"YAML syntax error: {exc}") from exc
    lines: dict[Path_, int] = {}
    if node is None:
        return None, lines
    return _construct(node, (), lines), lines


def _line_for(loc: Path_, lines: Mapping[Path_, int]) -> int | None:
    for cut in range(len(loc), -1, -1):
        line = lines.get(loc[:cut])
        if line is not None:
            return line
    return None


def _describe(error: Mapping[str, Any]) -> str:
    loc = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = f"unknown key {error['loc'][-1]!r}"
        loc = ".".join(str(part) for part in error["loc"][:-1])
    return f"{loc}: {message}" if loc else message


def faq_files(directory: Path) -> Iterator[Path]:
    """The FAQ files under ``directory`` in load order (hidden files are skipped)."""
    return iter(
        sorted(
            p
            for p in directory.rglob("*")
            if p.suffix.lower() in FAQ_SUFFIXES and p.is_file() and not p.name.startswith(".")
        )
    )


def _load_file(
    path: Path, shown: str, languages: Sequence[str]
) -> tuple[list[tuple[FaqEntry, int]], list[FaqProblem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [FaqProblem(shown, None, f"cannot read file: {exc}")]
    try:
        data, lines = _parse_yaml(text)
    except _YamlShapeError as exc:
        return [], [FaqProblem(shown, exc.line, exc.message)]
    if data is None:
        return [], []
    try:
        model = FaqFileModel.model_validate(data, context={"languages": tuple(languages)})
    except ValidationError as exc:
        problems = [
            FaqProblem(shown, _line_for(tuple(err["loc"]), lines), _describe(err))
            for err in exc.errors(include_url=False)
        ]
        return [], problems
    entries = []
    for index, item in enumerate(model.entries):
        entry = FaqEntry(
            id=item.id,
            tags=tuple(item.tags),
            questions=MappingProxyType(
                {
                    lang: tuple(p.strip() for p in phrasings if p.strip())
                    for lang, phrasings in item.questions.items()
                }
            ),
            answer=MappingProxyType({lang: text.strip() for lang, text in item.answer.items()}),
            handoff=item.handoff,
            source=shown,
        )
        entries.append((entry, lines.get(("entries", index), 1)))
    return entries, []


def load_faq(directory: Path, *, languages: Sequence[str]) -> Faq:
    """Load and validate every ``*.yaml``/``*.yml`` under ``directory`` (recursively).

    Raises FaqValidationError listing every problem of every file, so one run of
    ``chatdesk faq validate`` shows all mistakes, not just the first.
    """
    if not directory.is_dir():
        raise FaqValidationError([FaqProblem(str(directory), None, "not a directory")])
    allowed = tuple(normalize_language(lang) for lang in languages)
    problems: list[FaqProblem] = []
    entries: list[FaqEntry] = []
    first_seen: dict[str, tuple[str, int]] = {}
    for path in faq_files(directory):
        shown = str(path)
        file_entries, file_problems = _load_file(path, shown, allowed)
        problems.extend(file_problems)
        for entry, line in file_entries:
            if entry.id in first_seen:
                other_file, other_line = first_seen[entry.id]
                problems.append(
                    FaqProblem(
                        shown,
                        line,
                        f"duplicate entry id {entry.id!r} (first in {other_file}:{other_line})",
                    )
                )
                continue
            first_seen[entry.id] = (shown, line)
            entries.append(entry)
    if problems:
        raise FaqValidationError(problems)
    return Faq(entries=tuple(entries))
