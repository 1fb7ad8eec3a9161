"""Parses every SVG of a JSON list on stdin with Python's XML parser and prints their root tags:
a standalone .svg must be well-formed XML (tests/charts/plots_test.ts)."""
import json
import sys
import xml.etree.ElementTree as ET

print(json.dumps([ET.fromstring(s).tag for s in json.load(sys.stdin)]))
