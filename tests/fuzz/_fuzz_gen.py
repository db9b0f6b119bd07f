"""Random programs for the fuzzer: Python source text, its arguments, and a Hessian target.

`generate(seed, kind)` returns a `Program`: the text of a whole module (module-level
constants, helper functions and classes, the function `f` under test, and a
one-argument `hess_target` for `dpnb.hessian`), plus the arguments to call `f`
with. Everything is decided by `random.Random(seed)`, so a seed names a program.

Two kinds:

- ``"scalar"``: plain Python on floats -- arithmetic, `math` on valid domains,
  rebinding and augmented assignment, aliases, branches, loops with break and
  continue, early return, lists, dicts, tuples and unpacking, nested and module
  helpers, closures (late binding, default arguments, lambdas), `nonlocal`,
  recursion with a depth counter, comprehensions, try/except/else/finally, `with`,
  a small class with dunders and a mutating method, mutation through aliases;
- ``"numpy"``: arrays with tracked shapes -- ufunc chains, reductions with axis and
  keepdims, broadcasting, reshape/transpose/concatenate/stack, indexing and
  slicing, matmul, and slice assignment into arrays made inside the function.

The generator keeps track of which names are bound (and to what kind of value) at
each point, so programs run; values are kept moderate (inputs in [-1.5, 1.5],
short loops, damped growth), and `math` functions only see arguments in their
domain. A program whose plain run still raises or overflows is skipped by the
checker, not reported.
"""
import random
from dataclasses import dataclass, field

import numpy as np

KINDS = ("scalar", "numpy")


@dataclass
class Program:
    """One generated program: module source, the arguments of `f`, and where it came from."""

    source: str
    args: tuple
    kind: str
    seed: int
    hess_arg: object = None          # the argument of `hess_target`
    features: list = field(default_factory=list)

    def args_repr(self):
        return "(" + ", ".join(_value_repr(a) for a in self.args) + ("," if len(self.args) == 1 else "") + ")"


def _value_repr(v):
    if isinstance(v, np.ndarray):
        return f"np.array({v.tolist()!r})"
    return repr(v)


def _num(x):
    """A float literal, short but exact enough."""
    return repr(round(float(x), 3))


class _Env:
    """What is bound at one point of a function body, by kind."""

    def __init__(self):
        self.floats = []        # names of float values
        self.readonly = set()   # captured names a nested function must not rebind
        self.ints = []          # loop counters
        self.lists = {}         # name -> length (list of floats)
        self.dicts = {}         # name -> keys (dict str -> float)
        self.tuples = {}        # name -> length (tuple of floats)
        self.mats = {}          # name -> (rows, cols) nested lists of floats
        self.objs = []          # instances of the module's class Vec
        self.fns = []           # callables float -> float
        self.arrays = {}        # name -> shape
        self.owned = set()      # arrays made inside the function (safe to assign into)

    def copy(self):
        e = _Env()
        e.floats = list(self.floats)
        e.readonly = set(self.readonly)
        e.ints = list(self.ints)
        e.lists = dict(self.lists)
        e.dicts = {k: list(v) for k, v in self.dicts.items()}
        e.tuples = dict(self.tuples)
        e.mats = dict(self.mats)
        e.objs = list(self.objs)
        e.fns = list(self.fns)
        e.arrays = dict(self.arrays)
        e.owned = set(self.owned)
        return e

    def writable_floats(self):
        return [v for v in self.floats if v not in self.readonly]


# Shapes used by the NumPy kind. Sizes 3 and 4 differ so a wrong axis shows.
SHAPES = [(3, 4), (4,), (3,), (4, 3), (3, 1), (1, 4), (2, 3), (2, 3, 4)]
RESHAPES = {12: [(3, 4), (4, 3), (2, 6), (12,), (6, 2), (2, 3, 2)], 6: [(2, 3), (3, 2), (6,)],
            4: [(4,), (2, 2), (1, 4)], 3: [(3,), (3, 1), (1, 3)], 24: [(2, 3, 4), (6, 4), (4, 6)]}


