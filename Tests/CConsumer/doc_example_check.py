#!/usr/bin/env python3
"""The complete example in docs/c-api.md and Tests/CConsumer/example.c must be the same code.

  doc_example_check.py docs/c-api.md Tests/CConsumer/example.c
"""
import sys

doc, example = sys.argv[1], sys.argv[2]
text = open(doc, encoding="utf-8").read()
start = text.index("```c\n#include <rfl.h>") + len("```c\n")
code = text[start:text.index("```", start)]
source = open(example, encoding="utf-8").read()
body = source[source.index("#include <rfl.h>"):]
if body != code:
    print(f"{example} differs from the example in {doc}: copy the example over")
    sys.exit(1)
print("the documented example is the tested one")
