"""What a browser would post from a form of a rendered page: tests edit a few fields and post the rest unchanged."""

from html.parser import HTMLParser

UNSENT_INPUTS = {"file", "submit", "button", "image", "reset"}


class _FormParser(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.found = False
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: dict | None = None  # name, multiple, options [(value, selected)]
        self._option: list | None = None  # [value or None, selected, text]
        self._textarea: list | None = None  # [name, text chunks]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form" and attributes.get("id") == self.form_id:
            self.found = self.inside = True
            return
        if not self.inside or "disabled" in attributes:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = (attributes.get("type") or "text").lower()
            if kind in UNSENT_INPUTS or (kind in {"checkbox", "radio"} and "checked" not in attributes):
                return
            self.fields.append((name, attributes.get("value") or ("on" if kind in {"checkbox", "radio"} else "")))
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in attributes, "options": []}
        elif tag == "option" and self._select is not None:
            self._option = [attributes.get("value"), "selected" in attributes, ""]
        elif tag == "textarea" and name:
            self._textarea = [name, []]

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option[2] += data
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "option" and self._option is not None and self._select is not None:
            value, selected, text = self._option
            self._select["options"].append((text.strip() if value is None else value, selected))
            self._option = None
        elif tag == "select" and self._select is not None:
            options = self._select["options"]
            chosen = [value for value, selected in options if selected]
            if not chosen and options and not self._select["multiple"]:
                chosen = [options[0][0]]  # a single choice with none marked sends its first option
            self.fields += [(self._select["name"], value) for value in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, chunks = self._textarea
            text = "".join(chunks)
            self.fields.append((name, text[1:] if text.startswith("\n") else text))  # as HTML drops it
            self._textarea = None


def form_fields(html: str, form_id: str) -> dict[str, str | list[str]]:
    """The values the form with this id would send as it is shown (a list where a name has several)."""
    parser = _FormParser(form_id)
    parser.feed(html)
    parser.close()
    assert parser.found, f'no <form id="{form_id}"> on the page'
    values: dict[str, list[str]] = {}
    for name, value in parser.fields:
        values.setdefault(name, []).append(value)
    return {name: items[0] if len(items) == 1 else items for name, items in values.items()}


class _InputParser(HTMLParser):
    def __init__(self, kind: str, name: str) -> None:
        super().__init__(convert_charrefs=True)
        self.kind, self.name = kind, name
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") == self.kind and attributes.get("name") == self.name:
            self.found.append(attributes)


def radio_inputs(html: str, name: str) -> list[dict[str, str | None]]:
    """The attributes of each radio button of that name, in page order (``"disabled" in it`` when disabled)."""
    parser = _InputParser("radio", name)
    parser.feed(html)
    parser.close()
    return parser.found
