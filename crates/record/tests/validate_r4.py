"""Validates FHIR R4 (4.0.1) Bundles with PyPI's fhir.resources 6.4.0, whose
models are R4: an implementation we did not write. Prints one line per
file; exits 1 if any is not a valid R4 Bundle."""
import sys

from pydantic import ValidationError

import fhir.resources
from fhir.resources.bundle import Bundle

assert fhir.resources.__fhir_version__ == "4.0.1", fhir.resources.__fhir_version__
failed = 0
for path in sys.argv[1:]:
    try:
        Bundle.parse_file(path)
        print(f"valid R4 Bundle: {path}")
    except ValidationError as e:
        failed += 1
        print(f"NOT a valid R4 Bundle: {path}: {e}")
sys.exit(1 if failed else 0)
