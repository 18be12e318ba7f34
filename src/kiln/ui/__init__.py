"""What the user sees: Packer-shaped human output, machine-readable lines, the debug log."""

from kiln.ui.output import Ui
from kiln.ui.redact import Redactor

__all__ = ["Redactor", "Ui"]
