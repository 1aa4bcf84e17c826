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


def test_training_bars_with_live_figures_print_sparsely(capsys):
    """A bar whose figures (loss, accuracy) change every batch still prints sparsely when
    stderr is not a terminal: ``lavalab dl train`` once wrote one line per batch."""
    import numpy as np

    from lavalab.networks.supervised import SupervisedSpec
    from lavalab.supervised.train import TrainConfig, train

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (400, 64), dtype=np.uint8)
    y = rng.integers(0, 10, 400)
    train(SupervisedSpec(hidden=(8,), timesteps=1, n_input=64),
          TrainConfig(epochs=1, batch_size=10), x, y, progress=True)
    err = capsys.readouterr().err
    draws = err.count("\r") + err.count("\n")
    assert "epoch 1/1" in err and draws <= 6, (draws, err[-500:])
