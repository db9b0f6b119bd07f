"""Watch dpnb's own adjoint compute one gradient, assignment by assignment.

`observe(f, *args)` calls `dpnb.pullback(f, *args)` and then the pullback, with
a trace function (`sys.settrace`) that follows only two frames: the forward
pass dpnb generated for `f` and its pullback. Nothing is traced twice and no
second differentiation is done: what is recorded is the run that computes the
gradient. The adjoint is compiled with the user's file name and line numbers,
so every recorded assignment knows the user's source line.

The trace is per bytecode instruction within those two frames. Each store to a
local is an event; the locals loaded since the previous statement boundary are
what it was computed from. Names are mapped back to the user's: `s_2` (a
version of `s`) is `s`, `_t3` is a temporary of an operation, `s_2_bar` is the
cotangent of `s_2`. Loops are found from the backward jumps of the code, so
every event knows the loop iteration it belongs to; the pullback's loops run
the same iterations in reverse, which is how a cotangent computed in the
backward pass finds the forward value it belongs to.

>>> rec = observe(lambda a, b: a * b + a, 2.0, 3.0)
>>> [n.value for n in rec.nodes if n.kind == "output"]
[8.0]
>>> rec.input_grads
(4.0, 2.0)
"""
import dis
import inspect
import numbers
import re
import sys
import types
from fractions import Fraction

import numpy as np

__all__ = ["observe", "loss_seed", "Recording", "Node"]

_TEMP = re.compile(r"^_t\d+$")
_VERSION = re.compile(r"^(.+?)_(\d+)$")
_BAR = re.compile(r"^(.+)_bar\d*$")
_STORES = {"STORE_FAST", "STORE_DEREF", "STORE_NAME"}
_LOADS = {"LOAD_FAST", "LOAD_DEREF", "LOAD_GLOBAL", "LOAD_NAME", "LOAD_CLASSDEREF"}
_OPERATORS = {
    "add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%", "pow": "**",
    "matmul": "@", "neg": "-", "pos": "+",
}
_CALL_HELPERS = ("call",)


class Node:
    """One value of the forward pass: an input, a parameter, an operation's result or the output."""

    __slots__ = ("id", "kind", "name", "op", "value", "grad", "line", "path", "deps", "var")

    def __init__(self, id, kind, name, op, value, line, path, deps, var):
        self.id = id
        self.kind = kind  # "input", "parameter", "operation", "output"
        self.name = name  # the user's variable, or None for a temporary
        self.op = op  # what computed it ("*", "sin", "copy", ...)
        self.value = value
        self.grad = None
        self.line = line
        self.path = path  # the loop iterations it was computed in: ((loop, iteration), ...)
        self.deps = deps  # ids of the nodes it was computed from
        self.var = var  # the generated variable that held it

    def __repr__(self):
        return f"Node({self.id}, {self.kind}, {self.name or self.op}, line {self.line})"


class Recording:
    """What `observe` saw: `nodes` in the order they were computed, the loops, the gradients."""

    def __init__(self, fn, filename):
        self.fn = fn
        self.filename = filename
        self.nodes = []
        self.loops = {}  # loop id -> line of the loop
        self.value = None
        self.input_grads = ()
        #: user lines in the order the backward pass sent gradients through them
        self.backward_lines = []


def _numeric(v):
    if isinstance(v, bool) or v is None:
        return False
    if isinstance(v, np.ndarray):
        return v.dtype.kind in "biufc" and v.dtype != bool
    return isinstance(v, numbers.Number)


def _underlying(f):
    """The Python function whose adjoint runs for `f`."""
    for _ in range(10):
        if isinstance(f, types.FunctionType):
            return f
        if isinstance(f, types.MethodType):
            f = f.__func__
        elif isinstance(getattr(type(f), "__call__", None), types.FunctionType) and not isinstance(f, type):
            f = type(f).__call__
        else:
            break
    raise TypeError(f"dpnb.viz needs a Python function, got {type(f).__name__}")


