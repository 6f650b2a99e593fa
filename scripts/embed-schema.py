#!/usr/bin/env python3
"""Writes the pack XSD into a Swift source file, so the loader needs no file at run time.

  embed-schema.py SCHEMA.xsd OUTPUT.swift
"""
import sys

schema, output = sys.argv[1], sys.argv[2]
text = open(schema, encoding="utf-8").read()
if '"#' in text:
    raise SystemExit("the schema contains '\"#', which would end the Swift raw string")
with open(output, "w", encoding="utf-8") as out:
    out.write("// Generated from rulesets/schema/pack-1.xsd by `make schema`; a test checks that the two agree.\n")
    out.write("// Edit the .xsd, then run `make schema`.\n\n")
    out.write("extension PackSchema {\n    static let text = #\"\"\"\n")
    out.write(text)
    out.write('"""#\n}\n')
