# Make `ansible_collections.rdma.ha_storage` importable for the unit tests.
import os
import sys

_COLLECTIONS = os.environ.get('RDMA_COLLECTIONS') or '/work/main/.cache/collections'
if _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)