class _Loops:
    """The loops of one code object (from its backward jumps) and the iteration the frame is in."""

    def __init__(self, code, first_id):
        spans = {}
        self.lines = {}
        starts = {}
        line = code.co_firstlineno
        for ins in dis.get_instructions(code):
            if ins.starts_line is not None:
                line = ins.starts_line
            starts[ins.offset] = line
            if "JUMP_BACKWARD" in ins.opname and isinstance(ins.argval, int):
                spans[ins.argval] = max(spans.get(ins.argval, 0), ins.offset)
        ordered = sorted(spans.items(), key=lambda kv: (kv[0], -kv[1]))
        self.spans = [(first_id + i, t, e) for i, (t, e) in enumerate(ordered)]
        for lid, t, _ in self.spans:
            self.lines[lid] = starts.get(t, code.co_firstlineno)
        self.active = {}  # loop id -> [entry number, iteration]
        self.entries = {}

    def step(self, prev, off):
        for lid, t, e in self.spans:
            inside = t <= off <= e
            state = self.active.get(lid)
            if inside and state is None:
                n = self.entries[lid] = self.entries.get(lid, -1) + 1
                self.active[lid] = [n, 0]
            elif inside and off == t and prev is not None and prev > off:
                state[1] += 1
            elif not inside and state is not None:
                del self.active[lid]

    def path(self):
        return tuple((lid, self.active[lid][0], self.active[lid][1]) for lid, _, _ in self.spans if lid in self.active)


class _FrameWatch:
    """The per-instruction trace of one frame: stores, the loads they depend on, the loop path."""

    def __init__(self, code, on_store, loop_base):
        self.ins = {i.offset: i for i in dis.get_instructions(code)}
        self.loops = _Loops(code, loop_base)
        self.on_store = on_store
        self.loads = []
        self.ops = []
        self.pending = None
        self.shared = None
        self.unpacking = 0
        self.prev = None

    def flush(self, frame):
        if self.pending is not None:
            name, deps, ops, line = self.pending
            self.pending = None
            value = frame.f_locals.get(name, None)
            self.on_store(frame, name, value, deps, ops, line, self.loops.path())

    def opcode(self, frame):
        self.flush(frame)
        off = frame.f_lasti
        self.loops.step(self.prev, off)
        self.prev = off
        ins = self.ins.get(off)
        if ins is None:
            return
        op = ins.opname
        if op in _LOADS:
            self.loads.append(ins.argval)
        elif op in ("LOAD_ATTR", "LOAD_METHOD"):
            if self.loads:
                self.loads[-1] = f"{self.loads[-1]}.{ins.argval}"
        elif op in _STORES:
            if self.unpacking:
                deps, ops = self.shared
                self.unpacking -= 1
            else:
                deps, ops = self.loads, self.ops
            self.pending = (ins.argval, list(deps), list(ops), frame.f_lineno)
            self.loads, self.ops = [], []
        elif op in ("UNPACK_SEQUENCE", "UNPACK_EX"):
            self.shared = (self.loads, self.ops)
            self.unpacking = ins.argval if op == "UNPACK_SEQUENCE" else 1
            self.loads, self.ops = [], []
        elif op == "BINARY_OP":
            self.ops.append(ins.argrepr.rstrip("="))
        elif op == "BINARY_SUBSCR":
            self.ops.append("[]")
        elif op in ("UNARY_NEGATIVE",):
            self.ops.append("-")
        elif op == "CALL":
            self.ops.append("call")
        elif op == "FOR_ITER":
            self.loads, self.ops = [], ["next"]
        elif op == "POP_TOP" or "JUMP" in op:
            self.loads, self.ops = [], []


def _base_name(var, user_vars):
    if var in user_vars:
        return var
    m = _VERSION.match(var)
    if m and m.group(1) in user_vars:
        return m.group(1)
    return None