class Generator:
    def __init__(self, seed, kind, size="normal"):
        self.seed = seed
        self.kind = kind
        self.small = size == "small"
        self.r = random.Random(seed)
        self.n = 0
        self.module = []         # module-level lines, in order
        self.has = set()         # module-level definitions already emitted
        self.features = set()
        self.defining = set()      # module helpers whose body is being written (no self-calls)

    # -- small helpers ---------------------------------------------------------------

    def fresh(self, prefix="v"):
        self.n += 1
        return f"{prefix}{self.n}"

    def chance(self, p):
        return self.r.random() < p

    def const(self, lo=-1.5, hi=1.5):
        c = round(self.r.uniform(lo, hi), 2)
        return repr(c if abs(c) > 0.05 else 0.5)

    def factor(self):
        return self.r.choice(["0.5", "0.9", "1.1", "1.5", "0.7", "-0.8", "2.0"])

    # -- module-level definitions (emitted once, on first use) -------------------------

    def need(self, name):
        if name in self.has:
            return
        self.has.add(name)
        self.features.add({"CONSTS": "module globals", "Vec": "class with dunders", "Scale": "with"}[name])
        blocks = {
            "CONSTS": ["K1 = 0.7", "K2 = -1.3", "TABLE = {'a': 1.2, 'b': -0.4, 'c': 0.9}",
                       "COEFS = [0.3, 1.1, -0.5]", "FUNCS = {'s': math.sin, 'c': math.cos, 't': math.tanh}"],
            "Vec": [
                "class Vec:",
                "    def __init__(self, a, b):",
                "        self.a = a",
                "        self.b = b",
                "",
                "    def __add__(self, other):",
                "        return Vec(self.a + other.a, self.b + other.b)",
                "",
                "    def __mul__(self, s):",
                "        return Vec(self.a * s, self.b * s)",
                "",
                "    def __rmul__(self, s):",
                "        return Vec(s * self.a, s * self.b)",
                "",
                "    def scale(self, s):",
                "        self.a = self.a * s",
                "        self.b *= s",
                "        return self",
                "",
                "    def norm2(self):",
                "        return self.a * self.a + self.b * self.b",
            ],
            "Scale": [
                "class Scale:",
                "    def __init__(self, k):",
                "        self.k = k",
                "",
                "    def __enter__(self):",
                "        return self",
                "",
                "    def __exit__(self, *exc):",
                "        return False",
            ],
        }
        self.module.extend(blocks[name] + ["", ""])

    # -- scalar expressions ----------------------------------------------------------------

    def fatom(self, env):
        r = self.r
        opts = [("var", 8), ("const", 2)]
        if env.ints:
            opts.append(("int", 1))
        if env.lists:
            opts.append(("list", 2))
        if env.dicts:
            opts.append(("dict", 2))
        if env.tuples:
            opts.append(("tuple", 2))
        if env.mats:
            opts.append(("mat", 2))
        if env.objs:
            opts.append(("obj", 2))
        if env.arrays:
            opts.append(("arr", 3))
        if self.kind == "scalar":
            opts.append(("global", 1))
        what = r.choices([o for o, _ in opts], [w for _, w in opts])[0]
        if what == "var" and env.floats:
            return r.choice(env.floats)
        if what == "int":
            return f"({r.choice(env.ints)} * {self.const(0.1, 0.6)})"
        if what == "list":
            name, n = r.choice(list(env.lists.items()))
            i = r.randrange(n)
            return f"{name}[{r.choice([i, i - n])}]"
        if what == "dict":
            name, keys = r.choice(list(env.dicts.items()))
            k = r.choice(keys)
            return f"{name}.get({k!r}, 0.0)" if self.chance(0.2) else f"{name}[{k!r}]"
        if what == "tuple":
            name, n = r.choice(list(env.tuples.items()))
            return f"{name}[{r.randrange(n)}]"
        if what == "mat":
            name, (p, q) = r.choice(list(env.mats.items()))
            return f"{name}[{r.randrange(p)}][{r.randrange(q)}]"
        if what == "obj":
            o = r.choice(env.objs)
            return r.choice([f"{o}.a", f"{o}.b", f"{o}.norm2()"])
        if what == "arr":
            name, shape = r.choice(list(env.arrays.items()))
            if shape and self.chance(0.6):
                idx = ", ".join(str(r.randrange(d)) for d in shape)
                return f"{name}[{idx}]"
            return r.choice([f"np.sum({name})", f"np.mean({name})", f"{name}.sum()"])
        if what == "global":
            self.need("CONSTS")
            return r.choice(["K1", "K2", "TABLE['a']", "COEFS[1]"])
        if env.floats:
            return r.choice(env.floats)
        return self.const()

    def fexpr(self, env, depth=2):
        r = self.r
        if depth <= 0 or self.chance(0.25):
            return self.fatom(env)
        a = lambda: self.fexpr(env, depth - 1)
        k = r.randrange(34)
        if k < 4:
            return f"({a()} {r.choice(['+', '-', '+'])} {a()})"
        if k < 7:
            return f"({a()} * {a()})"
        if k == 7:
            return f"({a()} * {self.factor()})"
        if k == 8:
            return f"({a()} / {r.choice(['2.0', '1.5', '-0.8', '3'])})"
        if k == 9:
            b = a()
            return f"({a()} / (1.0 + {b} * {b}))"
        if k == 10:
            return f"math.{r.choice(['sin', 'cos', 'tanh', 'atan', 'erf', 'asinh'])}({a()})"
        if k == 11:
            return r.choice([f"math.exp(0.3 * {a()})", f"math.exp(math.sin({a()}))"])
        if k == 12:
            b = a()
            return r.choice([f"math.log(1.0 + {b} * {b})", f"math.log1p({b} ** 2)",
                             f"math.sqrt(1.0 + {b} * {b})", f"(1.0 + {b} * {b}) ** 0.5"])
        if k == 13:
            return r.choice([f"abs({a()})", f"max({a()}, {a()})", f"min({a()}, {a()})", f"math.hypot({a()}, {a()})"])
        if k == 14:
            return r.choice([f"({a()}) ** 2", f"({a()}) ** 3", f"math.pow({a()}, 2)", f"pow({a()}, 2)"])
        if k == 15:
            return f"(-{a()})"
        if k == 16:
            b, c = a(), a()
            return f"({b} if {self.cond(env)} else {c})"
        if k == 17:
            return r.choice([f"float({a()})", f"sum([{a()}, {a()}])", f"sum(({a()}, {a()}, {a()}))"])
        if k == 18 and env.fns:
            return f"{r.choice(env.fns)}({a()})"
        if k == 19 and self.kind == "scalar":
            self.need("CONSTS")
            return f"FUNCS[{r.choice(['s', 'c', 't'])!r}]({a()})"
        if k == 20 and env.lists:
            name = r.choice(list(env.lists))
            return r.choice([f"sum({name})", f"sum(v * {a()} for v in {name})", f"max({name})",
                             f"sum([v * v for v in {name}])", f"{name}[-1]"])
        if k == 21 and env.dicts:
            name = r.choice(list(env.dicts))
            return r.choice([f"sum({name}.values())", f"sum(v * {a()} for v in {name}.values())",
                             f"sum([{name}[k] for k in {name}])"])
        if k == 22 and self.kind == "numpy" and env.arrays:
            return self.fscalar_from_array(env)
        if k == 23:
            return f"math.expm1(math.tanh({a()}))"
        if k == 24 and env.objs:
            o = r.choice(env.objs)
            return f"({o} + Vec({a()}, {a()})).norm2()"
        if k == 25 and "rec" in self.has:
            return f"rec({a()}, {r.randint(1, 3)})"
        if k == 26 and self.kind == "scalar":
            return self.module_helper_call(env, depth)
        if k == 27:
            return f"(lambda t: t * {a()} + {self.const()})({a()})"
        return f"({a()} {r.choice(['+', '*', '-'])} {a()})"

    def cond(self, env):
        r = self.r
        k = r.randrange(5)
        if k == 0:
            return f"{self.fatom(env)} > {self.const(-0.5, 0.5)}"
        if k == 1:
            a, b = self.fatom(env), self.fatom(env)
            return f"{a} < {b}" if a != b else f"{a} < {self.const(-0.5, 0.5)}"
        if k == 2:
            return f"{self.fatom(env)} > {self.const(-0.5, 0.5)} and {self.fatom(env)} < {self.const(0.0, 1.0)}"
        if k == 3:
            return f"not ({self.fatom(env)} >= {self.fatom(env)})"
        return f"{self.fatom(env)} * {self.fatom(env)} < {self.const(0.0, 0.8)}"

    def module_helper_call(self, env, depth):
        """A call to a module-level helper of two floats (made on first use)."""
        r = self.r
        free = [f"helper{i}" for i in range(2) if f"helper{i}" not in self.defining]
        if not free:
            return self.fexpr(env, depth - 1)
        name = r.choice(free)
        if name not in self.has:
            self.has.add(name)
            self.defining.add(name)
            self.features.add("module helper")
            sub = _Env()
            sub.floats = ["p", "q"]
            lines = [f"def {name}(p, q):"]
            body = []
            self.block(sub, body, 1, budget=r.randint(1, 3), ret=True, in_loop=False, nested=1)
            lines += body
            lines.append(f"    return {self.fexpr(sub, 2)}")
            self.defining.discard(name)
            self.module.extend(lines + ["", ""])
        a = self.fexpr(env, depth - 1)
        b = self.fexpr(env, depth - 1)
        return f"{name}({a}, {b})" if self.chance(0.7) else f"{name}({a}, q={b})"

    def ensure_rec(self):
        if "rec" in self.has:
            return
        sub = _Env()
        sub.floats = ["a"]
        step = self.fexpr(sub, 2)   # before "rec" is known, so the step never calls rec itself
        self.has.add("rec")
        self.features.add("recursion")
        self.module.extend([
            "def rec(a, n):",
            "    if n <= 0:",
            "        return a",
            f"    return rec(0.5 * a + 0.3 * {step}, n - 1)",
            "", "",
        ])

    # -- statements ----------------------------------------------------------------------------

    def block(self, env, out, ind, budget, ret, in_loop, nested=0):
        """Emit about `budget` statements at indentation `ind`, updating `env`."""
        if self.small and ind > 1:
            budget = min(budget, 1)
        start = len(out)
        for _ in range(budget):
            self.stmt(env, out, ind, ret, in_loop, nested)
        if len(out) == start:
            self.emit(out, ind, "pass")

    def emit(self, out, ind, line):
        out.append("    " * ind + line)

    def stmt(self, env, out, ind, ret, in_loop, nested):
        if self.kind == "numpy" and self.chance(0.6):
            return self.np_stmt(env, out, ind, ret, in_loop, nested)
        r = self.r
        choices = [
            ("assign", 8), ("rebind", 6), ("augment", 4), ("alias", 2), ("if", 4), ("for", 3), ("while", 2),
            ("list", 3), ("dict", 2), ("tuple", 3), ("helper", 2), ("closure", 2), ("nonlocal", 1),
            ("rec", 1), ("try", 2), ("with", 1), ("obj", 2), ("mat", 1), ("comp", 2), ("return", 1),
            ("listmut", 2), ("dictmut", 1),
        ]
        if nested >= 2:
            choices = [c for c in choices if c[0] not in ("helper", "closure", "nonlocal", "for", "while", "try")]
        what = r.choices([c for c, _ in choices], [w for _, w in choices])[0]
        getattr(self, "s_" + what)(env, out, ind, ret, in_loop, nested)

    def s_assign(self, env, out, ind, ret, in_loop, nested):
        name = self.fresh()
        self.emit(out, ind, f"{name} = {self.fexpr(env)}")
        env.floats.append(name)

    def s_rebind(self, env, out, ind, ret, in_loop, nested):
        targets = env.writable_floats()
        if not targets:
            return self.s_assign(env, out, ind, ret, in_loop, nested)
        t = self.r.choice(targets)
        self.features.add("rebind")
        k = self.r.randrange(3)
        if k == 0:
            self.emit(out, ind, f"{t} = {t} * {self.factor()}")
        elif k == 1:
            self.emit(out, ind, f"{t} = {self.fexpr(env)}")
        else:
            self.emit(out, ind, f"{t} = 0.5 * {t} + {self.fexpr(env, 1)}")

    def s_augment(self, env, out, ind, ret, in_loop, nested):
        targets = env.writable_floats()
        if not targets:
            return self.s_assign(env, out, ind, ret, in_loop, nested)
        t = self.r.choice(targets)
        self.features.add("augmented")
        op = self.r.choice(["+=", "-=", "*="])
        rhs = self.factor() if op == "*=" and self.chance(0.6) else self.fexpr(env, 1)
        if op == "*=" and rhs not in ("0.5", "0.9", "1.1", "1.5", "0.7", "-0.8", "2.0"):
            rhs = f"math.tanh({rhs})"
        self.emit(out, ind, f"{t} {op} {rhs}")

    def s_alias(self, env, out, ind, ret, in_loop, nested):
        if not env.floats:
            return self.s_assign(env, out, ind, ret, in_loop, nested)
        src = self.r.choice(env.floats)
        u = self.fresh("u")
        self.features.add("alias")
        self.emit(out, ind, f"{u} = {src}")
        self.emit(out, ind, f"{u} = {u} + {self.const()}")
        env.floats.append(u)

    def s_if(self, env, out, ind, ret, in_loop, nested):
        self.features.add("if")
        self.emit(out, ind, f"if {self.cond(env)}:")
        self.block(env.copy(), out, ind + 1, self.r.randint(1, 3), ret, in_loop, nested)
        for _ in range(self.r.choice([0, 0, 1, 2])):
            self.emit(out, ind, f"elif {self.cond(env)}:")
            self.block(env.copy(), out, ind + 1, self.r.randint(1, 2), ret, in_loop, nested)
        if self.chance(0.6):
            self.emit(out, ind, "else:")
            self.block(env.copy(), out, ind + 1, self.r.randint(1, 2), ret, in_loop, nested)

    def loop_body(self, env, out, ind, ret, nested, counter=None):
        sub = env.copy()
        if counter:
            sub.ints.append(counter)
        n = self.r.randint(1, 3)
        start = len(out)
        for i in range(n):
            if self.chance(0.2):
                self.features.add("break/continue")
                self.emit(out, ind, f"if {self.cond(sub)}:")
                self.emit(out, ind + 1, self.r.choice(["break", "continue"]))
            self.stmt(sub, out, ind, ret, True, nested + 1)
        if len(out) == start:
            self.emit(out, ind, "pass")

    def s_for(self, env, out, ind, ret, in_loop, nested):
        r = self.r
        self.features.add("for")
        k = r.randrange(5)
        if k <= 1 or not (env.lists or env.dicts or env.tuples):
            i = self.fresh("i")
            self.emit(out, ind, f"for {i} in range({r.randint(1, 4)}):")
            self.loop_body(env, out, ind + 1, ret, nested, counter=i)
            return
        if k == 2 and env.lists:
            v = self.fresh("e")
            name = r.choice(list(env.lists))
            if self.chance(0.5):
                i = self.fresh("i")
                self.emit(out, ind, f"for {i}, {v} in enumerate({name}):")
                sub = env.copy()
                sub.ints.append(i)
            else:
                self.emit(out, ind, f"for {v} in {name}:")
                sub = env.copy()
            sub.floats.append(v)
            sub.readonly.add(v)
            self.loop_body(sub, out, ind + 1, ret, nested)
            return
        if k == 3 and env.dicts:
            kk, v = self.fresh("k"), self.fresh("e")
            name = r.choice(list(env.dicts))
            self.emit(out, ind, f"for {kk}, {v} in {name}.items():")
            sub = env.copy()
            sub.floats.append(v)
            self.loop_body(sub, out, ind + 1, ret, nested)
            return
        seqs = list(env.lists) + list(env.tuples)
        if len(seqs) >= 1:
            a, b = r.choice(seqs), r.choice(seqs)
            v, w = self.fresh("e"), self.fresh("e")
            self.emit(out, ind, f"for {v}, {w} in zip({a}, {b}):")
            sub = env.copy()
            sub.floats += [v, w]
            self.loop_body(sub, out, ind + 1, ret, nested)
            return
        i = self.fresh("i")
        self.emit(out, ind, f"for {i} in range({r.randint(1, 4)}):")
        self.loop_body(env, out, ind + 1, ret, nested, counter=i)

    def s_while(self, env, out, ind, ret, in_loop, nested):
        self.features.add("while")
        i = self.fresh("i")
        self.emit(out, ind, f"{i} = 0")
        self.emit(out, ind, f"while {i} < {self.r.randint(1, 4)}:")
        self.emit(out, ind + 1, f"{i} += 1")
        self.loop_body(env, out, ind + 1, ret, nested, counter=i)

    def s_return(self, env, out, ind, ret, in_loop, nested):
        if not ret or ind <= 1:
            return self.s_assign(env, out, ind, ret, in_loop, nested)
        self.features.add("early return")
        self.emit(out, ind, f"if {self.cond(env)}:")
        self.emit(out, ind + 1, f"return {self.ret_expr(env)}")

    def s_list(self, env, out, ind, ret, in_loop, nested):
        r = self.r
        name = self.fresh("l")
        self.features.add("list")
        n = r.randint(2, 4)
        k = r.randrange(4)
        if k == 0 and env.lists:
            src = r.choice(list(env.lists))
            self.emit(out, ind, f"{name} = [v * {self.fexpr(env, 1)} for v in {src}]")
            n = env.lists[src]
        elif k == 1 and env.lists:
            src = r.choice(list(env.lists))
            m = env.lists[src]
            if m >= 2:
                self.emit(out, ind, f"{name} = {src}[1:] + [{self.fexpr(env, 1)}]")
                n = m
            else:
                self.emit(out, ind, f"{name} = list({src})")
                n = m
        else:
            self.emit(out, ind, f"{name} = [{', '.join(self.fexpr(env, 1) for _ in range(n))}]")
        env.lists[name] = n

    def s_listmut(self, env, out, ind, ret, in_loop, nested):
        r = self.r
        if not env.lists:
            return self.s_list(env, out, ind, ret, in_loop, nested)
        name, n = r.choice(list(env.lists.items()))
        self.features.add("list mutation")
        k = r.randrange(4)
        if k == 0 and not in_loop:
            self.emit(out, ind, f"{name}.append({self.fexpr(env, 1)})")
            env.lists[name] = n + 1
        elif k == 1:
            self.emit(out, ind, f"{name}[{r.randrange(n)}] = {self.fexpr(env, 1)}")
        elif k == 2:
            self.emit(out, ind, f"{name}[{r.randrange(n)}] += {self.fexpr(env, 1)}")
        else:
            alias = self.fresh("l")
            self.features.add("mutation through alias")
            self.emit(out, ind, f"{alias} = {name}")
            self.emit(out, ind, f"{alias}[{r.randrange(n)}] = {self.fexpr(env, 1)}")

    def s_dict(self, env, out, ind, ret, in_loop, nested):
        r = self.r
        name = self.fresh("d")
        self.features.add("dict")
        keys = r.sample(["a", "b", "c", "w"], r.randint(1, 3))
        if env.dicts and self.chance(0.3):
            src = r.choice(list(env.dicts))
            self.emit(out, ind, f"{name} = {{k: v * {self.fexpr(env, 1)} for k, v in {src}.items()}}")
            keys = list(env.dicts[src])
        else:
            items = ", ".join(f"{k!r}: {self.fexpr(env, 1)}" for k in keys)
            self.emit(out, ind, f"{name} = {{{items}}}")
        env.dicts[name] = keys

    def s_dictmut(self, env, out, ind, ret, in_loop, nested):
        r = self.r
        if not env.dicts:
            return self.s_dict(env, out, ind, ret, in_loop, nested)
        name = r.choice(list(env.dicts))
        keys = env.dicts[name]
        self.features.add("dict mutation")
        k = r.randrange(3)
        if k == 0:
            self.emit(out, ind, f"{name}[{r.choice(keys)!r}] += {self.fexpr(env, 1)}")
        elif k == 1:
            nk = r.choice(["a", "b", "c", "w", "z"])
            self.emit(out, ind, f"{name}[{nk!r}] = {self.fexpr(env, 1)}")
            if nk not in keys and not in_loop:
                env.dicts[name] = keys + [nk]
        else:
            alias = self.fresh("d")
            self.features.add("mutation through alias")
            self.emit(out, ind, f"{alias} = {name}")
            self.emit(out, ind, f"{alias}[{r.choice(keys)!r}] = {self.fexpr(env, 1)}")

    def s_tuple(self, env, out, ind, ret, in_loop, nested):
        r = self.r
        self.features.add("tuple")
        k = r.randrange(5)
        if k == 0:
            name = self.fresh("t")
            n = r.randint(2, 3)
            self.emit(out, ind, f"{name} = ({', '.join(self.fexpr(env, 1) for _ in range(n))},)")
            env.tuples[name] = n
        elif k == 1 and len(env.writable_floats()) >= 2:
            a, b = r.sample(env.writable_floats(), 2)
            self.features.add("swap")
            self.emit(out, ind, f"{a}, {b} = {b}, {a}")
        elif k == 2:
            p, q = self.fresh(), self.fresh()
            self.features.add("repeated target")
            self.emit(out, ind, f"{p}, {p} = {self.fexpr(env, 1)}, {self.fexpr(env, 1)}")
            self.emit(out, ind, f"{q}, ({p}, {q}) = {self.fexpr(env, 1)}, ({self.fexpr(env, 1)}, {p})")
            env.floats += [p, q]
        elif k == 3:
            if not env.tuples:
                name, n = self.fresh("t"), r.randint(2, 3)
                self.emit(out, ind, f"{name} = ({', '.join(self.fexpr(env, 1) for _ in range(n))},)")
                env.tuples[name] = n
            name, n = r.choice(list(env.tuples.items()))
            names = [self.fresh() for _ in range(n)]
            self.features.add("unpacking")
            self.emit(out, ind, f"{', '.join(names)} = {name}")
            env.floats += names
        elif k == 4 and env.lists:
            name, n = r.choice(list(env.lists.items()))
            if n >= 2:
                a, rest = self.fresh(), self.fresh("l")
                self.features.add("starred unpacking")
                self.emit(out, ind, f"{a}, *{rest} = {name}")
                env.floats.append(a)
                env.lists[rest] = n - 1
            else:
                self.s_assign(env, out, ind, ret, in_loop, nested)
        else:
            p, q = self.fresh(), self.fresh()
            self.emit(out, ind, f"{p}, {q} = {self.fexpr(env, 1)}, {self.fexpr(env, 1)}")
            env.floats += [p, q]

    def s_helper(self, env, out, ind, ret, in_loop, nested):
        """A nested function of one float; it may read (never rebind) the enclosing floats."""
        r = self.r
        h = self.fresh("h")
        self.features.add("nested function")
        sub = env.copy()
        sub.readonly = set(sub.floats)
        sub.lists, sub.dicts, sub.mats, sub.objs, sub.arrays, sub.owned = {}, {}, {}, [], {}, set()
        sub.tuples = dict(env.tuples)
        sub.ints = []
        t = self.fresh("t")
        sub.floats = sub.floats + [t]
        self.emit(out, ind, f"def {h}({t}):")
        body = []
        self.block(sub, body, ind + 1, r.randint(0, 2), True, False, nested + 1)
        out.extend(body)
        self.emit(out, ind + 1, f"return {self.fexpr(sub, 2)}")
        env.fns.append(h)
        if self.chance(0.6):
            v = self.fresh()
            self.emit(out, ind, f"{v} = {h}({self.fexpr(env, 1)})")
            env.floats.append(v)

    def s_closure(self, env, out, ind, ret, in_loop, nested):
        r = self.r
        targets = env.writable_floats()
        if not targets:
            return self.s_helper(env, out, ind, ret, in_loop, nested)
        y = r.choice(targets)
        h = self.fresh("h")
        k = r.randrange(3)
        if k == 0:
            # late binding: the closure reads y when called, after y is rebound
            self.features.add("closure late binding")
            self.emit(out, ind, f"def {h}(t):")
            self.emit(out, ind + 1, f"return t * {y} + {self.const()}")
            self.emit(out, ind, f"{y} = {y} * {self.factor()} + {self.const()}")
        elif k == 1:
            self.features.add("default argument")
            self.emit(out, ind, f"def {h}(t, s={y}):")
            self.emit(out, ind + 1, f"return t * s - {self.fexpr(env, 1)}")
            self.emit(out, ind, f"{y} = {y} + {self.const()}")
        else:
            self.features.add("lambda")
            self.emit(out, ind, f"{h} = lambda t: {r.choice(['math.sin(t)', 't * t', 'math.tanh(t)'])} * {y}")
        env.fns.append(h)

    def s_nonlocal(self, env, out, ind, ret, in_loop, nested):
        acc = self.fresh("acc")
        h = self.fresh("h")
        self.features.add("nonlocal")
        self.emit(out, ind, f"{acc} = {self.fexpr(env, 1)}")
        sub = env.copy()
        sub.floats.append("t")
        self.emit(out, ind, f"def {h}(t):")
        self.emit(out, ind + 1, f"nonlocal {acc}")
        self.emit(out, ind + 1, f"{acc} = {acc} * 0.5 + t * {self.fexpr(sub, 1)}")
        self.emit(out, ind + 1, f"return {acc}")
        for _ in range(self.r.randint(1, 2)):
            self.emit(out, ind, f"{h}({self.fexpr(env, 1)})")
        env.floats.append(acc)

    def s_rec(self, env, out, ind, ret, in_loop, nested):
        self.ensure_rec()
        name = self.fresh()
        self.emit(out, ind, f"{name} = rec({self.fexpr(env, 1)}, {self.r.randint(1, 4)})")
        env.floats.append(name)

    def s_try(self, env, out, ind, ret, in_loop, nested):
        r = self.r
        z = self.fresh()
        self.features.add("try")
        k = r.randrange(3)
        if k == 0 and env.lists:
            name, n = r.choice(list(env.lists.items()))
            self.emit(out, ind, "try:")
            self.emit(out, ind + 1, f"{z} = {name}[{n + r.randint(0, 2)}]")
            self.emit(out, ind, "except IndexError:")
            self.emit(out, ind + 1, f"{z} = {self.fexpr(env)}")
        elif k == 1:
            self.emit(out, ind, "try:")
            self.emit(out, ind + 1, f"if {self.cond(env)}:")
            self.emit(out, ind + 2, "raise ValueError('branch')")
            self.emit(out, ind + 1, f"{z} = {self.fexpr(env)}")
            self.emit(out, ind, "except ValueError:")
            self.emit(out, ind + 1, f"{z} = {self.fexpr(env)}")
            if self.chance(0.5):
                self.emit(out, ind, "else:")
                self.emit(out, ind + 1, f"{z} = {z} * {self.factor()}")
        else:
            self.need("CONSTS")
            self.emit(out, ind, "try:")
            self.emit(out, ind + 1, f"{z} = TABLE['missing'] * {self.fatom(env)}")
            self.emit(out, ind, "except KeyError:")
            self.emit(out, ind + 1, f"{z} = {self.fexpr(env)}")
        targets = env.writable_floats()
        if targets and self.chance(0.6):
            self.features.add("finally")
            w = r.choice(targets)
            self.emit(out, ind, "finally:")
            self.emit(out, ind + 1, f"{w} = {w} * {self.factor()}")
        env.floats.append(z)

    def s_with(self, env, out, ind, ret, in_loop, nested):
        self.need("Scale")
        c = self.fresh("c")
        z = self.fresh()
        self.emit(out, ind, f"with Scale({self.fexpr(env, 1)}) as {c}:")
        self.emit(out, ind + 1, f"{z} = {self.fexpr(env, 1)} * {c}.k")
        env.floats.append(z)

    def s_obj(self, env, out, ind, ret, in_loop, nested):
        r = self.r
        self.need("Vec")
        if not env.objs or self.chance(0.3):
            o = self.fresh("o")
            self.emit(out, ind, f"{o} = Vec({self.fexpr(env, 1)}, {self.fexpr(env, 1)})")
            env.objs.append(o)
            if self.chance(0.5):
                o2 = self.fresh("o")
                self.features.add("method mutating self")
                self.emit(out, ind, f"{o2} = {o}.scale({self.fexpr(env, 1)})")
                self.emit(out, ind, f"{o}.a = {o}.a + {self.fexpr(env, 1)}")
                env.objs.append(o2)
            return
        o = r.choice(env.objs)
        k = r.randrange(5)
        if k == 0:
            self.emit(out, ind, f"{o} = {o} + Vec({self.fexpr(env, 1)}, {self.fexpr(env, 1)})")
        elif k == 1:
            self.emit(out, ind, f"{o} = {r.choice([o + ' * ' + self.fexpr(env, 1), self.fexpr(env, 1) + ' * ' + o])}")
        elif k == 2:
            o2 = self.fresh("o")
            self.features.add("method mutating self")
            self.emit(out, ind, f"{o2} = {o}.scale({self.fexpr(env, 1)})")
            env.objs.append(o2)
        elif k == 3:
            self.emit(out, ind, f"{o}.{r.choice('ab')} = {self.fexpr(env, 1)}")
        else:
            self.emit(out, ind, f"{o}.b += {self.fexpr(env, 1)}")

    def s_mat(self, env, out, ind, ret, in_loop, nested):
        r = self.r
        m = self.fresh("m")
        self.features.add("mutation through alias")
        self.emit(out, ind, f"{m} = [[{self.fatom(env)}, {self.fatom(env)}], [{self.fatom(env)}, {self.fatom(env)}]]")
        row = self.fresh("row")
        i = r.randrange(2)
        self.emit(out, ind, f"{row} = {m}[{i}]")
        self.emit(out, ind, f"{row}[{r.randrange(2)}] = {self.fexpr(env, 1)}")
        env.mats[m] = (2, 2)
        env.lists[row] = 2

    def s_comp(self, env, out, ind, ret, in_loop, nested):
        r = self.r
        self.features.add("comprehension")
        z = self.fresh()
        if env.lists and self.chance(0.5):
            name = r.choice(list(env.lists))
            self.emit(out, ind, r.choice([
                f"{z} = sum([v * {self.fexpr(env, 1)} for v in {name} if v > {self.const(-1, 0)}])",
                f"{z} = sum(v * w for v, w in zip({name}, {name}))",
                f"{z} = max([abs(v) for v in {name}] + [0.1])",
            ]))
        else:
            self.emit(out, ind, f"{z} = sum([{self.fexpr(env, 1)} * j for j in range({r.randint(1, 3)})])")
        env.floats.append(z)

    # -- NumPy -----------------------------------------------------------------------------------

    def shape_of_size(self, size):
        return self.r.choice(RESHAPES.get(size, [(size,)]))

    def aatom(self, env, shape):
        """An array of `shape` from what is bound (depth 0)."""
        r = self.r
        exact = [n for n, s in env.arrays.items() if s == shape]
        if exact and self.chance(0.8):
            return r.choice(exact)
        size = int(np.prod(shape))
        same = [n for n, s in env.arrays.items() if int(np.prod(s)) == size and s != shape]
        if same and self.chance(0.6):
            return f"{r.choice(same)}.reshape({shape})"
        if len(shape) == 2:
            tr = [n for n, s in env.arrays.items() if s == shape[::-1]]
            if tr and self.chance(0.7):
                return f"{r.choice(tr)}.T"
        if exact:
            return r.choice(exact)
        return f"({self.fatom(env)} * np.ones({shape}))"

    def aexpr(self, env, shape, depth=2):
        r = self.r
        shape = tuple(shape)
        if depth <= 0 or self.chance(0.2):
            return self.aatom(env, shape)
        a = lambda s=shape: self.aexpr(env, s, depth - 1)
        k = r.randrange(22)
        if k < 3:
            f = r.choice(["np.sin", "np.cos", "np.tanh", "np.arctan", "np.square", "np.abs"])
            return f"{f}({a()})"
        if k == 3:
            b = a()
            return r.choice([f"np.exp(0.3 * {b})", f"np.log(1.0 + {b} ** 2)", f"np.sqrt(1.0 + {b} * {b})",
                             f"np.log1p({b} * {b})", f"np.exp(-{b} * {b})"])
        if k < 7:
            op = r.choice(["+", "-", "*", "*", "+"])
            return f"({a()} {op} {a(self.broadcastable(shape))})" if self.chance(0.5) else \
                f"({a(self.broadcastable(shape))} {op} {a()})"
        if k == 7:
            return f"({self.fexpr(env, 1)} * {a()})"
        if k == 8:
            b = a(self.broadcastable(shape))
            return r.choice([f"({a()} / (1.0 + {b} * {b}))", f"np.maximum({a()}, {b})", f"np.minimum({b}, {a()})",
                             f"np.where({a()} > {b}, {a()}, {b})"])
        if k == 9:
            # a reduction that lands on `shape`
            self.features.add("reduction")
            ax = r.randrange(len(shape) + 1)
            if len(shape) >= 3:
                return a()
            d = r.choice([2, 3, 4])
            if self.chance(0.35) and 1 in shape:
                ax = shape.index(1)
                src = shape[:ax] + (d,) + shape[ax + 1:]
                fn = r.choice(["np.sum", "np.mean", "np.max", "np.prod"])
                return f"{fn}({a(src)}, axis={ax}, keepdims=True)"
            src = shape[:ax] + (d,) + shape[ax:]
            fn = r.choice(["np.sum", "np.mean", "np.sum", "np.max", "np.min", "np.prod"])
            if self.chance(0.3):
                return f"({a(src)}).{fn[3:]}(axis={ax})"
            return f"{fn}({a(src)}, axis={ax if self.chance(0.7) else ax - len(src)})"
        if k == 10:
            self.features.add("reshape")
            size = int(np.prod(shape))
            src = self.shape_of_size(size)
            if len(shape) == 1 and self.chance(0.5):
                return f"({a(src)}).ravel()"
            return r.choice([f"({a(src)}).reshape({shape})", f"np.reshape({a(src)}, {shape})"])
        if k == 11 and len(shape) == 2:
            self.features.add("transpose")
            return r.choice([f"({a(shape[::-1])}).T", f"np.transpose({a(shape[::-1])})"])
        if k == 12 and shape[0] >= 2:
            self.features.add("concatenate")
            p = r.randint(1, shape[0] - 1)
            return f"np.concatenate([{a((p,) + shape[1:])}, {a((shape[0] - p,) + shape[1:])}])"
        if k == 13 and shape[0] in (2, 3):
            self.features.add("stack")
            parts = ", ".join(a(shape[1:]) for _ in range(shape[0])) if len(shape) > 1 else \
                ", ".join(self.fexpr(env, 1) for _ in range(shape[0]))
            return f"np.stack([{parts}])" if len(shape) > 1 else f"np.array([{parts}])"
        if k == 14 and len(shape) >= 2 and shape[-1] in (2, 3):
            self.features.add("stack")
            return f"np.stack([{', '.join(a(shape[:-1]) for _ in range(shape[-1]))}], axis=-1)"
        if k == 15:
            self.features.add("indexing")
            return self.a_index(env, shape, depth)
        if k == 16 and len(shape) <= 2:
            self.features.add("matmul")
            inner = r.choice([2, 3, 4])
            if len(shape) == 2:
                return f"({a((shape[0], inner))} @ {a((inner, shape[1]))})"
            return r.choice([f"({a((shape[0], inner))} @ {a((inner,))})", f"np.dot({a((shape[0], inner))}, {a((inner,))})"])
        if k == 17 and len(shape) == 2:
            return f"np.outer({a((shape[0],))}, {a((shape[1],))})"
        if k == 18:
            return f"np.cumsum({a()}, axis={r.randrange(len(shape))})"
        if k == 19 and "nphelper" in self.has or k == 19 and self.chance(0.5):
            return self.np_helper_call(env, shape, depth)
        if k == 20:
            return f"({a()}) ** 2"
        return f"({a()} {r.choice(['+', '*', '-'])} {a()})"

    def broadcastable(self, shape):
        """A shape that broadcasts against `shape` to give `shape`."""
        r = self.r
        k = r.randrange(4)
        if k == 0 or len(shape) == 0:
            return shape
        if k == 1:
            return shape[1:] if len(shape) > 1 else shape
        if k == 2:
            i = r.randrange(len(shape))
            return shape[:i] + (1,) + shape[i + 1:]
        return shape[-1:]

    def a_index(self, env, shape, depth):
        r = self.r
        cands = []
        for n, s in env.arrays.items():
            if len(s) == len(shape) + 1 and s[1:] == shape:
                cands.append(f"{n}[{r.randrange(s[0])}]")
                cands.append(f"{n}[{-1}]")
            if len(s) == 2 and len(shape) == 1 and s[0] == shape[0]:
                cands.append(f"{n}[:, {r.randrange(s[1])}]")
            if len(s) == len(shape) and s[1:] == shape[1:] and s[0] > shape[0]:
                d = s[0] - shape[0]
                cands.append(f"{n}[{d}:]")
                cands.append(f"{n}[:{shape[0]}]")
                cands.append(f"{n}[{list(r.sample(range(s[0]), shape[0]))}]")
                if s[0] >= 2 * shape[0] - 1 and shape[0] >= 1:
                    cands.append(f"{n}[:{2 * shape[0] - 1}:2]")
            if s == shape:
                cands.append(f"{n}[::-1]")
                if len(s) == 2:
                    cands.append(f"{n}[:, ::-1]")
                cands.append(f"{n}[...]")
        if not cands:
            return self.aatom(env, shape)
        return r.choice(cands)

    def np_helper_call(self, env, shape, depth):
        r = self.r
        if "nphelper" not in self.has:
            self.has.add("nphelper")
            self.features.add("module helper")
            k = r.randrange(3)
            body = {
                0: ["def nphelper(u, w=0.5):", "    return np.tanh(u) * w + u * u * 0.1"],
                1: ["def nphelper(u, w=0.5):", "    out = u * w", "    for _ in range(2):",
                    "        out = out + np.sin(out) * 0.5", "    return out"],
                2: ["def nphelper(u, w=0.5):", "    if np.sum(u) > 0:", "        return u * w", "    return np.cos(u) - w"],
            }[k]
            self.module.extend(body + ["", ""])
        inner = self.aexpr(env, shape, depth - 1)
        return f"nphelper({inner})" if self.chance(0.5) else f"nphelper({inner}, w={self.fexpr(env, 1)})"

    def fscalar_from_array(self, env):
        r = self.r
        if not env.arrays:
            return self.fatom(env)
        shape = r.choice(list(env.arrays.values()))
        e = self.aexpr(env, shape, 1)
        k = r.randrange(5)
        if k == 0:
            return f"np.sum({e})"
        if k == 1:
            return f"np.mean({e})"
        if k == 2:
            return f"float(np.max({e}))"
        if k == 3:
            idx = ", ".join(str(r.randrange(d)) for d in shape)
            return f"({e})[{idx}]"
        return f"np.linalg.norm({e})"

    def np_stmt(self, env, out, ind, ret, in_loop, nested):
        r = self.r
        choices = [("new", 6), ("rebind", 4), ("zeros", 3), ("setitem", 5), ("scalar", 3), ("if", 2),
                   ("rows", 2), ("range", 2), ("stacklist", 2), ("view", 1), ("inplace", 2), ("comp", 1),
                   ("shape", 1)]
        if nested >= 2:
            choices = [c for c in choices if c[0] not in ("rows", "range", "if")]
        what = r.choices([c for c, _ in choices], [w for _, w in choices])[0]
        if what == "new":
            name = self.fresh("a")
            shape = r.choice(SHAPES)
            self.emit(out, ind, f"{name} = {self.aexpr(env, shape)}")
            env.arrays[name] = shape
        elif what == "rebind":
            names = [n for n in env.arrays if n not in env.readonly]
            if not names:
                return self.np_stmt(env, out, ind, ret, in_loop, nested)
            n = r.choice(names)
            self.features.add("rebind")
            prefix = r.choice(['0.5 * ' + n + ' + ', n + ' * 0.9 - ', ''])
            if not prefix:
                env.owned.discard(n)      # `n = <expr>` may alias another array now
            self.emit(out, ind, f"{n} = {prefix}{self.aexpr(env, env.arrays[n])}")
        elif what == "zeros":
            name = self.fresh("z")
            shape = r.choice([s for s in SHAPES if len(s) <= 2 and 1 not in s])
            src = [n for n, s in env.arrays.items() if s == shape]
            if src and self.chance(0.5):
                self.emit(out, ind, f"{name} = {r.choice(src)}.copy()" if self.chance(0.6) else f"{name} = np.array({r.choice(src)})")
            else:
                self.emit(out, ind, f"{name} = {r.choice(['np.zeros', 'np.ones'])}({shape})")
            env.arrays[name] = shape
            env.owned.add(name)
            if len(shape) == 2 and self.chance(0.4):
                row = self.fresh("row")
                self.features.add("mutation through view")
                self.emit(out, ind, f"{row} = {name}[{r.randrange(shape[0])}]")
                self.emit(out, ind, f"{row}[{r.randrange(shape[1])}] = {self.fexpr(env, 1)}")
        elif what in ("setitem", "inplace"):
            owned = [n for n in env.owned if n in env.arrays]
            if not owned:
                return self.np_stmt(env, out, ind, ret, in_loop, nested) if self.chance(0.7) else None
            z = r.choice(owned)
            s = env.arrays[z]
            self.features.add("slice assignment")
            op = r.choice(["=", "=", "+="]) if what == "setitem" else r.choice(["+=", "*=", "-="])
            if what == "inplace":
                rhs = self.aexpr(env, self.broadcastable(s), 1) if op != "*=" else self.factor()
                self.emit(out, ind, f"{z} {op} {rhs}")
                return
            k = r.randrange(5)
            if k == 0:
                self.emit(out, ind, f"{z}[{r.randrange(s[0])}] {op} {self.aexpr(env, s[1:], 1) if len(s) > 1 else self.fexpr(env, 1)}")
            elif k == 1 and len(s) == 2:
                self.emit(out, ind, f"{z}[:, {r.randrange(s[1])}] {op} {self.aexpr(env, (s[0],), 1)}")
            elif k == 2 and s[0] >= 2:
                lo = r.randrange(s[0] - 1)
                self.emit(out, ind, f"{z}[{lo}:] {op} {self.aexpr(env, (s[0] - lo,) + s[1:], 1)}")
            elif k == 3:
                idx = ", ".join(str(r.randrange(d)) for d in s)
                self.emit(out, ind, f"{z}[{idx}] {op} {self.fexpr(env, 1)}")
            else:
                self.emit(out, ind, f"{z}[{z} > {self.const(0.5, 1.5)}] = {self.const()}")
        elif what == "view":
            owned = [n for n in env.owned if n in env.arrays and len(env.arrays[n]) == 2]
            if not owned:
                return
            z = r.choice(owned)
            s = env.arrays[z]
            row = self.fresh("row")
            self.features.add("mutation through view")
            self.emit(out, ind, f"{row} = {z}[{r.randrange(s[0])}]")
            self.emit(out, ind, f"{row}[{r.randrange(s[1])}] = {self.fexpr(env, 1)}")
            env.arrays[row] = s[1:]
        elif what == "scalar":
            name = self.fresh("s")
            self.emit(out, ind, f"{name} = {self.fscalar_from_array(env)}")
            env.floats.append(name)
        elif what == "if":
            if not env.arrays:
                return self.s_if(env, out, ind, ret, in_loop, nested)
            self.features.add("if")
            shape = r.choice(list(env.arrays.values()))
            self.emit(out, ind, f"if np.sum({self.aexpr(env, shape, 1)}) > {self.const(-1, 1)}:")
            self.block(env.copy(), out, ind + 1, r.randint(1, 2), ret, in_loop, nested + 1)
            if self.chance(0.6):
                self.emit(out, ind, "else:")
                self.block(env.copy(), out, ind + 1, r.randint(1, 2), ret, in_loop, nested + 1)
        elif what == "rows":
            twod = [n for n, s in env.arrays.items() if len(s) == 2]
            if not twod:
                return
            n = r.choice(twod)
            row = self.fresh("row")
            acc = self.fresh("acc")
            self.features.add("loop over rows")
            self.emit(out, ind, f"{acc} = np.zeros({env.arrays[n][1:]})")
            self.emit(out, ind, f"for {row} in {n}:")
            sub = env.copy()
            sub.arrays[row] = env.arrays[n][1:]
            sub.readonly.add(row)
            if self.chance(0.3):
                self.emit(out, ind + 1, f"if np.sum({row}) > {self.const(0.5, 2)}:")
                self.emit(out, ind + 2, r.choice(["break", "continue"]))
            self.emit(out, ind + 1, f"{acc} = {acc} * 0.5 + {self.aexpr(sub, sub.arrays[row], 1)}")
            env.arrays[acc] = env.arrays[n][1:]
        elif what == "range":
            owned = [n for n in env.owned if n in env.arrays]
            if not owned:
                return
            z = r.choice(owned)
            s = env.arrays[z]
            i = self.fresh("i")
            self.features.add("loop with setitem")
            self.emit(out, ind, f"for {i} in range({s[0]}):")
            sub = env.copy()
            sub.ints.append(i)
            rhs = self.aexpr(sub, s[1:], 1) if len(s) > 1 else self.fexpr(sub, 1)
            self.emit(out, ind + 1, f"{z}[{i}] = {z}[{i}] * {self.factor()} + {rhs}")
        elif what == "stacklist":
            shape = r.choice([(3,), (4,), (3, 4)])
            lst = self.fresh("l")
            name = self.fresh("a")
            self.features.add("list of arrays")
            self.emit(out, ind, f"{lst} = [{self.aexpr(env, shape, 1)}, {self.aexpr(env, shape, 1)}]")
            self.emit(out, ind, f"{lst}.append({self.aexpr(env, shape, 1)})")
            self.emit(out, ind, f"{name} = {r.choice(['np.stack', 'np.array'])}({lst})")
            env.arrays[name] = (3,) + shape
        elif what == "comp":
            twod = [n for n, s in env.arrays.items() if len(s) == 2]
            if not twod:
                return
            n = r.choice(twod)
            name = self.fresh("a")
            self.features.add("comprehension")
            self.emit(out, ind, f"{name} = np.array([np.sum(r * {self.const()}) for r in {n}])")
            env.arrays[name] = env.arrays[n][:1]
        elif what == "shape":
            twod = [n for n, s in env.arrays.items() if len(s) == 2]
            if not twod:
                return
            n = r.choice(twod)
            p, q = self.fresh("n"), self.fresh("n")
            self.emit(out, ind, f"{p}, {q} = {n}.shape")
            s = self.fresh("s")
            self.emit(out, ind, f"{s} = np.sum({n}) / ({p} * {q})")
            env.floats.append(s)

    # -- whole programs ----------------------------------------------------------------------------

    def ret_expr(self, env):
        r = self.r
        parts = []
        pool = env.floats[-4:] + r.sample(env.floats, min(2, len(env.floats)))
        for v in dict.fromkeys(pool):
            parts.append(v if self.chance(0.7) else f"{self.factor()} * {v}")
        if self.kind == "numpy" and env.arrays:
            names = list(env.arrays)[-3:]
            for n in dict.fromkeys(names + [r.choice(list(env.arrays))]):
                parts.append(r.choice([f"np.sum({n})", f"np.mean({n} * {n})", f"np.sum(np.sin({n}))"]))
        if env.lists and self.chance(0.5):
            parts.append(f"sum({r.choice(list(env.lists))})")
        if env.objs and self.chance(0.5):
            parts.append(f"{r.choice(env.objs)}.norm2()")
        if env.dicts and self.chance(0.5):
            parts.append(f"sum({r.choice(list(env.dicts))}.values())")
        return " + ".join(parts) if parts else "0.0"

    def program(self):
        r = self.r
        env = _Env()
        if self.kind == "scalar":
            nparams = r.choice([1, 2, 2, 3, 3])
            params = ["x", "y", "z"][:nparams]
            args = tuple(round(r.uniform(-1.5, 1.5), 3) for _ in params)
            env.floats = list(params)
        else:
            rs = np.random.RandomState(r.randrange(2 ** 31))
            choices = [[("a", (3, 4))], [("a", (3, 4)), ("b", (4,))], [("a", (4,))], [("a", (3, 4)), ("s", ())],
                       [("a", (2, 3)), ("b", (3,)), ("s", ())], [("a", (3,)), ("b", (3, 4))]]
            spec = r.choice(choices)
            params, args = [], []
            for name, shape in spec:
                params.append(name)
                if shape == ():
                    args.append(round(r.uniform(-1.5, 1.5), 3))
                    env.floats.append(name)
                else:
                    args.append(np.round(rs.uniform(-1.5, 1.5, size=shape), 3))
                    env.arrays[name] = shape
            args = tuple(args)
        body = []
        self.block(env, body, 1, r.randint(2, 5) if self.small else r.randint(3, 9), True, False)
        body.append(f"    return {self.ret_expr(env)}")
        head = ["import math", "", "import numpy as np", "", ""]
        # the Hessian target: f of one argument (the others fixed, as module constants)
        hess_lines, hess_arg = self.hess_target(params, args)
        src = "\n".join(head + self.module + [f"def f({', '.join(params)}):"] + body + ["", ""] + hess_lines) + "\n"
        return Program(src, args, self.kind, self.seed, hess_arg, sorted(self.features))

    def hess_target(self, params, args):
        if self.kind == "scalar":
            if len(params) == 1:
                return ["def hess_target(x):", "    return f(x)"], args[0]
            unpack = ", ".join(f"v[{i}]" for i in range(len(params)))
            return ["def hess_target(v):", f"    return f({unpack})"], np.array(args, dtype=float)
        lines = []
        call = []
        for i, (p, a) in enumerate(zip(params, args)):
            if i == 0:
                call.append("w")
            else:
                lines.append(f"FIXED_{p} = {_value_repr(a)}")
                call.append(f"FIXED_{p}")
        lines += ["", "", "def hess_target(w):", f"    return f({', '.join(call)})"]
        return lines, args[0]


def generate(seed, kind="scalar", size="normal"):
    """The program of `seed` (an int) of `kind` ("scalar" or "numpy"); `size` "small" or "normal"."""
    return Generator(seed, kind, size).program()


def program_for(index, seed=0, kinds=KINDS, size="normal"):
    """The `index`-th program of a run with base `seed`, kinds taken in turn."""
    kind = kinds[index % len(kinds)]
    return generate(seed * 1_000_003 + index, kind, size)
