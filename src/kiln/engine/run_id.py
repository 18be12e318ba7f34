"""The id of this kiln run (Packer's PACKER_RUN_UUID): build values, manifests, scripts."""

from __future__ import annotations

import uuid

RUN_UUID = str(uuid.uuid4())
