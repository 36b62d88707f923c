"""A user's mistake met in Python is the user's call and one line, not a page of mlplab.

In a notebook, a ConfigError from ``mlplab.train(lr="x")`` came under eight frames of
mlplab's own functions (about 40 lines in IPython), and students scrolled past the line
that named their setting. The public entry points re-raise mlplab's errors from their own
frame; mlplab's bugs (any other exception) keep every frame.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import mlplab
from mlplab.errors import MlplabError


def _frames(call: Callable[[], Any]) -> tuple[MlplabError, list[str]]:
    with pytest.raises(MlplabError) as info:
        call()
    return info.value, [f.filename for f in traceback.extract_tb(info.value.__traceback__)]


CALLS: dict[str, Callable[[Path], Any]] = {
    "train": lambda tmp: mlplab.train(data="xor", lr="x", verbose=False),
    "train, data file": lambda tmp: mlplab.train(data=str(tmp / "no.csv"), verbose=False),
    "sweep": lambda tmp: mlplab.sweep({"data": "xor"}, lr=["x"], verbose=False),
    "report": lambda tmp: mlplab.report(str(tmp / "nowhere")),
    "load_dataset": lambda tmp: mlplab.load_dataset(str(tmp / "no.csv")),
    "load_config": lambda tmp: mlplab.load_config(str(tmp / "no.yaml")),
    "load_run": lambda tmp: mlplab.load_run(str(tmp / "nowhere")),
    "backprop": lambda tmp: mlplab.backprop(str(tmp / "no.yaml")),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_a_users_mistake_leaves_a_public_function_with_one_frame_of_mlplab(
    name: str, tmp_path: Path
) -> None:
    err, files = _frames(lambda: CALLS[name](tmp_path))
    inside = [f for f in files if "/mlplab/" in f.replace("\\", "/")]
    assert files[0] == __file__  # the user's line comes first
    assert len(inside) == 1 and inside[0].endswith("errors.py"), files
    assert "\n" not in str(err) and str(err)


def test_mlplabs_own_bug_keeps_every_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the user's mistakes are shortened: an error of mlplab's own shows where it was."""
    import mlplab.config

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in mlplab")

    monkeypatch.setattr(mlplab.config, "read_yaml", broken)
    with pytest.raises(RuntimeError) as info:
        mlplab.load_config("any.yaml")
    names = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert "load_config" in names and "broken" in names


def test_a_public_function_keeps_its_name_signature_and_help() -> None:
    import inspect

    assert mlplab.train.__name__ == "train"
    assert list(inspect.signature(mlplab.train).parameters)[:2] == ["config", "resume"]
    assert mlplab.sweep.__doc__ and "subscribers" in mlplab.sweep.__doc__


def test_the_users_own_frames_that_mlplab_called_are_kept(tmp_path: Path) -> None:
    """A subscriber of the user's that met an mlplab error (its own load_dataset of a
    missing file) showed only the train(...) line, as if train's data were missing."""

    def on_event(event: Any) -> None:
        mlplab.load_dataset(str(tmp_path / "reference.csv"))

    with pytest.raises(MlplabError) as info:
        mlplab.train(data="xor", epoch=3, verbose=False, record=False, subscribers=[on_event])
    frames = traceback.extract_tb(info.value.__traceback__)
    assert [f.name for f in frames] == [
        "test_the_users_own_frames_that_mlplab_called_are_kept",
        "call",
        "on_event",
    ]
    assert frames[1].filename.endswith("errors.py")
    assert "reference.csv" in str(info.value)


def test_no_librarys_frame_is_left_in_a_users_mistake() -> None:
    """pydantic's model_validate, which calls mlplab's validators, stayed in the traceback
    of a setting's mistake as the frames of mlplab were left out."""
    _, files = _frames(lambda: mlplab.train(data="xor", lr="x", verbose=False))
    # The test's own two frames (its lambda), then the one of mlplab's public function.
    assert files[:-1] == [__file__, __file__] and files[-1].endswith("errors.py"), files


def test_the_errors_module_lists_what_a_caller_catches_and_the_readme_names_each() -> None:
    """dir(mlplab.errors) listed its helpers (one_line, nearest, difflib, os) beside the
    exceptions, with no __all__; and the README's exceptions left out EngineError."""
    import inspect

    import mlplab.errors as errors

    raised = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, MlplabError)
    }
    assert set(errors.__all__) == raised | {"DataChangedWarning"}
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    python_api = readme.split("\n## Python API\n")[1].split("\n## ")[0]
    direct = [c.__name__ for c in MlplabError.__subclasses__()]
    assert "EngineError" in direct
    assert [n for n in direct if f"`{n}`" not in python_api] == []