def observe(f, *args, seed=None):
    """Run `dpnb.pullback(f, *args)` and its pullback once, recording both passes (see the module)."""
    import dpnb

    fn = _underlying(f)
    user_code = fn.__code__
    user_vars = set(user_code.co_varnames) | set(user_code.co_cellvars)
    user_free = set(user_code.co_freevars) | set(user_code.co_names)
    rec = Recording(fn, user_code.co_filename)
    state = {"fwd": None, "pb": None, "fwd_done": False, "pb_done": False}
    current = {}  # generated variable -> node (its value now)
    history = {}  # (generated variable, iteration indices) -> node it created
    params = {}  # free name -> parameter node
    counter = [0]
    line_shift = {}

    def new_node(kind, name, op, value, line, path, deps, var):
        counter[0] += 1
        node = Node(f"n{counter[0]}", kind, name, op, value, line, path, deps, var)
        rec.nodes.append(node)
        return node

    def op_label(frame, deps, ops):
        """A short name for the operation: an operator symbol, or the name of the function called."""
        if "call" in ops and deps:
            callee = deps[0].split(".")
            head = callee[-1].lstrip("_")
            if head.startswith(_CALL_HELPERS) and len(deps) > 1:
                target = deps[1]
                value = frame.f_locals.get(target.split(".")[0])
                if value is not None and "." not in target:
                    return getattr(value, "__name__", target)
                return target.split(".")[-1]
            for key, symbol in _OPERATORS.items():
                if head == key or head.startswith(key + "_"):
                    return symbol
            value = frame.f_locals.get(callee[0]) if len(callee) == 1 else None
            if value is not None and hasattr(value, "__name__"):
                return value.__name__
            return callee[-1]
        for o in ops:
            if o not in ("call", "next"):
                return o
        if "next" in ops:
            return "next"
        return "copy" if deps else "constant"

    def forward_store(frame, var, value, deps, ops, line, path):
        if var.startswith("_t") and not _TEMP.match(var):
            return
        name = _base_name(var, user_vars)
        if name is None and not _TEMP.match(var):
            current.pop(var, None)
            return
        if not _numeric(value) or "next" in ops and name is None:
            current.pop(var, None)
            return
        dep_nodes = []
        for d in deps:
            root = d.split(".")[0]
            node = current.get(root)
            if node is None and root in params:
                node = params[root]
            if node is None and root not in current and root in user_free and root not in frame.f_code.co_varnames:
                pv = frame.f_locals.get(root, frame.f_globals.get(root))
                if _numeric(pv) and isinstance(pv, np.ndarray):
                    node = params[root] = new_node("parameter", root, "parameter", pv, line, (), [], root)
            if node is not None and node.id not in dep_nodes:
                dep_nodes.append(node.id)
        label = op_label(frame, deps, ops)
        if label == "copy" and len(dep_nodes) == 1 and len(deps) == 1 and current.get(deps[0]) is not None \
                and current[deps[0]].value is value:
            current[var] = current[deps[0]]  # a new name for the same value
            return
        node = new_node("operation", name, label, value, line, path, dep_nodes, var)
        current[var] = node
        history[(var, tuple(i for _, _, i in path))] = node

    pb_counts = {}

    def backward_store(frame, var, value, deps, ops, line, path):
        m = _BAR.match(var)
        if not m or value is None or not _numeric(value):
            return
        for lid, entry, it in path:
            key = (lid, entry, tuple(p[:3] for p in path if p[0] < lid))
            pb_counts[key] = max(pb_counts.get(key, 0), it + 1)
        pending_bars.append((m.group(1), value, path))

    pending_bars = []
    watches = {}

    def local(frame, event, arg):
        w = watches.get(frame)
        if w is None:
            return None
        if event == "opcode":
            w.opcode(frame)
        elif event == "return":
            w.flush(frame)
            if frame.f_code is state["fwd"]:
                state["fwd_done"] = True
                rec.value = arg[0] if isinstance(arg, tuple) and len(arg) == 2 else arg
            else:
                state["pb_done"] = True
                if isinstance(arg, tuple):
                    rec.input_grads = tuple(arg[1:])
            del watches[frame]
        return local

    def is_forward(code):
        return (
            code is not user_code
            and code.co_filename == user_code.co_filename
            and code.co_name == user_code.co_name
            and code.co_firstlineno == user_code.co_firstlineno
        )

    def global_trace(frame, event, arg):
        if event != "call":
            return None
        code = frame.f_code
        if state["fwd"] is None and is_forward(code):
            state["fwd"] = code
            watch = _FrameWatch(code, forward_store, 0)
            watches[frame] = watch
            for i, p in enumerate(code.co_varnames[: code.co_argcount]):
                value = frame.f_locals.get(p)
                node = new_node("input", p, "input", value, code.co_firstlineno, (), [], p)
                if _numeric(value):
                    current[p] = node
                else:
                    rec.nodes.remove(node)
                    counter[0] -= 1
        elif (
            state["fwd_done"] and state["pb"] is None and code in state["fwd"].co_consts
            and "pullback" in code.co_name
        ):
            state["pb"] = code
            watches[frame] = _FrameWatch(code, backward_store, 1000)
        else:
            return None
        frame.f_trace_opcodes = True
        return local

    old = sys.gettrace()
    sys.settrace(global_trace)
    try:
        y, back = dpnb.pullback(f, *args)
        sys.settrace(None)
        out = y[0] if seed is not None and isinstance(y, tuple) else y
        if seed is None:
            seed = loss_seed(y)
            if seed is None:
                raise dpnb.NonScalarOutputError(y)
        sys.settrace(global_trace)
        grads = back(seed)
    finally:
        sys.settrace(old)
    rec.input_grads = tuple(grads)
    rec.value = out
    rec.loops = {}
    if state["fwd"] is not None:
        rec.loops = _Loops(state["fwd"], 0).lines
    _mark_output(rec, current, out, seed)
    _assign_gradients(rec, history, pending_bars, pb_counts, current)
    return rec


