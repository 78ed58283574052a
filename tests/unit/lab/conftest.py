# The lab tool (lab/) is a plain package at the collection's root: make it importable.
import os
import sys

_TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
if _TOP not in sys.path:
    sys.path.insert(0, _TOP)
