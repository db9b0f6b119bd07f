"""`python -m dpnb.bench`: dpnb's gradient against the primal and a hand-written gradient.

Each workload is timed in one interleaved run (primal, hand-written gradient and
dpnb in turn, repeatedly), so drift of the machine's speed affects all three
alike; the figures are medians of the per-round times. The first call — parse,
transform and compile — is timed in a fresh process per workload.
"""
