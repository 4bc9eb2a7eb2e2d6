"""Forms for the instrument library: uploading a file."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField
from wtforms.validators import InputRequired, ValidationError

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
