"""Show the library's own code in a chapter, so the text and the code cannot drift apart."""

import ast
import inspect
import textwrap


def source(obj, docstring=False):
    """The source of a function, method or class, without its docstring unless asked for.

    >>> from lib.optimizers import SGD
    >>> print(source(SGD.update), end="")
    def update(self, w, g, lr):
        # w = w - lr*g
        return w - lr * g
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


def _owner(obj):
    """The class a method is defined in, or None for a plain function (or a class).

    >>> from lib.optimizers import Adam, AdamW
    >>> _owner(AdamW.update).__name__, _owner(AdamW.adam_update).__name__, _owner(len)
    ('AdamW', 'Adam', None)
    """
    qualname = getattr(obj, "__qualname__", "")
    if "." not in qualname or "<locals>" in qualname:
        return None
    found = inspect.getmodule(obj)
    for part in qualname.split(".")[:-1]:
        found = getattr(found, part, None)
    return found if inspect.isclass(found) else None


def _with_class_header(objects, docstring=False):
    """The sources of ``objects``, each method under the ``class`` line it is defined in.

    Consecutive methods of one class share one header; ``...`` stands for the rest of the class.
    Plain functions are shown as they are.

    >>> from lib.optimizers import AdamW
    >>> print(_with_class_header([AdamW.update]), end="")
    class AdamW(Adam):
        ...
        def update(self, w, g, lr):
            # decoupled decay: w = w - lr*(adam_update(g) + weight_decay*w)
            return w - lr * (self.adam_update(g) + self.weight_decay * w)
    """
    blocks, current = [], object()
    for obj in objects:
        cls = _owner(obj)
        code = source(obj, docstring)
        if cls is None:
            blocks.append(code)
            current = object()
            continue
        body = textwrap.indent(code, "    ")
        if cls is current:
            blocks[-1] += "\n" + body
        else:
            header = next(line for line in inspect.getsource(cls).splitlines()
                          if line.lstrip().startswith("class "))
            blocks.append(f"{header.strip()}\n    ...\n{body}")
            current = cls
    return "\n".join(blocks)


def show_source(*objects, docstring=False, title=None, class_header=False):
    """Display the source of ``objects`` as one highlighted Python block (a Markdown output).

    ``class_header=True`` shows each method under its ``class`` line (see
    :func:`_with_class_header`), so the reader sees whose method it is; ``title`` (Markdown text)
    is printed in bold above the block.
    """
    from IPython.display import Markdown, display

    from . import _checks

    class_header = _checks.boolean("class_header", class_header)
    if title is not None and not isinstance(title, str):
        raise ValueError(f"title must be a string (Markdown) or None, got {_checks.shown(title)}")
    if class_header:
        body = _with_class_header(objects, docstring)
    else:
        body = "\n".join(source(obj, docstring) for obj in objects)
    heading = f"**{title}**\n\n" if title else ""
    display(Markdown(f"{heading}```python\n{body}```"))
