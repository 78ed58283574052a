"""Project-wide pytest set-up: make the checkout importable as ansible_collections.rdma.ha_storage.

tools/setup.sh links the checkout into $RDMA_COLLECTIONS/ansible_collections/rdma/ha_storage.
"""
import os
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
COLLECTIONS = Path(os.environ.get("RDMA_COLLECTIONS", TOP / ".cache" / "collections"))
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

# tests/helpers.py is shared by tests in sub-folders
if str(TOP / "tests") not in sys.path:
    sys.path.insert(0, str(TOP / "tests"))
