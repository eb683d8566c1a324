"""Read Kaggle's ``styles.csv`` into clean rows, recovering what can be recovered.

Kaggle ships rows whose product name contains unquoted commas, literal ``NA``
for missing values and empty fields. Nothing here touches the database: it
turns the file into :class:`CatalogRow` objects plus a list of
:class:`RowProblem` reports with the line and id of each problem row.
"""

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# styles.csv column -> Product field
COLUMNS: dict[str, str] = {
    "id": "id",
    "gender": "gender",
    "masterCategory": "master_category",
    "subCategory": "sub_category",
    "articleType": "article_type",
    "baseColour": "base_colour",
    "season": "season",
    "year": "year",
    "usage": "usage",
    "productDisplayName": "name",
}
MISSING_VALUES = {"", "NA"}


class CatalogFormatError(ValueError):
    """The file is not a styles.csv at all (missing header or columns)."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    product_id: int | None
    kind: str  # "recovered", "rejected", "invalid value", "duplicate id", "no image", "unreadable image"
    message: str

    def __str__(self) -> str:
        product = f"id {self.product_id}" if self.product_id is not None else "no id"
        return f"line {self.line} ({product}): {self.kind}: {self.message}"


@dataclass
class CatalogRow:
    line: int
    id: int
    values: dict[str, str | int | None] = field(default_factory=dict)


@dataclass
class ParsedCatalog:
    rows: list[CatalogRow]
    problems: list[RowProblem]


def _clean(value: str) -> str | None:
    value = value.strip()
    return None if value in MISSING_VALUES else value


def _parse_record(line: int, record: list[str], header: list[str]) -> tuple[CatalogRow | None, list[RowProblem]]:
    problems: list[RowProblem] = []
    raw_id = record[header.index("id")].strip() if len(record) > header.index("id") else ""
    product_id = int(raw_id) if raw_id.isdigit() else None

    if len(record) > len(header):
        if header[-1] != "productDisplayName":
            return None, [RowProblem(line, product_id, "rejected", f"{len(record)} fields, expected {len(header)}")]
        # The only free-text column is the last one: the surplus commas belong to the name.
        record = [*record[: len(header) - 1], ",".join(record[len(header) - 1 :])]
        problems.append(
            RowProblem(line, product_id, "recovered", f"unquoted commas in the product name: {record[-1]!r}")
        )
    elif len(record) < len(header):
        return None, [RowProblem(line, product_id, "rejected", f"{len(record)} fields, expected {len(header)}")]

    if product_id is None:
        return None, [RowProblem(line, None, "rejected", f"id {raw_id!r} is not a positive whole number")]

    values: dict[str, str | int | None] = {}
    for column, raw in zip(header, record, strict=True):
        if column == "id":
            continue
        value = _clean(raw)
        if column == "year" and value is not None:
            if value.isdigit() and 1900 <= int(value) <= 2100:
                values["year"] = int(value)
            else:
                values["year"] = None
                problems.append(RowProblem(line, product_id, "invalid value", f"year {value!r} stored as empty"))
            continue
        values[COLUMNS[column]] = value
    return CatalogRow(line=line, id=product_id, values=values), problems


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        for record in reader:
            if record and any(value.strip() for value in record):
                yield reader.line_num, record


def parse_styles_csv(path: Path) -> ParsedCatalog:
    records = _records(path)
    try:
        _, header = next(records)
    except StopIteration:
        raise CatalogFormatError(f"{path} is empty.") from None
    header = [column.strip() for column in header]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise CatalogFormatError(f"{path} lacks the column(s) {', '.join(missing)}; found {', '.join(header)}.")
    unknown = [column for column in header if column not in COLUMNS]
    if unknown:
        raise CatalogFormatError(f"{path} has unknown column(s) {', '.join(unknown)}.")

    rows: dict[int, CatalogRow] = {}
    problems: list[RowProblem] = []
    for line, record in records:
        row, row_problems = _parse_record(line, record, header)
        problems.extend(row_problems)
        if row is None:
            continue
        if row.id in rows:
            earlier = rows.pop(row.id)
            problems.append(RowProblem(line, row.id, "duplicate id", f"replaces the row on line {earlier.line}"))
        rows[row.id] = row
    return ParsedCatalog(rows=list(rows.values()), problems=problems)
