"""The book's shared library: update rules and schedules (rules), problems to train on, and the
pieces that present them (plots, sliders, checkers). Chapters import from here; nothing is retyped."""
