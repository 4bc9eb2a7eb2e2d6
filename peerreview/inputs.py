"""What the app accepts from a request, cleaned in one place.

Every text a person sends, in a form field or in a JSON body, loses its NUL
characters and its bidirectional embedding, override and isolate controls
(U+202A-U+202E, U+2066-U+2069) before any form or view reads it: a NUL
breaks text further on, and one override reversed a sentence in a PDF.
JSON nested deeper than any of our bodies is refused as unreadable, and
numbers such as a revision are read by ``whole_number``, never ``int()``.
An uploaded CSV list is read by ``csv_records``, which numbers its lines.
"""

import csv
import io
import re

from flask import Request, abort, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import ImmutableMultiDict

UNSAFE = re.compile("[\x00\u202a-\u202e\u2066-\u2069]")
MAX_JSON_DEPTH = 20
# SQLite's integers are 64-bit; a revision never comes near this.
MAX_WHOLE_NUMBER = 2**53


def csv_records(text: str, refused: type[Exception]):
    """Read an uploaded CSV file: return its first line and an iterator of
    (line number, record) for every record after it that is not blank.

    A record's number is the line it starts on (a quoted cell may run over
    several). An empty file, or a line the csv module cannot read, raises
    ``refused`` with a message that names the line.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise refused("The file is empty.") from None
    except csv.Error as e:
        raise refused(f"Line 1 cannot be read as CSV: {e}.") from None

    def records():
        line = reader.line_num
        try:
            for record in reader:
                start, line = line + 1, reader.line_num
                if any(v.strip() for v in record):
                    yield start, record
        except csv.Error as e:
            raise refused(f"Line {line + 1} cannot be read as CSV: {e}.") from None

    return header, records()


def clean_text(text: str) -> str:
    """Return the text without NUL characters and bidirectional controls."""
    return UNSAFE.sub("", text)


def clean_json(value):
    """Return a parsed JSON value with every string cleaned; refuse deep nesting.

    Raises ValueError (which Flask answers as unreadable JSON) when the value
    is nested more than MAX_JSON_DEPTH deep.
    """
    if isinstance(value, str):
        return clean_text(value)
    if not isinstance(value, (list, dict)):
        return value
    root = [value]
    stack = [(root, 0, 0)]  # (container, key, depth): iterative, never recursive
    while stack:
        parent, key, depth = stack.pop()
        node = parent[key]
        if isinstance(node, str):
            parent[key] = clean_text(node)
        elif isinstance(node, (list, dict)):
            if depth >= MAX_JSON_DEPTH:
                raise ValueError("The JSON is nested too deeply.")
            if isinstance(node, dict):
                cleaned = {clean_text(k): v for k, v in node.items()}
                parent[key] = cleaned
                stack.extend((cleaned, k, depth + 1) for k in cleaned)
            else:
                stack.extend((node, i, depth + 1) for i in range(len(node)))
    return root[0]


class CleanJSONProvider(DefaultJSONProvider):
    """The app's JSON: request bodies are parsed, then cleaned (see clean_json)."""

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("The JSON is nested too deeply.") from None
        return clean_json(value)


class CleanRequest(Request):
    """Flask's request, with form fields cleaned as they are read."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form:
            self.__dict__["form"] = ImmutableMultiDict(
                [(k, clean_text(v)) for k, v in form.items(multi=True)]
            )


def whole_number(value, *, default: int | None = None) -> int | None:
    """Read a whole number from JSON or a form: 0 up to 2**53, else None.

    Accepts an int or a string of digits; refuses floats (1e30, 1e400),
    booleans and anything else, so the caller can answer with a plain message.
    """
    if value is None or value == "":
        return default
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value) if len(value) < 20 else None
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= MAX_WHOLE_NUMBER else None


# Room for a multipart body's other fields and boundaries beside its file.
FORM_OVERHEAD = 256 * 1024


def upload_limit(config_key: str):
    """Mark a view that takes a file up to app.config[config_key] bytes.

    Every other request keeps MAX_CONTENT_LENGTH (2 MiB).
    """

    def mark(view):
        view.upload_limit = config_key
        return view

    return mark


def _body_limit():
    # Runs before the CSRF check, which is the first to read the form.
    view = current_app.view_functions.get(request.endpoint)
    key = getattr(view, "upload_limit", None)
    if key is None:
        return
    limit = current_app.config[key]
    request.max_content_length = limit + FORM_OVERHEAD
    if (request.content_length or 0) > limit + FORM_OVERHEAD:
        abort(
            413,
            description=f"The file is too large: files are {limit // (1024 * 1024)} MB "
            "at most. Choose a smaller file, or keep a link to it instead.",
        )


def init_app(app) -> None:
    """Clean every form field and JSON body the app reads; set body limits."""
    app.request_class = CleanRequest
    app.json_provider_class = CleanJSONProvider
    app.json = CleanJSONProvider(app)
    app.before_request(_body_limit)