def loss_seed(loss):
    """The seed of a real scalar loss (its own "one"), or None if the loss is not one."""
    if isinstance(loss, bool):
        return None
    if isinstance(loss, Fraction):
        return Fraction(1)
    if isinstance(loss, np.ndarray):
        if loss.size == 1 and loss.dtype.kind in "iuf":
            return np.ones(loss.shape, dtype=loss.dtype if loss.dtype.kind == "f" else np.float64)
        return None
    if isinstance(loss, np.floating):
        return loss.dtype.type(1)
    if isinstance(loss, numbers.Real):
        return 1.0
    return None



def _assign_gradients(rec, history, bars, counts, current):
    for primal, value, path in bars:
        indices = []
        for lid, entry, it in path:
            key = (lid, entry, tuple(p[:3] for p in path if p[0] < lid))
            n = counts.get(key, it + 1)
            indices.append(n - 1 - it)
        node = history.get((primal, tuple(indices)))
        if node is None and not path:
            node = current.get(primal) if current.get(primal) is not None and current[primal].kind == "input" else None
        if node is not None:
            node.grad = value
            if not rec.backward_lines or rec.backward_lines[-1] != node.line:
                rec.backward_lines.append(node.line)
    _fill_linear(rec.nodes)
    inputs = [n for n in rec.nodes if n.kind == "input"]
    params = list(inspect.signature(rec.fn).parameters) if rec.fn else []
    for node in inputs:
        if node.name in params:
            i = params.index(node.name)
            if i < len(rec.input_grads):
                node.grad = rec.input_grads[i]


def _fill_linear(nodes):
    """Cotangents the adjoint never stored in a variable of their own, where a sum passed them on.

    The generated code writes `x_bar = y_bar` away when `y = x + c`: the cotangent of `x` is
    the one of `y`. So a value whose every consumer is a `+`, a `-` or a copy of the same
    shape, and whose cotangent was not seen, gets the sum of its consumers' cotangents.
    """
    consumers = {}
    for n in nodes:
        for d in n.deps:
            consumers.setdefault(d, []).append(n)
    for n in reversed(nodes):
        if n.grad is not None or n.kind in ("input", "parameter") or n.id not in consumers:
            continue
        total = None
        for c in consumers[n.id]:
            if c.grad is None or c.op not in ("+", "-", "copy") or np.shape(c.grad) != np.shape(n.value):
                total = None
                break
            if c.op == "-" and len(c.deps) > 1 and c.deps[0] != n.id:
                g = -c.grad
            else:
                g = c.grad
            total = g if total is None else total + g
        if total is not None:
            n.grad = total


def _mark_output(rec, current, out, seed):
    target = out
    for node in reversed(rec.nodes):
        if node.value is target and node.kind == "operation":
            node.kind = "output"
            node.grad = seed[0] if isinstance(seed, tuple) else seed
            rec.backward_lines.insert(0, node.line)
            return
    for node in reversed(rec.nodes):
        if node.value is target:
            counter = len(rec.nodes) + 1
            extra = Node(f"n{counter}", "output", None, "return", out, node.line, node.path, [node.id], None)
            extra.grad = seed[0] if isinstance(seed, tuple) else seed
            rec.nodes.append(extra)
            return
