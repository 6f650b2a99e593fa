#!/usr/bin/env python3
"""A Python consumer of librfl through ctypes: rolls, computes odds, and runs a check from the
bundled core pack. Run by `make test` with RFL_LIBRARY and RFL_RULESETS set."""
import ctypes
import json
import os
import unittest

lib = ctypes.CDLL(os.environ["RFL_LIBRARY"])
RULESETS = os.environ["RFL_RULESETS"]

RFL_OK, RFL_MISUSE, RFL_SYNTAX, RFL_NOTFOUND = 0, 2, 3, 5

c_char_pp = ctypes.POINTER(ctypes.c_char_p)
lib.rfl_version.restype = ctypes.c_char_p
lib.rfl_errmsg.restype = ctypes.c_char_p
lib.rfl_rng_new.argtypes = [ctypes.c_uint64, ctypes.POINTER(ctypes.c_void_p)]
lib.rfl_rng_next.argtypes = [ctypes.c_void_p]
lib.rfl_rng_next.restype = ctypes.c_uint64
lib.rfl_rng_free.argtypes = [ctypes.c_void_p]
lib.rfl_expr_compile.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
lib.rfl_expr_roll.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64)]
lib.rfl_expr_odds_json.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
lib.rfl_expr_free.argtypes = [ctypes.c_void_p]
lib.rfl_free.argtypes = [ctypes.c_void_p]
lib.rfl_ruleset_load.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p)]
lib.rfl_ruleset_free.argtypes = [ctypes.c_void_p]
lib.rfl_character_new.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
lib.rfl_character_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64]
lib.rfl_character_apply.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
lib.rfl_character_free.argtypes = [ctypes.c_void_p]
lib.rfl_check.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64, ctypes.c_int, ctypes.c_void_p,
                          ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_int)]
lib.rfl_check_json.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64, ctypes.c_int, ctypes.c_void_p,
                               ctypes.POINTER(ctypes.c_void_p)]


def take_string(pointer):
    """A string the library handed out, copied, then freed with rfl_free."""
    text = ctypes.string_at(pointer).decode("utf-8")
    lib.rfl_free(pointer)
    return text


class Rng:
    def __init__(self, seed):
        self.handle = ctypes.c_void_p()
        assert lib.rfl_rng_new(seed, ctypes.byref(self.handle)) == RFL_OK

    def __del__(self):
        lib.rfl_rng_free(self.handle)


class Expr:
    def __init__(self, source):
        self.handle = ctypes.c_void_p()
        status = lib.rfl_expr_compile(source.encode(), ctypes.byref(self.handle))
        if status != RFL_OK:
            raise ValueError(status, lib.rfl_errmsg().decode())

    def __del__(self):
        lib.rfl_expr_free(self.handle)

    def roll(self, rng):
        total = ctypes.c_int64()
        assert lib.rfl_expr_roll(self.handle, rng.handle, ctypes.byref(total)) == RFL_OK
        return total.value

    def odds(self):
        pointer = ctypes.c_void_p()
        assert lib.rfl_expr_odds_json(self.handle, ctypes.byref(pointer)) == RFL_OK
        return json.loads(take_string(pointer))


class ConsumerTests(unittest.TestCase):
    def test_version(self):
        self.assertRegex(lib.rfl_version().decode(), r"^\d+\.\d+\.\d+$")
        self.assertEqual(lib.rfl_abi_version(), 1)

    def test_roll_matches_swift_and_the_command_line(self):
        rng = Rng(42)
        self.assertEqual(lib.rfl_rng_next(rng.handle), 1546998764402558742)
        self.assertEqual(Expr("4d6kh3").roll(Rng(42)), 14)

    def test_odds(self):
        odds = Expr("2d6").odds()
        self.assertEqual(odds["expression"], "2d6")
        probabilities = {entry["value"]: entry["probability"] for entry in odds["distribution"]}
        self.assertAlmostEqual(probabilities[7], 6 / 36, places=15)
        self.assertAlmostEqual(sum(probabilities.values()), 1.0, places=12)
        self.assertAlmostEqual(odds["mean"], 7.0, places=12)

    def test_errors(self):
        with self.assertRaises(ValueError) as raised:
            Expr("2d6+")
        self.assertEqual(raised.exception.args[0], RFL_SYNTAX)
        self.assertIn("column 5", raised.exception.args[1])
        total = ctypes.c_int64()
        self.assertEqual(lib.rfl_expr_roll(None, None, ctypes.byref(total)), RFL_MISUSE)

    def test_check_from_the_core_pack(self):
        rules = ctypes.c_void_p()
        paths = (ctypes.c_char_p * 1)(os.path.join(RULESETS, "core.xml").encode())
        self.assertEqual(lib.rfl_ruleset_load(paths, 1, ctypes.byref(rules)), RFL_OK, lib.rfl_errmsg())
        hero = ctypes.c_void_p()
        self.assertEqual(lib.rfl_character_new(rules, ctypes.byref(hero)), RFL_OK)
        self.assertEqual(lib.rfl_character_set(hero, b"speaking", 4), RFL_OK)
        rng = Rng(7)
        total, outcome = ctypes.c_int64(), ctypes.c_int()
        self.assertEqual(lib.rfl_check(hero, b"persuade-merchant", 15, 0, rng.handle, ctypes.byref(total), ctypes.byref(outcome)), RFL_OK)
        self.assertEqual((total.value, outcome.value), (19, 2))
        pointer = ctypes.c_void_p()
        self.assertEqual(lib.rfl_check_json(hero, b"persuade-merchant", 15, 1, rng.handle, ctypes.byref(pointer)), RFL_OK)
        result = json.loads(take_string(pointer))
        self.assertEqual(result["check"], "core:persuade-merchant")
        self.assertEqual(len(result["rolls"]), 2)
        self.assertEqual(lib.rfl_character_apply(hero, b"nothing"), RFL_NOTFOUND)
        lib.rfl_character_free(hero)
        lib.rfl_ruleset_free(rules)


if __name__ == "__main__":
    unittest.main(verbosity=1)
