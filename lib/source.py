"""Show the library's own code in a chapter, so the text and the code cannot drift apart."""

import ast
import inspect
import textwrap


def source(obj, docstring=False):
    """The source of a function, method or class, without its docstring unless asked for.

    >>> from lib.optimizers import SGD
    >>> print(source(SGD.update), end="")
    def update(self, w, g, lr):
        return w - lr * g                                  # w = w - lr*g
    """
    code = textwrap.dedent(inspect.getsource(obj))
    if docstring:
        return code
    node = ast.parse(code).body[0]
    first = node.body[0]
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        return code
    lines = code.splitlines(keepends=True)
    kept = lines[: first.lineno - 1] + lines[first.end_lineno:]
    if len(node.body) > 1 and kept[first.lineno - 1:first.lineno] == ["\n"]:
        del kept[first.lineno - 1]                     # the blank line after the docstring
    return "".join(kept)


def show_source(*objects, docstring=False):
    """Display the source of ``objects`` as one highlighted Python block (a Markdown output)."""
    from IPython.display import Markdown, display

    body = "\n".join(source(obj, docstring) for obj in objects)
    display(Markdown(f"```python\n{body}```"))
