"""Example programs shared by the higher-order tests."""


def power_loop(x, n):
    r = 1.0
    for _ in range(n):
        r = r * x
    return r


def power_rec(x, n):
    return 1.0 if n <= 0 else x * power_rec(x, n - 1)
