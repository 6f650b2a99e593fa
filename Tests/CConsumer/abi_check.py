#!/usr/bin/env python3
"""The functions rfl.h declares and the functions librfl.so exports must be the same set, so the
ABI cannot drift unnoticed.

  abi_check.py include/rfl.h path/to/librfl.so.1
"""
import re
import subprocess
import sys

header, library = sys.argv[1], sys.argv[2]
text = open(header, encoding="utf-8").read()
text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
text = re.sub(r"//[^\n]*", "", text)
declared = set(re.findall(r"\b(rfl_[a-z0-9_]+)\s*\(", text))

symbols = subprocess.run(["readelf", "--dyn-syms", "-W", library], check=True, capture_output=True, text=True).stdout
exported = set()
for line in symbols.splitlines():
    fields = line.split()
    # Num: Value Size Type Bind Vis Ndx Name
    if len(fields) >= 8 and fields[3] == "FUNC" and fields[4] == "GLOBAL" and fields[6] != "UND":
        exported.add(fields[7].split("@")[0])
other = {name for name in exported if not name.startswith("rfl_")}

missing = sorted(declared - exported)
extra = sorted(exported - declared)
if missing:
    print("declared in rfl.h but not exported:", ", ".join(missing))
if extra:
    print("exported but not declared in rfl.h:", ", ".join(extra))
print(f"{len(declared)} functions declared, {len(exported & declared)} exported")
sys.exit(1 if missing or extra else 0)
