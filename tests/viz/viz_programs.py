"""Small programs whose pullback graphs and explanations the tests look at."""
import numpy as np

W = np.array([[1.0, 2.0], [3.0, 4.0]])


def product(a, b):
    c = a * b
    return c + a


def loop(x, w):
    s = 0.0
    for i in range(3):
        s = s + np.sin(x * w) * i
    y = s ** 2
    return y


def long_loop(x, w):
    s = 0.0
    for i in range(50):
        s = s + np.sin(x * w + i)
    return s


def nested(x):
    total = 0.0
    for i in range(2):
        for j in range(3):
            total = total + x * (i + j)
    return total


def with_parameter(v):
    h = W @ v
    return np.sum(h * h)


def on_arrays(v):
    u = v * 2.0
    return np.sum(np.tanh(u))


def bowl(x, y):
    return x * x + 3.0 * y * y


def quartic(x):
    return x ** 4 - 2.0 * x


def branchy(x):
    if x > 0:
        y = x * x
    else:
        y = -x
    return y
