"""lavalab.progress: bars redraw sparsely when their output is not a terminal."""

import io

from lavalab.progress import NON_TTY_MININTERVAL, bar_options, progress_bar


class _Tty(io.StringIO):
    def isatty(self):
        return True


class _Closed(io.StringIO):
    def isatty(self):
        raise ValueError("I/O operation on closed file")


def test_options_on_a_terminal_and_elsewhere():
    assert bar_options(_Tty()) == {}
    assert bar_options(io.StringIO())["mininterval"] == NON_TTY_MININTERVAL
    assert bar_options(_Closed())["mininterval"] == NON_TTY_MININTERVAL
    assert bar_options(object())["mininterval"] == NON_TTY_MININTERVAL  # no isatty


def test_bar_to_a_file_prints_sparsely():
    sparse, dense = io.StringIO(), _Tty()
    with progress_bar(total=2000, file=sparse) as bar:
        for _ in range(2000):
            bar.update(1)
    with progress_bar(total=2000, file=dense, mininterval=0, miniters=1) as bar:
        for _ in range(2000):
            bar.update(1)
    # to a file: the first and the final state only (no redraw within 30 s)
    assert sparse.getvalue().count("\r") <= 3
    assert dense.getvalue().count("\r") > 10
    assert "2000/2000" in sparse.getvalue()


def test_explicit_arguments_win():
    out = io.StringIO()
    bar = progress_bar(total=1, file=out, mininterval=0.5)
    assert bar.mininterval == 0.5
    bar.close()
