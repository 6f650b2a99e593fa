#!/usr/bin/env python3
"""Independent reference of the RNG contract, written apart from the engine, for the tests' golden values.

xoshiro256** (Blackman & Vigna) seeded by the first four outputs of SplitMix64; uniform(n) is
Lemire's nearly-divisionless method on 64-bit outputs; a die dN is 1 + uniform(N).

  reference_rng.py raw SEED COUNT          raw 64-bit outputs
  reference_rng.py dice SEED SIDES COUNT   COUNT dice with SIDES faces, drawn in order
  reference_rng.py jump SEED COUNT         raw outputs after one jump()
  reference_rng.py longjump SEED COUNT     raw outputs after one long_jump()
  reference_rng.py sum SEED N SIDES COUNT  COUNT totals of NdSIDES from one generator
"""
import sys

MASK = (1 << 64) - 1


def splitmix64(state):
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro:
    JUMP = [0x180EC6D33CFD0ABA, 0xD5A61266F0C9392C, 0xA9582618E03FC9AA, 0x39ABDC4529B1661C]
    LONG_JUMP = [0x76E15D3EFEFDCBBF, 0xC5004E441C522FB3, 0x77710069854EE241, 0x39109BB02ACBE635]

    def __init__(self, seed):
        gen = splitmix64(seed)
        self.s = [next(gen) for _ in range(4)]

    def next(self):
        s0, s1, s2, s3 = self.s
        result = (rotl((s1 * 5) & MASK, 7) * 9) & MASK
        t = (s1 << 17) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result

    def _jump(self, table):
        acc = [0, 0, 0, 0]
        for word in table:
            for bit in range(64):
                if word & (1 << bit):
                    acc = [a ^ s for a, s in zip(acc, self.s)]
                self.next()
        self.s = acc

    def jump(self):
        self._jump(self.JUMP)

    def long_jump(self):
        self._jump(self.LONG_JUMP)

    def uniform(self, n):
        product = self.next() * n
        low = product & MASK
        if low < n:
            threshold = ((1 << 64) - n) % n
            while low < threshold:
                product = self.next() * n
                low = product & MASK
        return product >> 64


def main(argv):
    kind, seed = argv[0], int(argv[1])
    g = Xoshiro(seed)
    if kind == "raw":
        print("\n".join(str(g.next()) for _ in range(int(argv[2]))))
    elif kind == "dice":
        sides = int(argv[2])
        print("\n".join(str(1 + g.uniform(sides)) for _ in range(int(argv[3]))))
    elif kind in ("jump", "longjump"):
        g.jump() if kind == "jump" else g.long_jump()
        print("\n".join(str(g.next()) for _ in range(int(argv[2]))))
    elif kind == "sum":
        n, sides, count = int(argv[2]), int(argv[3]), int(argv[4])
        print("\n".join(str(sum(1 + g.uniform(sides) for _ in range(n))) for _ in range(count)))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    assert next(splitmix64(0)) == 0xE220A8397B1DCDAF  # SplitMix64's published first output for seed 0
    main(sys.argv[1:])
