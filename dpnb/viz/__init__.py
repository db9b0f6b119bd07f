"""Pictures of differentiation, in the spirit of a whiteboard sketch.

This is where dpnb's drawings live: the pullback graph of one forward pass,
each operation annotated with its value and, after the backward pass, its
gradient (drawn with graphviz); plots of a function beside its derivative, or
contours with gradient arrows for functions of two variables (matplotlib); and
interactive views with sliders for the inputs (ipywidgets).

Nothing is defined here yet. The module imports without graphviz, matplotlib
or ipywidgets installed: each drawing imports what it needs when it is called.
"""
