"""Forms for the instrument library: uploading a file, or a CSV of items."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Optional, Regexp, ValidationError

from ..formtools import options
from .uploads import MAX_UPLOAD_BYTES, UploadRefused, clean_filename, decode

PLATFORM = "platform"


class UploadForm(FlaskForm):
    """Upload one instrument file, for the platform or for one partnership."""

    owner = RadioField(
        "Who may use it",
        validators=[InputRequired("Choose who may use the instrument")],
    )
    file = FileField(
        "Instrument file (YAML)",
        description=(
            f"One .yaml file of {MAX_UPLOAD_BYTES // 1024} KB or less, "
            "written in the instrument format."
        ),
        validators=[FileRequired("Choose an instrument file to upload")],
        render_kw={"accept": ".yaml,.yml,text/yaml,application/yaml"},
    )

    def __init__(self, owners: list[tuple[str, str]], **kwargs):
        """owners: (value, label) pairs, PLATFORM or a partnership id as text."""
        super().__init__(**kwargs)
        self.owner.choices = options(owners)
        if len(owners) == 1 and not self.owner.data:
            self.owner.data = owners[0][0]
        self.text = None
        self.filename = None

    def validate_file(self, field):
        """Read the file: its size and encoding (the schema is checked later)."""
        self.filename = clean_filename(field.data.filename)
        raw = field.data.read(MAX_UPLOAD_BYTES + 1)
        try:
            self.text = decode(raw, self.filename)
        except UploadRefused as refused:
            raise ValidationError(refused.messages[0]) from None

    def partnership_id(self) -> int | None:
        """Return the owner chosen: None for the platform, else a partnership id."""
        return None if self.owner.data == PLATFORM else int(self.owner.data)


class ItemsCsvForm(FlaskForm):
    """A CSV of items, drafted in a spreadsheet, to join an instrument's other keys."""

    instrument = SelectField(
        "Instrument the items are for",
        description=(
            "Its id, scale, scoring, tags, actions and source are kept; only the "
            "items come from the CSV."
        ),
        validators=[InputRequired("Choose the instrument the items are for")],
    )
    file = FileField(
        "CSV of items",
        description=(
            "The instrument's items as CSV (from its page in the library), edited "
            f"in a spreadsheet and saved as CSV, {MAX_UPLOAD_BYTES // 1024} KB or less."
        ),
        validators=[FileRequired("Choose a CSV file of items to upload")],
        render_kw={"accept": ".csv,text/csv"},
    )
    version = StringField(
        "Version of the new file (optional)",
        description=(
            "Such as 1.1.0: above the current version, by as much as the change "
            "needs. Left empty, the file keeps the current version."
        ),
        validators=[
            Optional(),
            Regexp(
                r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$",
                message="Give the version as MAJOR.MINOR.PATCH, such as 1.1.0",
            ),
        ],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )

    def __init__(self, instruments: list[tuple[str, str]], **kwargs):
        """instruments: (id, label) pairs of the instruments this person may see."""
        super().__init__(**kwargs)
        self.instrument.choices = options([("", "Choose an instrument"), *instruments])
        self.text = None
        self.filename = None

    def validate_file(self, field):
        """Read the CSV: its size and encoding (its rows are checked later)."""
        self.filename = clean_filename(field.data.filename or "items.csv")
        raw = field.data.read(MAX_UPLOAD_BYTES + 1)
        try:
            self.text = decode(raw, self.filename).removeprefix("\ufeff")
        except UploadRefused as refused:
            raise ValidationError(refused.messages[0]) from None
