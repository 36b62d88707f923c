"""Datasets: the labs' sets, bundled real data and user files."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from conftest import assert_one_line_error
from mlplab.config import Config
from mlplab.data import BUILTIN, load_dataset
from mlplab.errors import ConfigError, DataError


def refused(path, text: str, **kwargs) -> str:
    """The one line of the DataError that loading ``text``, written to ``path``, raises."""
    path.write_text(text)
    with pytest.raises(DataError) as err:
        load_dataset(str(path), **kwargs)
    return str(err.value)


def test_xor_rows_serve_as_train_val_and_test():
    d = load_dataset("xor")
    assert d.task == "binary" and d.shared_splits
    np.testing.assert_array_equal(d.X_train, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(d.y_train[:, 0], [0, 1, 1, 0])
    np.testing.assert_array_equal(d.X_test, d.X_train)


def test_a_gate_refuses_a_data_seed_that_would_change_nothing(run_cli, tmp_path):
    """--data_seed 5 on xor made a run folder of its own for the same 4 rows, and a sweep
    over data_seed trained one run as several."""
    with pytest.raises(ConfigError, match="'data_seed' does not apply to the 'xor' gate"):
        load_dataset("xor", seed=5)
    proc = run_cli("sweep", "--data", "and", "--data_seed", "0", "1", "--log_path", tmp_path)
    assert_one_line_error(proc, "setting 'data_seed' does not apply to the 'and' gate")
    assert not list(tmp_path.iterdir())


def test_a_gate_names_only_the_settings_given_that_it_does_not_take():
    """`--noise 0.1` on xor said "settings 'n_samples' and 'noise' do not apply"."""
    for kw, said in (
        ({"noise": 0.1}, "setting 'noise' does not apply to the 'xor' gate"),
        ({"n_samples": 8}, "setting 'n_samples' does not apply to the 'xor' gate"),
        ({"n_samples": 8, "noise": 0.1}, "settings 'n_samples' and 'noise' do not apply"),
    ):
        with pytest.raises(ConfigError, match=re.escape(said)):
            load_dataset("xor", **kw)


@pytest.mark.parametrize("n", [1, 2])
def test_a_builtin_set_of_fewer_than_3_rows_is_told_so_not_given_a_split(n):
    """`--n_samples 1` was told "for example, --split 0.34 0.33 0.33", which fails too."""
    with pytest.raises(ConfigError) as err:
        load_dataset("moons", n_samples=n)
    assert "so 3 rows or more (setting 'n_samples'" in str(err.value)
    assert "--split" not in str(err.value)


def test_sinlog_is_the_regression_lab():
    d = load_dataset("sinlog", noise=0.0)
    assert (len(d.X_train), len(d.X_val), len(d.X_test)) == (1600, 400, 400)
    X = np.concatenate([d.X_train, d.X_val, d.X_test])
    y = np.concatenate([d.y_train, d.y_val, d.y_test])[:, 0]
    assert X.min() >= 0 and X.max() <= 10
    np.testing.assert_allclose(y, 2 * np.sin(X[:, 0]) + np.log(X[:, 1] ** 2 / 2))


def test_sine_is_one_raw_feature_with_its_sine_as_target(tmp_path):
    d = load_dataset("sine")
    assert d.task == "regression" and d.feature_names == ["x"] and d.scaler is None
    assert (len(d.X_train), len(d.X_val), len(d.X_test)) == (800, 100, 100)
    X = np.concatenate([d.X_train, d.X_val, d.X_test])[:, 0]
    y = np.concatenate([d.y_train, d.y_val, d.y_test])[:, 0]
    assert -6 <= X.min() < -5.9 and 5.9 < X.max() <= 6
    assert np.std(y - np.sin(X)) == pytest.approx(0.1, rel=0.1)  # the default noise
    exact = load_dataset("sine", noise=0.0)
    np.testing.assert_allclose(exact.y_train[:, 0], np.sin(exact.X_train[:, 0]))
    from mlplab.runner import train

    run = train(data="sine", epoch=5, verbose=False, log_every=0, log_path=str(tmp_path))
    assert run.record["plot_files"] == ["loss.png", "fit.png", "pred_vs_true.png", "residuals.png"]


def test_ring_is_the_classification_lab():
    d = load_dataset("ring")
    assert d.task == "multiclass" and d.n_outputs == 3
    assert (len(d.X_train), len(d.X_val), len(d.X_test)) == (8000, 1000, 1000)
    # Class k has radius r in [k, k+1) before stretching by (cos θ + 1) in [0, 2]: |x| < 2(k+1).
    X = np.concatenate([d.X_train, d.X_val, d.X_test])
    y = np.concatenate([d.y_train, d.y_val, d.y_test])
    radius = np.linalg.norm(X, axis=1)
    for k in range(3):
        assert radius[y == k].max() < 2 * (k + 1) + 1e-9


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_builtin_is_a_pure_function_of_its_seed(name):
    from mlplab.data.synthetic import GATES

    seed = 0 if name in GATES else 3  # a gate's rows are fixed: it takes no data_seed
    a, b = load_dataset(name, seed=seed), load_dataset(name, seed=seed)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    info = BUILTIN[name]
    assert a.n_features == info.n_features
    assert a.n_rows == info.n_samples


def test_noise_and_size_change_synthetic_data():
    a = load_dataset("moons", n_samples=200, noise=0.0)
    b = load_dataset("moons", n_samples=200, noise=0.3)
    assert a.n_rows == 200 and not np.allclose(a.X_train, b.X_train)


def test_csv_with_string_label_and_shuffled_columns(tmp_path):
    from sklearn.datasets import load_iris

    iris = load_iris(as_frame=True)
    df = iris.frame.rename(columns={"target": "species"})
    df["species"] = iris.target_names[iris.target]
    df = df[["species", *reversed(iris.feature_names)]]
    path = tmp_path / "iris.csv"
    df.to_csv(path, index=False)
    d = load_dataset(str(path), target=["species"])
    assert d.task == "multiclass"
    assert d.class_names == sorted(iris.target_names)
    assert d.feature_names == list(reversed(iris.feature_names))
    assert d.n_rows == 150


def test_parquet_and_npz_multi_target(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    Y = np.stack([X[:, 0] + X[:, 1], X[:, 2] * 2], axis=1)
    np.savez(tmp_path / "d.npz", X=X, y=Y)
    d = load_dataset(str(tmp_path / "d.npz"))
    assert d.task == "regression" and d.n_outputs == 2
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "logp": Y[:, 0], "tpsa": Y[:, 1]})
    df.to_parquet(tmp_path / "d.parquet")
    d = load_dataset(str(tmp_path / "d.parquet"), target=["logp", "tpsa"])
    assert d.target_names == ["logp", "tpsa"] and d.feature_names == ["a", "b", "c"]


def test_one_hot_labels_are_read_as_classes(tmp_path):
    # Keras' to_categorical: a 0/1 column a class, one 1 a row. It was a regression of
    # three numbers, with a note a column that led to a model a class.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    labels = np.arange(90) % 3
    np.savez(tmp_path / "oh.npz", X=X, y=np.eye(3)[labels])
    d = load_dataset(str(tmp_path / "oh.npz"))
    assert d.task == "multiclass" and d.class_names == ["0", "1", "2"]
    assert d.target_names == ["y0", "y1", "y2"]
    assert any("one-hot labels" in n and "y.argmax(axis=1)" in n for n in d.notes)
    assert not any("give it alone" in n for n in d.notes)
    y = np.concatenate([d.y_train, d.y_val, d.y_test])
    X_all = np.concatenate([d.X_train, d.X_val, d.X_test])
    rows = {tuple(r): k for r, k in zip(X, labels, strict=True)}
    assert [rows[tuple(r)] for r in X_all] == y.tolist()  # the column of each row's 1
    np.savez(tmp_path / "oh2.npz", X=X, y=np.eye(2)[labels % 2].astype(bool))
    assert load_dataset(str(tmp_path / "oh2.npz")).task == "binary"
    # Said explicitly, a regression stays one.
    d = load_dataset(str(tmp_path / "oh.npz"), task="regression")
    assert d.task == "regression" and d.n_outputs == 3
    # A file's columns name the classes.
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    for k, name in enumerate(["cat", "dog", "bird"]):
        df[name] = (labels == k).astype(int)
    df.to_csv(tmp_path / "oh.csv", index=False)
    d = load_dataset(str(tmp_path / "oh.csv"), target=["cat", "dog", "bird"])
    assert d.task == "multiclass" and d.class_names == ["bird", "cat", "dog"]
    assert d.target_names == ["cat", "dog", "bird"]
    # Rows of two 1s (several labels each) are no one-hot labels.
    np.savez(tmp_path / "multi.npz", X=X, y=np.eye(3)[labels] + np.eye(3)[(labels + 1) % 3])
    assert load_dataset(str(tmp_path / "multi.npz")).task == "regression"


def test_an_npz_files_rows_are_named_by_numpys_index(tmp_path):
    # Counted from 1 as a table's data rows, "data row 3" sent its user to X[3], the row
    # after the one at fault.
    X = np.random.default_rng(0).normal(size=(60, 3))
    y = np.arange(60) % 2
    Xn = X.copy()
    Xn[2, 1] = np.nan
    np.savez(tmp_path / "nan.npz", X=Xn, y=y)
    with pytest.raises(
        DataError, match=r"feature column 'x1' has NaN \(a missing value\) in row X\[2\]"
    ):
        load_dataset(str(tmp_path / "nan.npz"))
    yn = np.arange(60.0)
    yn[4] = np.inf
    np.savez(tmp_path / "inf.npz", X=X, y=yn)
    with pytest.raises(DataError, match=r"target column 'y' has .* in row y\[4\]; clean it"):
        load_dataset(str(tmp_path / "inf.npz"))
    # A table's rows keep their count from 1, the header none.
    pd.DataFrame(Xn, columns=["a", "b", "c"]).assign(y=y).to_csv(tmp_path / "nan.csv", index=False)
    with pytest.raises(DataError, match=r"'b' has NaN \(a missing value\) in data row 3;"):
        load_dataset(str(tmp_path / "nan.csv"))


def test_standardize_uses_training_statistics():
    d = load_dataset("diabetes", standardize=True)
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(d.X_train.std(axis=0), 1, atol=1e-9)


@pytest.mark.parametrize(
    ("content", "target", "needle"),
    [
        ("", None, "empty"),
        ("a,b,y\n", None, "no data rows"),
        ("a,b,y\n1,2,3\n", None, "at least 3"),
        ("a,b,y\n1,2,0\n3,4,1\n5,6,0\n", ["nope"], "'nope' does not exist"),
        ("a,b,y\n1,x,0\n3,4,1\n5,6,0\n", None, "'b' is not numeric"),
        ("a,b,y\n1,,0\n3,4,1\n5,6,0\n", None, "NaN"),
        ("a,b,y\n1,2,0\n3,4,0\n5,6,0\n", None, "single class"),
        # A regression target of one value: it trained to R² 0 and was told to lower its lr.
        ("a,b,y\n1,2,3.5\n3,4,3.5\n5,6,3.5\n", None, "'y' has one value (3.5) in every row"),
        # An empty column has nothing to impute from: it was told to be imputed.
        (
            "a,m,b,y\n1,,2,0\n3,,4,1\n5,,6,0\n",
            None,
            "'m' is empty in every row: leave it out with --ignore m",
        ),
        (
            "a,m,b,y\n1,,2,0\n3,,,1\n5,,6,0\n",
            None,
            "'m' is empty in every row: leave it out with --ignore m; clean or impute the others",
        ),
        # Missing in most rows (2 of 3): little to impute from, told "clean or impute it".
        (
            "a,m,b,y\n1,,2,0\n3,7,4,1\n5,,6,0\n",
            None,
            "'m' is missing in 2 of 3 rows: leave it out with --ignore m, or impute it",
        ),
        # A line of spaces above the names was taken for the header: "no column 'y'".
        (
            " \t\r\na,b,y\n1,2,0\n3,4,1\n5,6,0\n",
            ["y"],
            "line 1, above the column names, holds only spaces or tabs; delete it",
        ),
        ("\n\r\n  \na,b,y\n1,2,0\n3,4,1\n5,6,0\n", None, "line 3, above the column names"),
        # NAN is the missing mark nan (pandas reads NULL as one): it was told to one-hot encode.
        ("a,b,y\n1,NAN,0\n3,4,1\n5,6,0\n", None, "'b' has a missing value ('NAN' in data row 1)"),
        (
            "a,b,y\n1,?,0\n3,?,1\n5,?,0\n",
            None,
            "'b' has a missing value ('?' in data row 1); it is missing in every row: leave it "
            "out with --ignore b",
        ),
        # A category named none is no missing value: it is told to be encoded.
        (
            "a,b,y\n1,none,0\n3,some,1\n5,none,0\n",
            None,
            "'b' is not numeric ('none' in data row 1)",
        ),
        ("a,b,y\n1,2,0\n3,NULL,1\n5,6,0\n", None, "'b' has NaN (a missing value) in data row 2"),
        # Digits past a float: read as text, they were told to one-hot encode, quoted whole.
        ("a,b,y\n1," + "9" * 5000 + ",0\n3,4,1\n5,6,0\n", None, "'b' has inf (written so, or a"),
    ],
)
def test_bad_files_get_one_line_naming_the_file(tmp_path, content, target, needle):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataError) as err:
        load_dataset(str(path), target=target)
    assert needle in str(err.value) and "bad.csv" in str(err.value) and "\n" not in str(err.value)


def test_a_saved_row_index_is_not_taken_for_a_feature(tmp_path):
    """pandas' to_csv writes the row index as a first column with no name; taken for a
    feature it would leak the row order (sorted by class, it gives the class away)."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(30, 2)), columns=["a", "b"])
    df["y"] = np.repeat(["no", "yes"], 15)
    df.to_csv(tmp_path / "t.csv")  # index=True, as pandas writes by default
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"))
    msg = str(err.value)
    assert "t.csv" in msg and "column 1 has no name" in msg and "index=False" in msg


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_separated_files_read_as_their_columns(tmp_path, sep):
    """Spreadsheets often save 'CSV' with semicolons (or tabs): the header shows which."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(30, 2)), columns=["sepal length", "b"])
    df["species"] = np.repeat(["setosa", "virginica"], 15)
    df.to_csv(tmp_path / "t.csv", sep=sep, index=False)
    d = load_dataset(str(tmp_path / "t.csv"), target=["species"])
    assert d.feature_names == ["sepal length", "b"] and d.class_names == ["setosa", "virginica"]
    rows = np.concatenate([d.X_train, d.X_val, d.X_test])
    np.testing.assert_allclose(np.sort(rows, axis=0), np.sort(df[["sepal length", "b"]], axis=0))


@pytest.mark.parametrize(
    ("sep", "names"),
    [
        (";", ["weight (kg, net)", "height"]),
        (";", ['"weight (kg, net)"', '"height (m, bare feet)"']),
        (",", ["ratio a;b", "height"]),
    ],
)
def test_the_separator_is_the_one_the_header_uses_most(tmp_path, sep, names):
    """A comma inside one name of a semicolon file leaves it a semicolon file, and a
    semicolon inside one name of a comma file leaves it a comma file."""
    lines = [sep.join([*names, "label"])] + [
        sep.join([str(i), str(i % 7), "yes" if i % 2 else "no"]) for i in range(20)
    ]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    d = load_dataset(str(tmp_path / "t.csv"))
    assert d.feature_names == [n.strip('"') for n in names] and d.class_names == ["no", "yes"]


@pytest.mark.parametrize("header", ["a,a,label", "a, a ,label", "a;a;label"])
def test_a_column_name_written_twice_is_refused(tmp_path, header):
    """pandas reads a repeated name as 'a' and 'a.1': the file's own header shows it."""
    sep = ";" if ";" in header else ","
    rows = [sep.join([str(i), str(i % 3), "yes" if i % 2 else "no"]) for i in range(20)]
    (tmp_path / "t.csv").write_text("\n".join([header, *rows]) + "\n")
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"))
    assert str(err.value) == (
        f"data file {str(tmp_path / 't.csv')!r}: duplicate column names ['a']; give each "
        "column a name of its own"
    )


@pytest.mark.parametrize(
    ("first", "why"),
    [
        ("0.1257,-43.64,1", "('0.1257' is a number); the first row must name the columns"),
        ("1e-3,4,0", "('1e-3' is a number); the first row must name the columns"),
        ("5;0,25;1", "('0,25' is a number); the first row must name the columns"),
        # np.savetxt of whole numbers writes no header: (0, 0, 0) was refused as names
        # given twice, which they are not.
        ("0,0,0", "(0, 0, 0 repeat whole numbers); the first row must name the columns"),
    ],
)
def test_a_file_without_a_header_is_refused_not_short_of_its_first_row(tmp_path, first, why):
    """Read as a header, a first row of values would become the names and be lost."""
    sep = ";" if ";" in first else ","
    rows = [first] + [sep.join([str(i + 7), str(i % 3), str(i % 2)]) for i in range(20)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"))
    assert str(err.value) == (
        f"data file {str(tmp_path / 't.csv')!r}: its first row looks like data, not column "
        f"names {why}"
    )


@pytest.mark.parametrize(
    ("first", "noted"),
    [("0,1,2", False), ("1,2,3", False), ("5,6,1", True), ("2018,2019,2020", True)],
)
def test_whole_numbers_name_columns_and_a_row_of_them_alone_is_noted(tmp_path, first, noted):
    """np.savetxt of whole numbers writes no header: its first row (5, 6, 1) became the
    names and was lost without a word. Years name columns too, so it is a note, not a
    refusal; pandas' 0, 1, 2 of unnamed columns gets none."""
    rows = [first] + [f"{i + 7},{i % 3},{i % 2}" for i in range(20)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    d = load_dataset(str(tmp_path / "t.csv"))
    assert d.feature_names == first.split(",")[:2] and d.n_rows == 20
    said = [n for n in d.notes if n.startswith("every column name is a whole number")]
    assert said == (
        [
            f"every column name is a whole number ({first.replace(',', ', ')}): if the file has "
            "no header row, its first row of data was read as the names and left out of the "
            "rows; the first row must name the columns"
        ]
        if noted
        else []
    )


def test_whole_numbers_may_name_columns(tmp_path):
    rows = ["2020,2021,label"] + [f"{i},{i % 3},{i % 2}" for i in range(20)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    d = load_dataset(str(tmp_path / "t.csv"))
    assert (
        d.feature_names == ["2020", "2021"] and len(d.X_train) + len(d.X_val) + len(d.X_test) == 20
    )


@pytest.mark.parametrize("sep", [";", "\t"])
def test_decimal_commas_of_semicolon_and_tab_files_are_numbers(tmp_path, sep):
    """A European spreadsheet's export: ';' (or tab) between values, ',' before decimals;
    a text column with commas in it stays text."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(30, 2)) * 50, columns=["a", "b"])
    df.loc[3, "a"] = 12  # a whole number, written without a comma
    df["note"] = [f"row {i}, seen" for i in range(30)]
    df["label"] = np.repeat(["no", "yes"], 15)
    df.to_csv(tmp_path / "t.csv", sep=sep, decimal=",", index=False)
    assert "-" in (tmp_path / "t.csv").read_text()  # negative values among them
    d = load_dataset(str(tmp_path / "t.csv"), ignore=["note"])
    assert d.feature_names == ["a", "b"] and d.class_names == ["no", "yes"]
    rows = np.concatenate([d.X_train, d.X_val, d.X_test])
    np.testing.assert_allclose(np.sort(rows, axis=0), np.sort(df[["a", "b"]], axis=0))
    with pytest.raises(DataError, match="'note' is not numeric"):
        load_dataset(str(tmp_path / "t.csv"))


@pytest.mark.parametrize("damage", ["text", "cut short", "npy"])
def test_a_file_that_is_no_npz_archive_is_one_line(tmp_path, damage):
    np.savez(tmp_path / "good.npz", X=np.zeros((50, 3)), y=np.arange(50) % 2)
    whole = (tmp_path / "good.npz").read_bytes()
    path = tmp_path / "bad.npz"
    if damage == "text":
        path.write_text("a,b,y\n1,2,0\n")
    elif damage == "cut short":
        path.write_bytes(whole[: len(whole) // 2])
    else:  # np.save's single array, named .npz
        with path.open("wb") as f:
            np.save(f, np.zeros((50, 3)))
    with pytest.raises(DataError) as err:
        load_dataset(str(path))
    assert str(err.value) == (
        f"data file {str(path)!r} is not an NPZ archive of NumPy arrays (as np.savez writes)"
    )


def test_a_name_longer_than_the_csv_modules_limit_still_reads(tmp_path):
    long = "x" * 200_000  # the csv module refuses fields over 128 KiB; pandas reads them
    rows = [f"{long},label"] + [f"{i},{i % 2}" for i in range(20)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    assert load_dataset(str(tmp_path / "t.csv")).feature_names == [long]


def test_a_header_over_a_mebibyte_reads_whole(tmp_path):
    """The header was read in its first 1 MiB: the name cut there ('a' * 1448 of a longer
    one) repeated a whole earlier name, and the file was refused as 'duplicate column
    names'. Names a, aa, aaa, ... make any cut a repeat; the header is 1.1 MB."""
    names = ["a" * k for k in range(1, 1501)]
    rows = [",".join([*names, "label"])]
    rows += [",".join([*(str((i * k) % 7) for k in range(1500)), str(i % 2)]) for i in range(12)]
    assert len(rows[0]) > 1 << 20
    (tmp_path / "wide.csv").write_text("\n".join(rows) + "\n")
    d = load_dataset(str(tmp_path / "wide.csv"), split=[8, 2, 2])
    assert d.feature_names == names and d.n_features == 1500


def test_a_first_line_over_64_mib_is_refused_in_one_line(tmp_path):
    """A file with no line break is all header: read whole, it would be held at once."""
    path = tmp_path / "one_line.csv"
    with path.open("w") as f:
        for _ in range(65):
            f.write("abcdefg," * (1 << 17))  # 1 MiB each
    with pytest.raises(DataError) as err:
        load_dataset(str(path))
    assert str(err.value) == (
        f"data file {str(path)!r}: its first line (the column names) is over 64 MiB long; give "
        "a table with a line break after the header and at most a few million columns"
    )


def test_unknown_name_lists_builtins():
    with pytest.raises(ConfigError, match="xor"):
        load_dataset("mnist")
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("missing/file.csv")


def test_a_target_named_twice_is_refused_in_one_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)))
    with pytest.raises(ConfigError, match="setting 'target': names the column 'y' twice"):
        Config(data=str(path), target=["y", "y"])
    # load_dataset alone refuses it in the same words (it had taken the column once).
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "setting 'target': names the column 'y' twice; give each target once (got ['y', 'y'])"
        ),
    ):
        load_dataset(str(path), target=["y", "y"])


def test_an_ignored_column_named_twice_is_refused_as_a_target_named_twice_is(tmp_path, run_cli):
    """--ignore a a was taken, and hashed as another run than --ignore a."""
    path = tmp_path / "t.csv"
    path.write_text("a,b,c,y\n" + "".join(f"{i},{i % 3},{i % 5},{i % 2}\n" for i in range(20)))
    with pytest.raises(ConfigError, match="setting 'ignore': names the column 'a' twice"):
        Config(data=str(path), ignore=["a", "a"])
    runs = tmp_path / "runs"
    proc = run_cli("train", "--data", path, "--ignore", "a", "a", "--log_path", runs)
    assert_one_line_error(
        proc, "setting 'ignore': names the column 'a' twice; give each ignored column once"
    )
    assert not runs.exists()  # nothing written
    assert Config(data=str(path), ignore=["a", "c"]).ignore == ["a", "c"]
    # The Python API had taken ignore=['a', 'a'] as ['a']: refused with the CLI's words.
    words = "setting 'ignore': names the column 'a' twice; give each ignored column once"
    with pytest.raises(ConfigError, match=re.escape(f"{words} (got ['a', 'a'])")):
        load_dataset(str(path), ignore=["a", "a"])
    with pytest.raises(ConfigError, match=re.escape(words)):
        load_dataset(str(path), ignore=("a", "b", "a"))
    assert load_dataset(str(path), ignore=["a", "c"]).feature_names == ["b"]


def test_ignored_columns_are_no_features_and_errors_name_the_setting(tmp_path):
    """An id column would train as a feature (and give the row order away): `ignore` leaves
    it out, whichever column it is, and a bad name is one line naming the setting."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    df.insert(0, "id", np.arange(40))
    df["label"] = np.where(df["a"] > 0, "yes", "no")
    df["note"] = [f"row {i}" for i in range(40)]  # text: would be refused as a feature
    df.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError, match=r"'note' is not numeric.*left out with --ignore note"):
        load_dataset(str(tmp_path / "t.csv"), target=["label"])
    d = load_dataset(str(tmp_path / "t.csv"), target=["label"], ignore=["id", "note"])
    assert d.feature_names == ["a", "b"] and d.class_names == ["no", "yes"]
    # The last column is the default target once the ignored ones are gone.
    d = load_dataset(str(tmp_path / "t.csv"), ignore=["note"])
    assert d.target_names == ["label"] and "id" in d.feature_names
    with pytest.raises(DataError, match=r"setting 'ignore'.*no column 'ID'; columns are id, a"):
        load_dataset(str(tmp_path / "t.csv"), target=["label"], ignore=["ID", "note"])
    with pytest.raises(ConfigError, match="setting 'ignore': 'label' is the target"):
        load_dataset(str(tmp_path / "t.csv"), target=["label"], ignore=["label", "note"])
    with pytest.raises(ConfigError, match="setting 'ignore' applies to data files only"):
        load_dataset("iris", ignore=["petal width (cm)"])


def test_ignore_unset_keeps_every_earlier_run_hash():
    from mlplab.config import Config

    cfg = Config(data="t.csv")
    assert Config(data="t.csv", ignore=None).run_hash() == cfg.run_hash()
    assert Config(data="t.csv", ignore=["id"]).run_hash() != cfg.run_hash()
    assert Config(data="t.csv", ignore="id").ignore == ["id"]


def test_the_task_help_gives_the_class_limit_auto_uses(tmp_path):
    from mlplab.config import field_help
    from mlplab.data.dataset import MAX_AUTO_CLASSES

    assert f"most {MAX_AUTO_CLASSES} values" in field_help("task")
    n = MAX_AUTO_CLASSES
    for values, task in ((n, "multiclass"), (n + 1, "regression")):
        df = pd.DataFrame({"a": np.arange(3 * values, dtype=float)})
        df["y"] = np.arange(3 * values) % values
        df.to_csv(tmp_path / "t.csv", index=False)
        assert load_dataset(str(tmp_path / "t.csv")).task == task


def test_whole_number_floats_are_classes_as_integers_are(tmp_path):
    """0.0 and 1.0 are how pandas writes 0/1 labels once the column held a NaN, and how NPZ
    files keep them: they were read as a regression target."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    df["label"] = (df.a > 0).astype(float)
    df.to_csv(tmp_path / "t.csv", index=False)
    assert "1.0" in (tmp_path / "t.csv").read_text()
    d = load_dataset(str(tmp_path / "t.csv"))
    assert (d.task, d.class_names) == ("binary", ["0", "1"])
    np.savez(tmp_path / "t.npz", X=df[["a", "b"]].to_numpy(), y=np.arange(60.0) % 3)
    d = load_dataset(str(tmp_path / "t.npz"))
    assert (d.task, d.class_names) == ("multiclass", ["0", "1", "2"])
    assert load_dataset(str(tmp_path / "t.npz"), task="regression").task == "regression"
    np.savez(tmp_path / "r.npz", X=df[["a", "b"]].to_numpy(), y=np.r_[np.arange(59.0), 0.5])
    assert load_dataset(str(tmp_path / "r.npz")).task == "regression"


def test_a_number_target_with_stray_text_is_refused_not_made_classes(tmp_path):
    """One '?' in a column of measurements made it 60 classes of one row each."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=60), "y": rng.normal(size=60).round(3)})
    df["y"] = df["y"].astype(object)
    df.loc[6, "y"] = "?"
    df.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"))
    assert "target column 'y' holds numbers but also '?' (data row 7)" in str(err.value)
    # Labels that happen to be numbers and words are classes, as before.
    df["y"] = np.where(df.a > 0, "high", df.a.round().abs().astype(int).astype(str))
    df.to_csv(tmp_path / "t.csv", index=False)
    assert load_dataset(str(tmp_path / "t.csv")).task == "multiclass"


def test_a_class_for_nearly_every_row_is_refused(tmp_path):
    """--task classification on measurements trained a class per row, at accuracy 0."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=60), "y": rng.normal(size=60)})
    df.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError, match=r"'y' has 60 classes in 60 rows.*--task regression"):
        load_dataset(str(tmp_path / "t.csv"), task="classification")
    df["y"] = np.arange(60) % 20  # 20 classes of 3 rows: few rows, but classes
    df.to_csv(tmp_path / "t.csv", index=False)
    assert load_dataset(str(tmp_path / "t.csv"), task="classification").n_outputs == 20


def test_a_class_with_no_training_row_is_noted(tmp_path, run_cli):
    """One 'rare' row that the random split puts in val: the model cannot learn its class,
    and the run said nothing."""
    from mlplab.data.dataset import classes_missing

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(40, 2)).round(3), columns=["a", "b"])
    df["label"] = np.where(df.a > 0, "yes", "no")
    df.loc[40] = [5.0, 5.0, "rare"]
    df.to_csv(tmp_path / "t.csv", index=False)
    unseen = {s: classes_missing(load_dataset(str(tmp_path / "t.csv"), seed=s)) for s in range(6)}
    assert set(map(tuple, unseen.values())) == {(), ("rare",)}
    seed = next(s for s, names in unseen.items() if names)
    args = ("train", "--data", tmp_path / "t.csv", "--epoch", "2", "--plots", "none")
    proc = run_cli(*args, "--data_seed", str(seed), "--log_path", tmp_path / "runs")
    assert proc.returncode == 0, proc.stderr
    assert "no training row has the class(es) 'rare'" in proc.stdout + proc.stderr
    seen = next(s for s, names in unseen.items() if not names)
    proc = run_cli(*args, "--data_seed", str(seen), "--log_path", tmp_path / "runs")
    assert proc.returncode == 0 and "no training row" not in proc.stdout + proc.stderr


def _euro(x: float, decimals: int = 2) -> str:
    """A number as a German spreadsheet writes it: 1.799.289,58."""
    return f"{x:,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")


def test_dots_of_a_decimal_comma_file_group_thousands(tmp_path):
    """In a ';' file with decimal commas, 1.682 is 1682 (it was read as 1.682, silently),
    and 1.799.289,58 a number, not text; a dot-decimal column of it stays as it is."""
    rng = np.random.default_rng(0)
    area = rng.integers(300, 3000, 40)
    price = area * 1000.5 + rng.normal(size=40)
    ratio = rng.uniform(0, 1, 40).round(3)  # 0.125: a dot decimal, not thousands
    lines = ["area;price;ratio"] + [
        f"{_euro(a, 0)};{_euro(p)};{r}" for a, p, r in zip(area, price, ratio)
    ]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    assert re.search(r"\n\d\.\d{3};", (tmp_path / "t.csv").read_text())  # 1.682: 1682
    d = load_dataset(str(tmp_path / "t.csv"), target=["price"])
    rows = np.concatenate([d.X_train, d.X_val, d.X_test])
    y = np.concatenate([d.y_train, d.y_val, d.y_test])[:, 0]
    np.testing.assert_array_equal(np.sort(rows[:, 0]), np.sort(area))
    np.testing.assert_allclose(np.sort(rows[:, 1]), np.sort(ratio))
    np.testing.assert_allclose(np.sort(y), np.sort(price.round(2)))


@pytest.mark.parametrize("space", ["\u00a0", "\u202f"])
def test_a_french_spreadsheets_grouped_numbers_read_as_numbers(tmp_path, space):
    """French exports group thousands by a no-break space (2 164,80): the column was
    refused as not numeric, told to use a ';' file, which it was."""
    rng = np.random.default_rng(0)
    area = rng.uniform(100, 9000, 40).round(2)
    lines = ["Surface (m²);Catégorie"] + [
        f"{_euro(a).replace('.', space)};{'grand' if a > 4000 else 'petit'}" for a in area
    ]
    (tmp_path / "fr.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert space in (tmp_path / "fr.csv").read_text(encoding="utf-8")
    d = load_dataset(str(tmp_path / "fr.csv"))
    rows = np.concatenate([d.X_train, d.X_val, d.X_test])[:, 0]
    np.testing.assert_allclose(np.sort(rows), np.sort(area))


def test_dots_that_group_whole_numbers_without_decimal_commas_are_one_line(tmp_path, run_cli):
    """A ';' file of whole numbers grouped by dots (168, 2.781, 667.017; no decimal comma
    to say the comma is the decimal mark) was read as 168, 2.781 and 667.017: a column
    scrambled, trained on without a word. A column of decimals with 3 places, and one of
    whole numbers beside it, read as before."""
    rng = np.random.default_rng(0)
    people = np.concatenate([rng.integers(50, 999, 20), rng.integers(1000, 900_000, 20)])
    lines = ["Gemeinde;Einwohner;groß"] + [
        f"G{i};{_euro(n, 0)};{'ja' if n > 5000 else 'nein'}" for i, n in enumerate(people)
    ]
    (tmp_path / "g.csv").write_text("\n".join(lines) + "\n")
    first = _euro(people[20], 0)
    assert "." in first and "." not in _euro(people[0], 0)
    proc = run_cli(
        "train",
        "--data",
        tmp_path / "g.csv",
        "--target",
        "groß",
        "--ignore",
        "Gemeinde",
        "--log_path",
        tmp_path / "runs",
    )
    assert_one_line_error(
        proc,
        f"column 'Einwohner' holds {first!r} beside '{people[0]}': its dots seem to group "
        f"thousands ({people[20]})",
        f"save the column without the thousands separator (or, if they are decimals, write "
        f"them on every value: {people[0]}.000)",
    )
    assert not (tmp_path / "runs").exists()
    # Decimals of 3 places everywhere, and plain whole numbers in another column: as read.
    ratio = rng.uniform(1, 9, 40).round(3)
    (tmp_path / "m.csv").write_text(
        "a;b;y\n" + "".join(f"{r:.3f};{i % 7};{i % 2}\n" for i, r in enumerate(ratio))
    )
    d = load_dataset(str(tmp_path / "m.csv"))
    rows = np.concatenate([d.X_train, d.X_val, d.X_test])
    np.testing.assert_allclose(np.sort(rows[:, 0]), np.sort(ratio))
    # A tab's or spaces' 2.781 beside 168 are decimals (np.savetxt's %g, R's write.table):
    # they were refused as though a German spreadsheet had grouped them.
    for sep, name in (("\t", "t.tsv"), (" ", "s.txt")):
        (tmp_path / name).write_text(
            sep.join(["a", "b", "y"]) + "\n"
            + "".join(f"{v}{sep}{i % 7}{sep}{i % 2}\n" for i, v in enumerate(["2.781", "168"] * 20))
        )  # fmt: skip
        d = load_dataset(str(tmp_path / name))
        values = np.concatenate([d.X_train, d.X_val, d.X_test])[:, 0]
        assert set(np.round(values, 6)) == {2.781, 168.0}, name


def test_commas_that_group_thousands_in_a_tab_file_are_one_line(tmp_path, run_cli):
    """A US spreadsheet's tab-separated export writes 4,057 beside 428: read with decimal
    commas (as a tab file is), 4,057 was 4.057, trained on and predicted from without a
    word. Decimals of 3 places on every value, and whole numbers in another column, read
    as before."""
    visits = [f"{v:,}" for v in (4057, 428, 1184, 96, 2500, 17) * 5]
    rows = "".join(f"{v}\t{i % 7}\t{i % 2}\n" for i, v in enumerate(visits))
    (tmp_path / "t.tsv").write_text("visits\tx\ty\n" + rows)
    proc = run_cli("train", "--data", tmp_path / "t.tsv", "--log_path", tmp_path / "runs")
    assert_one_line_error(
        proc,
        "data file",
        "column 'visits' holds '4,057' beside '428': its commas seem to group thousands "
        "(4057), but a file separated by tabs is read with decimal commas; save the column "
        "without the thousands separator (or, if they are decimals, write them on every "
        "value: 428,000)",
    )
    assert not (tmp_path / "runs").exists()
    decimals = "".join(
        f"{v.replace(',', '.')},000\t{i % 7}\t{i % 2}\n" for i, v in enumerate(visits)
    )
    (tmp_path / "d.tsv").write_text("visits\tx\ty\n" + decimals.replace("4.057,000", "4,057"))
    d = load_dataset(str(tmp_path / "d.tsv"))
    values = np.concatenate([d.X_train, d.X_val, d.X_test])[:, 0]
    assert {4.057, 428.0, 96.0} <= set(np.round(values, 6))


def test_names_and_labels_in_another_unicode_form_are_the_same(tmp_path, run_cli):
    """Rows saved on macOS write 'é' as 'e' and a combining accent (NFD). Labels 'élevé'
    in both forms trained as 3 classes of 2 (two 'élevé' rows in the confusion matrix),
    --target typed as 'Catégorie' was "not a column; columns are ..., Catégorie", and
    predict left out the run's id column whose header was in the other form."""
    import unicodedata

    def nfd(text: str) -> str:
        return unicodedata.normalize("NFD", text)

    assert nfd("élevé") != "élevé"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    labels = ["élevé" if a > 0 else "faible" for a in X[:, 0]]
    labels = [nfd(v) if i % 2 else v for i, v in enumerate(labels)]  # both forms
    head = [nfd("Numéro"), "a", "b", nfd("Catégorie")]
    rows = [f"{i},{a},{b},{v}\n" for i, ((a, b), v) in enumerate(zip(X, labels))]
    (tmp_path / "t.csv").write_text(",".join(head) + "\n" + "".join(rows))
    proc = run_cli(
        "train",
        "--data",
        tmp_path / "t.csv",
        "--target",
        "Catégorie",
        "--ignore",
        "Numéro",
        "--epoch",
        "3",
        "--plots",
        "none",
        "--log_path",
        tmp_path / "runs",
    )
    assert proc.returncode == 0, proc.stderr
    (result,) = tmp_path.glob("runs/*/*/result.json")
    from mlplab import load_run

    data = load_run(result.parent).dataset
    assert (data.class_names, data.feature_names) == (["faible", "élevé"], ["a", "b"])
    new = tmp_path / "new.csv"
    new.write_text(
        ",".join(head[:3]) + "\n" + "".join(r.rsplit(",", 1)[0] + "\n" for r in rows[:3])
    )
    proc = run_cli("predict", result.parent, "--data", new)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Numéro,predicted,"), lines[0]
    assert [line.split(",")[0] for line in lines[1:]] == ["0", "1", "2"]
    # A file with both forms of a name: each is a column, and a name picks its own.
    both = tmp_path / "both.csv"
    both.write_text(f"{nfd('é')},é,b\n" + "".join(f"{i % 2},{i},{i % 3}\n" for i in range(30)))
    for typed, values in ((nfd("é"), {0.0, 1.0}), ("é", set(map(float, range(30))))):
        data = load_dataset(str(both), target=[typed], task="regression")
        assert data.target_names == [typed]
        assert set(np.concatenate([data.y_train, data.y_val, data.y_test])[:, 0]) == values
    # Labels of one form are kept as written, as an earlier run's record has them.
    one = tmp_path / "one.csv"
    one.write_text(
        "a,y\n" + "".join(f"{i},{nfd('élevé') if i % 2 else 'bas'}\n" for i in range(30))
    )
    assert load_dataset(str(one)).class_names == ["bas", nfd("élevé")]


@pytest.mark.parametrize("name", ["moons", "circles"])
def test_moons_and_circles_are_scikit_learns_rows_without_its_import(name):
    """Drawn by scikit-learn, each command that named moons or circles paid its import
    (a second or more, before the first epoch). The rows are its own, number for number,
    so that a run of an earlier mlplab is the same run."""
    import subprocess
    import sys

    from sklearn.datasets import make_circles, make_moons

    from mlplab.data import synthetic

    for n, noise, seed in [(1, 0.0, 0), (7, 0.1, 1), (200, 0.2, 2), (1001, 0.3, 3)]:
        X, y = getattr(synthetic, name)(n, noise, np.random.default_rng(seed))
        drawn = synthetic._seed_from(np.random.default_rng(seed))
        if name == "moons":
            X_sk, y_sk = make_moons(n_samples=n, noise=noise, random_state=drawn)
        else:
            X_sk, y_sk = make_circles(n_samples=n, noise=noise, factor=0.5, random_state=drawn)
        np.testing.assert_array_equal(X, X_sk)
        np.testing.assert_array_equal(y, y_sk)
    code = (
        f"import sys; from mlplab.data import load_dataset; load_dataset({name!r}); "
        "print(sorted(m for m in sys.modules if m.startswith('sklearn')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout == "[]\n", proc.stdout + proc.stderr


def test_what_spreadsheets_leave_after_a_table_is_dropped(tmp_path):
    """A ';' that ends every line makes an empty unnamed column, and ';;' rows at the end
    made 'NaN in data row 41'; both are the spreadsheet's, not the data's."""
    rng = np.random.default_rng(0)
    rows = [f"{a:.3f};{b:.3f};{'yes' if a > 0 else 'no'};" for a, b in rng.normal(size=(40, 2))]
    (tmp_path / "t.csv").write_text("\n".join(["a;b;label;", *rows, ";;;", ";;;"]) + "\n")
    d = load_dataset(str(tmp_path / "t.csv"))
    assert d.feature_names == ["a", "b"] and d.n_rows == 40


def test_tsv_and_txt_files_are_text_tables(tmp_path):
    df = pd.DataFrame({"a": np.arange(30.0), "y": np.tile([0, 1, 2], 10)})
    for suffix in ("tsv", "txt"):
        df.to_csv(tmp_path / f"t.{suffix}", sep="\t", index=False)
        d = load_dataset(str(tmp_path / f"t.{suffix}"))
        assert (d.feature_names, d.task) == (["a"], "multiclass")


def test_a_header_tie_is_broken_by_the_first_row(tmp_path):
    """Two commas and two semicolons in the header: the rows say it is a ';' file."""
    rows = [f"{i},5;{i % 3};{'yes' if i % 2 else 'no'}" for i in range(30)]
    (tmp_path / "t.csv").write_text("\n".join(["Höhe (m, netto, gemessen);x2;y", *rows]) + "\n")
    d = load_dataset(str(tmp_path / "t.csv"))
    assert d.feature_names == ["Höhe (m, netto, gemessen)", "x2"]
    assert sorted(np.concatenate([d.X_train, d.X_val, d.X_test])[:, 0]) == [
        i + 0.5 for i in range(30)
    ]


def test_missing_value_marks_and_categories_get_their_own_advice(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {"x": rng.normal(size=40).round(3), "colour": rng.choice(["red", "blue"], 40)}
    )
    df["label"] = np.where(df.x > 0, "yes", "no")
    df.to_csv(tmp_path / "cat.csv", index=False)
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "cat.csv"))
    assert "features must be numbers: encode it first" in str(err.value)
    assert "left out with --ignore colour" in str(err.value)
    df = df.drop(columns="colour").astype(object)
    df.loc[7, "x"] = "?"
    df.to_csv(tmp_path / "q.csv", index=False)
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "q.csv"))
    assert str(err.value).endswith(
        "feature column 'x' has a missing value ('?' in data row 8); clean or impute it first"
    )
    df.loc[7, "x"], df.loc[9, "label"] = 0.5, "?"
    df.to_csv(tmp_path / "qt.csv", index=False)
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "qt.csv"))
    assert str(err.value).endswith(
        "target column 'label' has a missing value ('?' in data row 10); fix or drop such "
        "rows, or, if '?' is a class, say so with --task classification"
    )
    # Said so, '+' and '-' are classes like any others.
    df.loc[9, "label"] = "no"
    df["label"] = np.where(df.x.astype(float) > 0, "+", "-")
    df.to_csv(tmp_path / "pm.csv", index=False)
    with pytest.raises(DataError, match="'-' is a class, say so with --task classification"):
        load_dataset(str(tmp_path / "pm.csv"))
    ds = load_dataset(str(tmp_path / "pm.csv"), task="classification")
    assert ds.task == "binary" and ds.class_names == ["+", "-"]


@pytest.mark.parametrize("mark", ["NA", "N/A", "n/a", "null", "NULL", "None", "NAN", "Nan"])
def test_a_target_label_written_as_a_missing_value_is_refused_as_a_features_is(tmp_path, mark):
    """R's write.csv writes a missing label as NA: it trained as a class of its own, while
    the same cell in a feature column is a missing value. Refused as '?' is, and, said to
    be a class with --task classification, kept as one (a region NA, symptoms None)."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=60).round(3)})
    df["label"] = np.where(df.x > 0, "yes", "no").astype(object)
    df.loc[[4, 30, 41], "label"] = mark
    df.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"))
    assert str(err.value).endswith(
        f"target column 'label' has a missing value ({mark!r} in data row 5); fix or drop "
        f"such rows, or, if {mark!r} is a class, say so with --task classification"
    )
    ds = load_dataset(str(tmp_path / "t.csv"), task="classification")
    assert mark in ds.class_names
    # A feature column reads the same cells as missing, with the same list.
    df = df.astype(object)
    df["label"], df.loc[4, "x"] = np.where(df.x.astype(float) > 0, "yes", "no"), mark
    df.to_csv(tmp_path / "f.csv", index=False)
    with pytest.raises(DataError, match=r"feature column 'x' has (a missing value|NaN)"):
        load_dataset(str(tmp_path / "f.csv"))


def test_a_row_counter_and_a_stray_label_are_noted(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=60)})
    df["label"] = np.where(df.x > 0, "yes", "no")
    df.loc[5, "label"] = "Yes"
    df.rename_axis("id").to_csv(tmp_path / "t.csv")
    notes = load_dataset(str(tmp_path / "t.csv")).notes
    assert notes == [
        "feature column 'id' counts the rows (0, 1, 2, ...); if it is a row index, leave it "
        "out with --ignore id; if the rows are in time order, a random split trains on "
        "their future: split by time with a column of train/val/test (--split_by)",
        "the classes 'Yes' and 'yes' differ only in case, and are classes of their own: if "
        "each is one label, write it alike",
    ]
    df.loc[5, "label"] = "yes"
    df.to_csv(tmp_path / "t.csv", index=False)
    assert load_dataset(str(tmp_path / "t.csv")).notes == []
    # A database export numbers its rows from anywhere: 100000, 100001, ... was missed.
    df.insert(0, "id", range(100000, 100060))
    df.to_csv(tmp_path / "t.csv", index=False)
    assert load_dataset(str(tmp_path / "t.csv")).notes == [
        "feature column 'id' counts the rows (100000, 100001, 100002, ...); if it is a row "
        "index, leave it out with --ignore id; if the rows are in time order, a random "
        "split trains on their future: split by time with a column of train/val/test "
        "(--split_by)"
    ]


def test_a_feature_of_one_value_is_noted(tmp_path):
    """A column of 1.0 in every row trained without a word; a new row with 100 there took
    a prediction from 0.45 to 0.002."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=60), "const": 1.0})
    df["y"] = (df.x > 0).astype(int)
    df.to_csv(tmp_path / "c.csv", index=False)
    assert load_dataset(str(tmp_path / "c.csv")).notes == [
        "feature column 'const' has one value (1.0) in every row: it tells the model nothing, "
        "and a new row's other value there would move its prediction; leave it out with "
        "--ignore const"
    ]
    df["const"] = np.arange(60) % 2  # two values: a feature like any other
    df.to_csv(tmp_path / "c2.csv", index=False)
    assert load_dataset(str(tmp_path / "c2.csv")).notes == []


def test_one_value_far_beyond_a_features_others_is_noted(tmp_path, run_cli):
    """One cell of 1e300 in a normal feature: standardized, its other values were all about
    -0.06, and the run finished with a test accuracy of 0.53 (1.0 without it), no word said."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    df["y"] = (df.a + df.b > 0).astype(int)
    df.to_csv(tmp_path / "plain.csv", index=False)
    assert load_dataset(str(tmp_path / "plain.csv")).notes == []
    df.loc[17, "a"] = 1e300
    df.to_csv(tmp_path / "huge.csv", index=False)
    (note,) = load_dataset(str(tmp_path / "huge.csv")).notes
    assert re.fullmatch(
        r"feature column 'a' has 1e\+300 in data row 18, 7\.\de\+299 times its values' usual "
        r"spread \(1\.\d+\) from their median \(-?0\.\d+\): in the training rows, "
        r"standardized, its other values all lie near one point and tell the model little "
        r"\(in the rows it is tested on, a value far past any it trained on\); if the value "
        r"is a mistake, drop that row, else clip the column \(e\.g\. to its 1st and 99th "
        r"percentiles\) or, for a long tail of positive values, take its log",
        note,
    )
    # A start-of-run note: the run goes on (nothing is refused).
    proc = run_cli("train", "--data", tmp_path / "huge.csv", "--epoch", "1", "--plots", "none",
                   "--log_path", tmp_path / "runs")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"mlplab: note: {note}" in proc.stdout + proc.stderr
    # Heavy tails are no such value: a lognormal column of 10,000 rows, or a 0/1 column.
    df = pd.DataFrame({"a": rng.lognormal(size=10_000), "b": rng.random(10_000) < 0.05})
    df["c"] = rng.standard_t(3, size=10_000)
    df["y"] = (df.a > 1).astype(int)
    df.to_csv(tmp_path / "tails.csv", index=False)
    assert load_dataset(str(tmp_path / "tails.csv")).notes == []
    # Two such values are counted; a regression is noted alike.
    df.loc[[3, 9], "c"] = [-1e12, 1e13]
    df.to_csv(tmp_path / "two.csv", index=False)
    (note,) = load_dataset(str(tmp_path / "two.csv"), task="regression").notes
    assert note.startswith("feature column 'c' has 1e+13 in data row 10, ")
    assert "(and 1 more value that far)" in note


def test_a_column_named_unnamed_is_called_by_its_name_not_nameless(tmp_path, run_cli):
    """A column written 'Unnamed: 0' in the header (an index pandas read back and saved
    again) was said to have "no name in the header"; an empty name still is."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=40), "y": np.arange(40) % 2})
    df.to_csv(tmp_path / "indexed.csv")  # the index, with no name
    pd.read_csv(tmp_path / "indexed.csv").to_csv(tmp_path / "again.csv", index=False)
    assert (tmp_path / "again.csv").read_text().startswith("Unnamed: 0,a,y\n")
    runs = tmp_path / "runs"
    proc = run_cli("train", "--data", tmp_path / "again.csv", "--log_path", runs)
    assert_one_line_error(
        proc,
        "again.csv': column 1 is named 'Unnamed: 0', the name pandas gives a column without "
        "one: most likely a row index saved with the rows (to_csv(path, index=False) saves "
        "none); leave it out with --ignore 'Unnamed: 0', or give it its own name if it is a "
        "feature",
    )
    assert not runs.exists()
    pd.read_csv(tmp_path / "again.csv").to_parquet(tmp_path / "again.parquet")
    with pytest.raises(DataError, match="column 1 is named 'Unnamed: 0', the name pandas"):
        load_dataset(str(tmp_path / "again.parquet"))
    with pytest.raises(DataError, match="column 1 has no name in the header"):
        load_dataset(str(tmp_path / "indexed.csv"))
    # R's write.csv saves its row names as a nameless first column, quoted: "".
    line = refused(
        tmp_path / "r.csv", '"","a","y"\n' + "".join(f'"{i}",{i},{i % 2}\n' for i in range(1, 30))
    )
    assert line.endswith(
        "column 1 has no name in the header (a row index? pandas writes none with "
        "to_csv(path, index=False), R with write.csv(df, path, row.names = FALSE)); name "
        "every column"
    ), line
    ds = load_dataset(str(tmp_path / "again.csv"), ignore="Unnamed: 0")
    assert ds.feature_names == ["a"]


def test_a_split_too_small_for_the_rows_names_one_that_fits(tmp_path):
    (tmp_path / "t.csv").write_text("a,y\n1,2\n2,3\n3,4\n")
    with pytest.raises(ConfigError, match=r"\(3 rows -> 2/0/1\).*--split 0.34 0.33 0.33$"):
        load_dataset(str(tmp_path / "t.csv"))
    fits = load_dataset(str(tmp_path / "t.csv"), split=(0.34, 0.33, 0.33), task="regression")
    assert fits.n_rows == 3
    # As 3 classes, its one training row is one class: nothing to learn, and said so (it
    # trained, and scored 0 on the others).
    with pytest.raises(
        DataError, match=r"the training split holds one class alone \('\d', 1 row\)"
    ):
        load_dataset(str(tmp_path / "t.csv"), split=(0.34, 0.33, 0.33))
    rows = "".join(f"{i},{'a' if i < 4 else 'b'},{'train' if i < 4 else ['val', 'test'][i % 2]}\n"
                   for i in range(9))  # fmt: skip
    (tmp_path / "by.csv").write_text("x,y,part\n" + rows)
    with pytest.raises(DataError, match=r"one class alone \('a', 4 rows\).*in the split_by column"):
        load_dataset(str(tmp_path / "by.csv"), target=["y"], split_by="part")
    with pytest.raises(DataError, match=r"one class alone .*more rows \(a file of more rows, or "
                       r"--split\)$"):  # fmt: skip
        load_dataset(str(tmp_path / "t.csv"), split=(0.34, 0.33, 0.33), stratify=True)
    (tmp_path / "t.csv").write_text("a,y\n1,2\n2,3\n3,4\n4,5\n")
    with pytest.raises(ConfigError, match=r"\(4 rows -> 3/0/1\).*--split 2 1 1$"):
        load_dataset(str(tmp_path / "t.csv"))
    assert load_dataset(str(tmp_path / "t.csv"), split=(2, 1, 1)).n_rows == 4


def test_columns_of_values_that_are_no_numbers_to_learn_are_one_line(tmp_path):
    """Dates or numbers-as-text in a target, raw bytes, complex values: each was a
    traceback (IndexError, TypeError) or a silent loss of the imaginary part."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    text = [f"{v:.3f}" for v in rng.normal(size=60)]  # 60 distinct numbers, as text
    pd.DataFrame({"a": X[:, 0], "y": text}).to_parquet(tmp_path / "text.parquet")
    pd.DataFrame({"a": X[:, 0], "y": pd.date_range("2020", periods=60, tz="UTC")}).to_parquet(
        tmp_path / "dates.parquet"
    )
    np.savez(tmp_path / "text.npz", X=X, y=np.array(text))
    np.savez(tmp_path / "bytes.npz", X=X, y=np.array([b"ab", b"cd"] * 30, dtype="V2"))
    np.savez(tmp_path / "complex.npz", X=X + 1j, y=np.arange(60) % 2)
    cases = {
        "text.parquet": "target column 'y' holds numbers stored as text ('",
        "text.npz": "target column 'y' holds numbers stored as text ('",
        "dates.parquet": "target column 'y' holds dates or times; encode them as numbers",
        "bytes.npz": "target column 'y' holds raw bytes (|V2)",
        "complex.npz": "feature column 'x0' holds complex numbers; give the real and",
    }
    for name, needle in cases.items():
        with pytest.raises(DataError) as err:
            load_dataset(str(tmp_path / name))
        assert needle in str(err.value), name
        assert "\n" not in str(err.value)


def test_a_spreadsheet_workbook_is_told_to_be_saved_as_csv(tmp_path, run_cli):
    """book.xlsx listed the built-in datasets (train) or was told to be unpacked as a zip
    (predict, or the workbook saved under a .csv name), which gives XML, not the table."""
    import zipfile

    with zipfile.ZipFile(tmp_path / "book.xlsx", "w") as z:  # the parts every .xlsx has
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    (tmp_path / "renamed.csv").write_bytes((tmp_path / "book.xlsx").read_bytes())
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    for name in ("book.xlsx", "renamed.csv", "old.xls", "missing.xlsx"):
        proc = run_cli("train", "--data", name, "--log_path", "runs", cwd=tmp_path)
        assert_one_line_error(
            proc,
            f"data file {name!r} is a spreadsheet workbook; save its sheet as CSV (a "
            "spreadsheet's Save As 'CSV UTF-8') and give that file, or in Python: "
            f"pandas.read_excel({name!r}).to_csv('data.csv', index=False)",
        )
    assert not (tmp_path / "runs").exists()


def test_compressed_files_and_parquet_names_read_as_their_csv_would(tmp_path):
    """A gzip or zip download (Kaggle's .zip, a .csv.gz, or gzip bytes under .csv) was
    "not UTF-8" or "neither a built-in dataset nor a file"; a Parquet column named '' was
    taken where CSV refuses it; a named index in Parquet was dropped without a word."""
    import gzip
    import zipfile

    text = "a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(30))
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(text.encode()))
    (tmp_path / "inner.csv").write_bytes(gzip.compress(text.encode()))
    with zipfile.ZipFile(tmp_path / "t.zip", "w") as z:
        z.writestr("t.csv", text)
    for name, kind in (("t.csv.gz", "gzip"), ("inner.csv", "gzip"), ("t.zip", "zip")):
        with pytest.raises(DataError, match=f"'.*{name}' is {kind}-compressed; unpack it first"):
            load_dataset(str(tmp_path / name))

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"id": np.arange(40) * 7, "a": rng.normal(size=40), "y": np.arange(40) % 2})
    df.assign(**{"": 1.0}).to_parquet(tmp_path / "blank.parquet")
    with pytest.raises(DataError, match="column 4 has no name in the header"):
        load_dataset(str(tmp_path / "blank.parquet"))
    df.set_index("id").to_parquet(tmp_path / "indexed.parquet")
    df.to_csv(tmp_path / "indexed.csv", index=False)
    from_parquet = load_dataset(str(tmp_path / "indexed.parquet"))
    from_csv = load_dataset(str(tmp_path / "indexed.csv"))
    assert from_parquet.feature_names == from_csv.feature_names == ["id", "a"]
    np.testing.assert_array_equal(from_parquet.X_train, from_csv.X_train)


def test_a_table_of_spaces_reads_as_columns(tmp_path):
    """np.savetxt and aligned printouts separate values by runs of spaces: such a file
    was one column named 'a b y' ("no feature columns left besides the target")."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    table = np.column_stack([X, y])
    np.savetxt(tmp_path / "t.txt", table, header="a b y", comments="")
    (tmp_path / "aligned.txt").write_text(
        "a        b   y\n" + "".join(f"{r[0]:8.4f} {r[1]:8.4f}  {int(r[2])}\n" for r in table)
    )
    # np.savetxt's default puts its comment mark before the names: "# a b y".
    np.savetxt(tmp_path / "marked.txt", table, header="a b y")
    pd.DataFrame(table, columns=["a", "b", "y"]).assign(y=y).to_csv(tmp_path / "t.csv", index=False)
    as_csv = load_dataset(str(tmp_path / "t.csv"))
    for name in ("t.txt", "aligned.txt", "marked.txt"):
        d = load_dataset(str(tmp_path / name))
        assert d.feature_names == ["a", "b"] and d.task == "binary", name
        np.testing.assert_allclose(d.X_train, as_csv.X_train, atol=1e-4)
        np.testing.assert_array_equal(d.y_train, as_csv.y_train)
    # Without a header row, the first row is data: the line says to name the columns.
    np.savetxt(tmp_path / "bare.txt", table)
    with pytest.raises(DataError, match="its first row looks like data, not column names"):
        load_dataset(str(tmp_path / "bare.txt"))
    # One column whose name has a space stays one column.
    (tmp_path / "one.csv").write_text("house price\n" + "".join(f"{i}\n" for i in range(20)))
    with pytest.raises(
        DataError, match=r"no feature columns left besides the target \['house price'\]"
    ):
        load_dataset(str(tmp_path / "one.csv"))


def test_a_table_of_spaces_narrower_or_wider_than_its_header_is_refused_by_line(tmp_path):
    """Rows of spaces one value longer than the header (an index column written without
    a name) were read as commas: one column, "no feature columns left besides the
    target ['a b y']", which named no cause."""
    rows = "".join(f"{i} {i * 0.5} {i % 2}\n" for i in range(20))
    assert refused(tmp_path / "long.txt", "a y\n" + rows) == (
        f"data file {str(tmp_path / 'long.txt')!r}: line 2 has 3 values, more than the "
        "header's 2 columns (separated by spaces); every row needs one value per column"
    )
    line = refused(tmp_path / "short.txt", "a b c y\n" + rows)
    assert "line 2 has 3 values, fewer than the header's 4 columns (separated by spaces)" in line
    assert "(NA for a missing one)" in line
    # A comment mark before a comma header is kept: it may begin a name ("# of rooms").
    (tmp_path / "rooms.csv").write_text(
        "# of rooms,y\n" + "".join(f"{i},{i % 2}\n" for i in range(20))
    )
    assert load_dataset(str(tmp_path / "rooms.csv")).feature_names == ["# of rooms"]


def test_a_spreadsheets_separator_line_is_named(tmp_path):
    """Excel's "sep=;" first line was taken for the header, and each row was called longer
    than it."""
    rows = "".join(f"{i};{i % 2}\n" for i in range(20))
    assert refused(tmp_path / "excel.csv", "sep=;\na;y\n" + rows) == (
        f"data file {str(tmp_path / 'excel.csv')!r}: its first line 'sep=;' is a "
        "spreadsheet's separator hint; delete that line, so that the first line names the "
        "columns (the separator is found from them)"
    )


def test_ratio_splits_use_every_row(tmp_path):
    """Each ratio was rounded alone, so 0.8 0.1 0.1 of 13 rows trained, validated and
    tested on 10/1/1 and left a row out (72 of the sizes from 10 to 299)."""
    for n in (13, 23, 25, 299, 1003):
        rows = "".join(f"{i},{i % 2}\n" for i in range(n))
        (tmp_path / "t.csv").write_text("a,y\n" + rows)
        for split in (None, (0.7, 0.15, 0.15), (0.6, 0.2, 0.2), (0.7, 0.2)):
            d = load_dataset(str(tmp_path / "t.csv"), split=split)
            sizes = (len(d.X_train), len(d.X_val), len(d.X_test))
            assert sum(sizes) == n, (n, split, sizes)
            used = np.concatenate([d.X_train, d.X_val, d.X_test])[:, 0]
            assert len(np.unique(used)) == n  # each row once
    d = load_dataset(str(tmp_path / "t.csv"), split=(0.8, 0.1, 0.1))
    assert (len(d.X_train), len(d.X_val), len(d.X_test)) == (802, 100, 101)


def test_a_spreadsheets_formatting_gets_the_hint_that_fits(tmp_path):
    """Numbers shown as '1,234.5' or '12%' were told to be one-hot encoded; a header
    ending in ',,' (two empty columns a spreadsheet left) was 'duplicate column names ['']'."""
    rows = "".join(f'"{1000 + i:,}.5",{i % 3},{i % 2},,\n' for i in range(30))
    (tmp_path / "money.csv").write_text("price,b,y,,\n" + rows)
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "money.csv"))
    assert "feature column 'price' is not numeric ('1,000.5' in data row 1)" in str(err.value)
    assert "its comma looks like a thousands separator, which mlplab does not read: remove " \
        "the separators (1000.5)" in str(err.value)  # fmt: skip
    assert "get_dummies" not in str(err.value)
    # Switzerland groups them by an apostrophe: it was told to one-hot encode 2'164.80.
    swiss = "".join(f"{1000 + i:,}.8,{i % 2}\n".replace(",", "'", 1) for i in range(30))
    (tmp_path / "chf.csv").write_text("price,y\n" + swiss)
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "chf.csv"))
    assert """("1'000.8" in data row 1); it looks like a number written with a currency""" in str(
        err.value
    )
    (tmp_path / "share.csv").write_text(
        "share,y,,\n" + "".join(f"{i}%,{i % 2},,\n" for i in range(30))
    )
    with pytest.raises(DataError, match=r"'0%' in data row 1\); it looks like a number"):
        load_dataset(str(tmp_path / "share.csv"))
    (tmp_path / "colour.csv").write_text(
        "colour,y\n" + "".join(f"{['red', 'blue'][i % 2]},{i % 2}\n" for i in range(30))
    )
    with pytest.raises(DataError, match=r"pandas\.get_dummies"):
        load_dataset(str(tmp_path / "colour.csv"))


_BLANK_FLAGS = ["True", "False", ""] * 10
_ACCOUNTING = [f'"({i * 101.5:,.2f})"' if i % 3 else f'"{i * 101.5:,.2f}"' for i in range(30)]


@pytest.mark.parametrize(
    ("values", "line"),
    [
        (_BLANK_FLAGS, "feature column 'a' holds True/False with missing values (in data row "
         "3; 10 in all); fill them, or leave it out with --ignore a"),
        (_ACCOUNTING, "feature column 'a' is not numeric ('(101.50)' in data row 2); it looks "
         "like a number written with a currency sign, a thousands separator, a % or an "
         "accounting negative's parentheses: write the column as plain numbers (1234.5, -540)"),
        # Ungrouped prices and a currency's code: told as an id to leave out, as the target
        # was not.
        ([f'"${4395.97 + i:.2f}"' for i in range(30)], "feature column 'a' is not numeric "
         "('$4395.97' in data row 1); it looks like a number written with a currency sign, "
         "a thousands separator, a % or an accounting negative's parentheses: write the "
         "column as plain numbers (1234.5, -540)"),
        ([f"USD {72.81 + i:.2f}" for i in range(30)], "feature column 'a' is not numeric "
         "('USD 72.81' in data row 1); it looks like a number written with a currency sign, "
         "a thousands separator, a % or an accounting negative's parentheses: write the "
         "column as plain numbers (1234.5, -540)"),
    ],
    ids=["blank-flags", "accounting", "price", "currency-code"],
)  # fmt: skip
def test_true_false_with_blanks_and_accounting_negatives_are_told_as_such(tmp_path, values, line):
    """True/False with blank cells was told "numbers stored as text ('False')" (the blanks
    are the fault); Excel's accounting negatives, (540.00), were told to be one-hot
    encoded, a column per amount."""
    rows = "".join(f"{v},{i / 10},{i % 2}\n" for i, v in enumerate(values))
    (tmp_path / "t.csv").write_text("a,x,y\n" + rows)
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"))
    assert str(err.value).endswith(line)


def test_numbers_as_text_and_decimal_commas_in_a_feature_get_their_own_hint(tmp_path, run_cli):
    """A Parquet feature of numbers kept as str, and a quoted '0,1891' in a comma file,
    were both said to look like numbers 'written with a currency sign, a thousands
    separator or a %'; the same text column as the target was rightly 'numbers stored as
    text'."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=40).round(4), "b": rng.normal(size=40)})
    df["y"] = (df.a + df.b > 0).astype(int)
    df.assign(a=df.a.astype(str)).to_parquet(tmp_path / "text.parquet")
    first = str(df.a[0])
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "text.parquet"))
    assert str(err.value) == (
        f"data file {str(tmp_path / 'text.parquet')!r}: feature column 'a' holds numbers "
        f"stored as text ({first!r}); store them as numbers (pandas.to_numeric)"
    )
    df.assign(a=df.a.map(lambda v: f"{v:.4f}".replace(".", ","))).to_csv(
        tmp_path / "comma.csv", index=False
    )
    comma = f"{df.a[0]:.4f}".replace(".", ",")
    proc = run_cli("train", "--data", tmp_path / "comma.csv", "--log_path", tmp_path / "runs")
    line = assert_one_line_error(
        proc,
        f"feature column 'a' is not numeric ({comma!r} in data row 1); it looks like a number "
        f"with a decimal comma: write it with a decimal point ({comma.replace(',', '.')}), or "
        "save the file with ';' between values",
    )
    assert "currency" not in line and not (tmp_path / "runs").exists()
    # Saved so, it trains, its decimal commas read as the numbers they are.
    df.assign(a=df.a.map(lambda v: f"{v:.4f}".replace(".", ","))).to_csv(
        tmp_path / "semi.csv", sep=";", index=False
    )
    ds = load_dataset(str(tmp_path / "semi.csv"), split=[38, 1, 1])
    assert set(np.round(ds.X_train[:, 0], 4)) <= set(df.a.round(4))
    (tmp_path / "plain.csv").write_text(
        "a,b,y,,\n" + "".join(f"{i},{i % 3},{i % 2},,\n" for i in range(30))
    )
    assert load_dataset(str(tmp_path / "plain.csv")).feature_names == ["a", "b"]


def test_spaces_around_a_label_do_not_make_a_class(tmp_path):
    """'yes ' was a class of its own beside 'yes' (header names are stripped already)."""
    labels = ["yes", "no"] * 15
    labels[3] = "yes "
    labels[6] = "no\t"
    pd.DataFrame({"a": range(30), "y": labels}).to_csv(tmp_path / "t.csv", index=False)
    d = load_dataset(str(tmp_path / "t.csv"))
    assert d.class_names == ["no", "yes"] and d.task == "binary"
    assert not any("rare" in note for note in d.notes)


def test_a_target_taken_by_default_is_named_where_a_feature_is_called_y(tmp_path):
    """A file whose target came first trained on its last feature, with the target as a
    feature: nothing named the column taken."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(60, 3)), columns=["y", "a", "c"])
    df.to_csv(tmp_path / "t.csv", index=False)
    d = load_dataset(str(tmp_path / "t.csv"))
    assert d.target_names == ["c"] and d.feature_names == ["y", "a"]
    assert d.notes == [
        "the target is the last column, 'c', for want of --target; if it is 'y', say so: --target y"
    ]
    assert load_dataset(str(tmp_path / "t.csv"), target=["c"]).notes == []
    df[["a", "c", "y"]].to_csv(tmp_path / "t.csv", index=False)
    assert load_dataset(str(tmp_path / "t.csv")).notes == []
    df.rename(columns={"y": "b"}).to_csv(tmp_path / "t.csv", index=False)  # no such name
    assert load_dataset(str(tmp_path / "t.csv")).notes == []


def test_labels_that_differ_only_in_case_are_noted(tmp_path):
    """Every third label upper-cased ('YES' beside 'Yes', 'NO' beside 'no') trained four
    classes with no word: binary data as a multiclass task."""
    labels = ["Yes", "no"] * 30
    for i in range(0, 60, 3):
        labels[i] = labels[i].upper()
    a = np.random.default_rng(0).normal(size=60)
    pd.DataFrame({"a": a, "y": labels}).to_csv(tmp_path / "t.csv", index=False)
    d = load_dataset(str(tmp_path / "t.csv"))
    assert d.class_names == ["NO", "YES", "Yes", "no"] and d.task == "multiclass"
    assert d.notes == [
        "the classes 'NO' and 'no'; 'YES' and 'Yes' differ only in case, and are classes of "
        "their own: if each is one label, write it alike"
    ]
    pd.DataFrame({"a": a, "y": ["Yes", "no"] * 30}).to_csv(tmp_path / "t.csv", index=False)
    assert load_dataset(str(tmp_path / "t.csv")).notes == []


def test_an_npz_of_python_objects_says_how_to_save_it(tmp_path):
    """np.savez(y=df.label.to_numpy()) stores objects: the line was numpy's own,
    'Object arrays cannot be loaded when allow_pickle=False'."""
    X = np.arange(40.0).reshape(20, 2)
    np.savez(tmp_path / "t.npz", X=X, y=pd.Series(["no", "yes"] * 10).to_numpy())
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.npz"))
    assert "array 'y' holds Python objects" in str(err.value)
    assert "save it with .astype(str) for labels" in str(err.value)
    np.savez(tmp_path / "t.npz", X=X, y=pd.Series(["no", "yes"] * 10).to_numpy().astype(str))
    assert load_dataset(str(tmp_path / "t.npz")).class_names == ["no", "yes"]


def test_every_column_to_fix_is_named_at_once(tmp_path):
    """One text column a run, and the first missing value alone: a table of several such
    columns took as many runs to learn what to fix."""
    n = 30
    df = pd.DataFrame({
        "age": [None if i % 4 == 0 else float(i) for i in range(n)],
        "sex": ["m", "f"] * (n // 2),
        "fare": [None if i % 10 == 3 else 7.25 for i in range(n)],
        "port": list("SCQ") * (n // 3),
        "y": [i % 2 for i in range(n)],
    })  # fmt: skip
    df.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"))
    assert "feature column 'sex' is not numeric ('m' in data row 1)" in str(err.value)
    assert str(err.value).endswith(
        "--ignore sex; other columns to fix: 'port'; missing values in 'age', 'fare'"
    )
    df.drop(columns=["sex", "port"]).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"))
    assert (
        "feature column 'age' has NaN (a missing value) in data row 1 (11 in all: 'age' 8, 'fare' 3)"
        in str(err.value)
    )


def test_a_short_row_of_a_space_separated_file_is_told_to_write_na(tmp_path):
    """Spaces hold no empty cell: the advice "an empty cell for a missing one" could not
    be followed there. NA can, and reads as missing."""
    rows = [f"{i} {i % 3} {i % 2}" for i in range(20)]
    rows[4] = "4 1"
    line = refused(tmp_path / "s.txt", "a b y\n" + "\n".join(rows) + "\n")
    assert line.endswith("every row needs one value per column (NA for a missing one)")
    assert "line 6 has 2 values" in line
    rows[4] = "4 NA 0"  # a missing feature, named as such
    assert "missing" in refused(tmp_path / "s.txt", "a b y\n" + "\n".join(rows) + "\n")


def test_a_target_named_in_another_case_is_suggested(tmp_path):
    (tmp_path / "t.csv").write_text("a,Survived\n" + "".join(f"{i},{i % 2}\n" for i in range(20)))
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"), target=["survived"])
    assert (
        "target column 'survived' does not exist (did you mean 'Survived'?); columns are a, Survived"
        in str(err.value)
    )
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"), target=["label"])
    assert "did you mean" not in str(err.value)


def test_a_row_with_too_few_values_is_named(tmp_path):
    """pandas fills a short row with NaN: '1,x' under 'a,b,y' was "feature column 'b' is
    not numeric", and '5,6' was "target column 'y' has missing values"."""
    good = "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20))
    for row, name in (("5,x", "x.csv"), ("5,6", "n.csv")):
        # Line 23 of the file (after the header, 20 rows and a blank line).
        (tmp_path / name).write_text("a,b,y\n" + good + "\n" + row + "\n" + good)
        with pytest.raises(DataError) as err:
            load_dataset(str(tmp_path / name))
        assert str(err.value) == (
            f"data file {str(tmp_path / name)!r}: line 23 has 2 values, fewer than the "
            "header's 3 columns (separated by commas); every row needs one value per column "
            "(an empty cell for a missing one)"
        )
    # An empty cell is a value: the missing target is named as such.
    (tmp_path / "e.csv").write_text("a,b,y\n" + good + "5,6,\n")
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "e.csv"))
    # Named with its row and count, as a feature's missing value is.
    assert str(err.value).endswith(
        "target column 'y' has missing values in data row 21 (1 in all); drop those rows or "
        "fill them first"
    )


def test_a_separator_ending_each_line_is_dropped_and_a_value_after_it_refused(tmp_path):
    """Rows ending with a separator the header does not end with (as some programs export)
    read under their columns; pandas read them shifted, the first column made an index,
    so 'y' was all missing. A value after the last column is refused, by the line."""
    rows = [f"{i},{i % 3},{i % 2}," for i in range(20)]
    (tmp_path / "t.csv").write_text("a,b,y\n" + "\n".join(rows) + "\n")
    d = load_dataset(str(tmp_path / "t.csv"), split=[16, 2, 2])
    assert d.feature_names == ["a", "b"] and d.class_names == ["0", "1"]
    X = np.concatenate([d.X_train, d.X_val, d.X_test])
    assert sorted(X[:, 0]) == list(range(20))
    # Some rows only, the first with it or without: read the same.
    for skip in (slice(None, None, 2), slice(1, None, 2)):
        mixed = [r[:-1] if i in range(20)[skip] else r for i, r in enumerate(rows)]
        (tmp_path / "m.csv").write_text("a,b,y\n" + "\n".join(mixed) + "\n")
        d = load_dataset(str(tmp_path / "m.csv"), split=[16, 2, 2])
        assert sorted(np.concatenate([d.X_train, d.X_val, d.X_test])[:, 0]) == list(range(20))
    # Beside a column read as text (an ignored id), whose empty cells pandas' check of the
    # dropped values does not take for empty: read the same.
    ids = [f"{i:03d},{row}" for i, row in enumerate(rows)]
    (tmp_path / "i.csv").write_text("id,a,b,y\n" + "\n".join(ids) + "\n")
    d = load_dataset(str(tmp_path / "i.csv"), ignore="id", split=[16, 2, 2])
    assert d.feature_names == ["a", "b"]
    assert sorted(np.concatenate([d.X_train, d.X_val, d.X_test])[:, 0]) == list(range(20))
    # And with decimal commas, read again from the text.
    semis = [f"{i},5;{i % 2}" + ";" * (i % 2) for i in range(20)]
    (tmp_path / "s.csv").write_text("a;y\n" + "\n".join(semis) + "\n")
    d = load_dataset(str(tmp_path / "s.csv"), split=[16, 2, 2])
    assert sorted(np.concatenate([d.X_train, d.X_val, d.X_test])[:, 0]) == [
        i + 0.5 for i in range(20)
    ]
    # A value after it (line 8), or two separators at the end (line 5): a row too long.
    for line, row, values in ((8, "6,0,0,7", 4), (5, "3,0,1,,", 5)):
        bad = rows.copy()
        bad[line - 2] = row
        assert refused(tmp_path / "b.csv", "a,b,y\n" + "\n".join(bad) + "\n") == (
            f"data file {str(tmp_path / 'b.csv')!r}: line {line} has {values} values, more "
            "than the header's 3 columns (separated by commas; one ending a line is dropped); "
            "every row needs one value per column; a value with a comma in it goes in double "
            "quotes"
        )


def test_a_header_ending_with_a_separator_names_the_row_with_a_value_past_it(tmp_path):
    """`a;b;y;` over rows of three values and one of four: the four-value row is the odd
    one. The rows of three were blamed ("line 2 has 3 values, fewer than the header's 4
    columns"); without the odd row the file trains, its empty last column dropped."""
    rows = [f"{i};{i + 1};{i % 2}" for i in range(24)]
    (tmp_path / "ok.csv").write_text("a;b;y;\n" + "\n".join(rows) + "\n")
    d = load_dataset(str(tmp_path / "ok.csv"), split=[20, 2, 2])
    assert d.feature_names == ["a", "b"] and d.class_names == ["0", "1"]
    rows[2] += ";7"
    assert refused(tmp_path / "odd.csv", "a;b;y;\n" + "\n".join(rows) + "\n").startswith(
        f"data file {str(tmp_path / 'odd.csv')!r}: line 4 has 4 values, more than the "
        "header's 3 columns (separated by semicolons; one ending a line is dropped)"
    )


@pytest.mark.parametrize("row", ["x, with, commas, here", "#x,1,2,3"])
def test_a_long_first_row_is_named_by_its_line(tmp_path, row):
    """It was 'some rows have more values than the header has columns (3, ...)'."""
    (tmp_path / "t.csv").write_text(f"a,b,y\n{row}\n" + "1,2,0\n" * 10)
    with pytest.raises(DataError, match=r"t\.csv': line 2 has 4 values, more than the header's 3"):
        load_dataset(str(tmp_path / "t.csv"))


@pytest.mark.parametrize("short_first", [True, False])
def test_the_first_row_of_the_wrong_width_is_named_short_or_long(tmp_path, short_first):
    """A short row before a long one was passed over: the long one alone was named."""
    rows = ["a,b,y", *(f"{i},{i % 3},{i % 2}" for i in range(30))]
    rows[12 if short_first else 20] = "5,6"
    rows[20 if short_first else 12] = "5,6,1,8"
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    expected = "line 13 has 2 values, fewer" if short_first else "line 13 has 4 values, more"
    with pytest.raises(DataError, match=expected):
        load_dataset(str(tmp_path / "t.csv"))


def test_a_quote_never_closed_is_named_by_its_line(tmp_path):
    """It was pandas' 'Error tokenizing data. C error: EOF inside string starting at row
    8', a row counted past a blank line and a value on two lines."""
    rows = ["a,b,y", *(f"{i},{i % 3},{i % 2}" for i in range(20))]
    rows[3] = '"1\n0",1,0'  # a quoted value on lines 4 and 5
    rows.insert(6, "")  # line 8: blank
    rows[10] = '4,"5,1'  # line 12 (data row 9): its quote holds the rest of the file
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"))
    assert str(err.value) == (
        f"data file {str(tmp_path / 't.csv')!r}: line 12 opens a double quote that is never "
        'closed; a value in double quotes ends with another (one inside it is written twice: "")'
    )


def test_integers_beyond_int64_are_numbers(tmp_path):
    """pandas keeps integers above int64 as Python ints (dtype object): they were called
    "not numeric" and the run refused."""
    rows = "".join(f"{i},{10**20 + i if i == 2 else i * 3},{i % 2}\n" for i in range(12))
    (tmp_path / "big.csv").write_text("a,b,y\n" + rows)
    d = load_dataset(str(tmp_path / "big.csv"))
    X = np.concatenate([d.X_train, d.X_val, d.X_test])
    assert X.dtype.kind == "f" and X[:, 1].max() == pytest.approx(1e20)
    assert sorted(X[:, 0]) == list(range(12))


@pytest.mark.parametrize("sep", [";", "\t"])
def test_integers_beyond_int64_in_a_semicolon_or_tab_file_are_numbers(tmp_path, sep):
    """In a file of semicolons or tabs, a column of such ints (a 25-digit id) failed as
    'cannot be read: Can only use .str accessor with string values'; beside decimal
    commas it was called 'not numeric'."""
    rows = "".join(
        sep.join([str(i), str(10**24 + i), f"{i},5", str(i % 2)]) + "\n" for i in range(12)
    )
    (tmp_path / "ids.csv").write_text(sep.join(["a", "id", "b", "y"]) + "\n" + rows)
    d = load_dataset(str(tmp_path / "ids.csv"))
    X = np.concatenate([d.X_train, d.X_val, d.X_test])
    assert d.feature_names == ["a", "id", "b"] and X.dtype.kind == "f"
    assert sorted(X[:, 1]) == pytest.approx([1e24] * 12)
    assert sorted(X[:, 2]) == [i + 0.5 for i in range(12)]


@pytest.mark.parametrize("sep", [",", ";", "\t"])
@pytest.mark.parametrize("column", ["a", "y"])
def test_a_400_digit_integer_is_named_as_too_large_for_a_float(tmp_path, sep, column):
    """A 400-digit integer failed as 'cannot be read: int too large to convert to float'
    (or, in a semicolon or tab file, '... .str accessor ...'), naming no column or row."""
    rows = [[str(i), f"{i},5" if sep != "," else f"{i}.5", str(i % 2)] for i in range(12)]
    rows[4][["a", "b", "y"].index(column)] = "-" + "9" * 400
    text = sep.join(["a", "b", "y"]) + "\n" + "".join(sep.join(r) + "\n" for r in rows)
    assert refused(tmp_path / "huge.csv", text) == (
        f"data file {str(tmp_path / 'huge.csv')!r}: column {column!r} has a number too large "
        "for a float in data row 5 (a 400-digit integer; a float holds at most about "
        "1.8e+308); fix or drop that row"
    )


@pytest.mark.parametrize("cell", ["9" * 400 + ".5", "1e400"])
def test_a_decimal_too_large_for_a_float_is_not_called_plain_inf(tmp_path, cell):
    """pandas reads 1e400 as inf: the line said the feature 'has inf', which the file does
    not say, and of a target only 'a target column has inf values', naming neither."""
    rows = [[str(i), f"{i * 1.5}", f"{i * 0.25}"] for i in range(12)]
    rows[6][1] = cell
    (tmp_path / "t.csv").write_text("a,b,r\n" + "".join(",".join(r) + "\n" for r in rows))
    too_large = "inf (written so, or a number too large for a float: beyond about 1.8e+308)"
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"))
    assert f"feature column 'b' has {too_large} in data row 7;" in str(err.value)
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"), target=["b"], task="regression")
    assert str(err.value).endswith(
        f": target column 'b' has {too_large} in data row 7; clean it or drop that row first"
    )


@pytest.mark.parametrize(
    "when", ["2021-12-01", "2021/12/01 13:45", "01.12.2021", "2021-12-01T13:45:00Z"]
)
def test_a_date_column_is_told_to_become_numbers_not_one_hot(tmp_path, when):
    """A CSV's date column was told to be one-hot encoded: a column a day."""
    rows = "".join(f"{i},{when},{i % 2}\n" for i in range(12))
    (tmp_path / "t.csv").write_text("a,signup,y\n" + rows)
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"))
    assert str(err.value).endswith(
        "it holds dates or times: encode them as numbers first (e.g. days since a start), "
        "or leave it out with --ignore signup"
    )
    assert "get_dummies" not in str(err.value)


def test_a_suggested_ignore_pastes_into_a_shell_whatever_the_column_name(tmp_path):
    """Spreadsheet headers hold spaces and brackets: `--ignore ma classe` pasted gave the
    column 'ma' (no such column), and `--ignore note (libre)` stopped the shell."""
    import json
    import shlex
    import subprocess
    import sys

    rows = "".join(f"{i % 3},{'oui' if i % 2 else 'non'},{i % 2}\n" for i in range(12))
    (tmp_path / "t.csv").write_text("a,note (libre),y\n" + rows)
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"))
    flag = re.search(r"--ignore ('[^']*'|[^\s;,]+)", str(err.value))
    assert flag and flag.group(1) == "'note (libre)'", str(err.value)
    command = f"{shlex.quote(sys.executable)} -m mlplab train --data t.csv --epoch 2 -q"
    proc = subprocess.run(
        f"{command} --log_path runs {flag.group(0)}",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(next(tmp_path.glob("runs/*/*/result.json")).read_text())["ignore"] == [
        "note (libre)"
    ]
    # A name that starts with '-' is joined by '=': pasted bare, it read as a flag.
    (tmp_path / "n.csv").write_text("a,-niveau,y\n" + rows)
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "n.csv"))
    flag = re.search(r"--ignore=([^\s;]+)", str(err.value))
    assert flag and flag.group(0) == "--ignore=-niveau", str(err.value)
    proc = subprocess.run(
        f"{command} --data n.csv --log_path runs2 {flag.group(0)}".replace("--data t.csv ", ""),
        shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_a_target_column_of_one_value_among_several_is_noted(tmp_path):
    """A constant target counts as R² 0 in the run's mean over targets: 0.48 for a run
    whose price alone reached 0.97, and nothing said why."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=50)})
    df["price"], df["k"] = 1e6 + 1e5 * df.x, 7.0
    df.to_csv(tmp_path / "t.csv", index=False)
    notes = load_dataset(str(tmp_path / "t.csv"), target=["price", "k"]).notes
    assert any(n.startswith("target column 'k' has one value (7.0) in every row") for n in notes)
    assert not any(
        "target column" in n for n in load_dataset(str(tmp_path / "t.csv"), target=["price"]).notes
    )


def test_a_two_valued_target_among_several_is_noted(tmp_path):
    """`--target y c` with a 0/1 y fit it as a number beside c, with no word that it was
    not classified."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=50)})
    df["y"], df["c"] = (df.x > 0).astype(int), 2 * df.x
    df.to_csv(tmp_path / "t.csv", index=False)
    ds = load_dataset(str(tmp_path / "t.csv"), target=["y", "c"])
    assert ds.task == "regression"
    assert ds.notes == [
        "target column 'y' holds two values (0 and 1), fit as numbers beside the other "
        "targets; to classify it, give it alone: --target y"
    ]
    assert load_dataset(str(tmp_path / "t.csv"), target=["y"]).task == "binary"


def test_load_dataset_takes_one_target_or_ignored_column_by_its_name(tmp_path):
    """target="label" is the column label, as train() takes it, not the letters l, a, ..."""
    table = pd.DataFrame({"id": range(20), "a": np.arange(20.0), "label": ["x", "y"] * 10})
    table = table[["label", "id", "a"]]  # the labels first: not the default target
    table.to_csv(tmp_path / "t.csv", index=False)
    ds = load_dataset(str(tmp_path / "t.csv"), target="label", ignore="id")
    assert ds.target_names == ["label"] and ds.feature_names == ["a"]
    assert ds.class_names == ["x", "y"]


def test_a_label_column_taken_for_a_feature_names_the_default_target(tmp_path):
    """Without --target the last column is the target: a column of labels elsewhere is
    called a text feature, and the line says which column was the target instead."""
    table = pd.DataFrame({"label": ["x", "y"] * 10, "a": np.arange(20.0), "b": np.ones(20)})
    table.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"))
    assert "feature column 'label' is not numeric" in str(err.value)
    assert str(err.value).endswith(
        "; if it is the target, say so with --target label (without it, the target is the "
        "last column, 'b')"
    )
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"), target="b")
    assert "--target" not in str(err.value)


def test_a_long_column_of_numbers_then_text_is_named_without_pandas_warning(tmp_path):
    """pandas guesses a long file's types in chunks, and a column whose late rows are text
    drew its DtypeWarning, whose advice (dtype=, low_memory=) is no setting of mlplab's,
    before the one line that names the column and the row."""
    import warnings

    n = 300_000
    a = np.zeros(n, dtype=np.int8).astype(object)
    a[-3:] = "x"
    pd.DataFrame({"a": a, "y": np.arange(n) % 2}).to_csv(tmp_path / "t.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        with pytest.raises(
            DataError, match=rf"feature column 'a' is not numeric \('x' in data row {n - 2}[;)]"
        ):
            load_dataset(str(tmp_path / "t.csv"))


def test_class_names_that_pandas_reads_as_missing_are_classes(tmp_path):
    """NA (North America) or None (no symptoms) among class names is a class where --task
    classification says so (guessed, it is refused as a missing label, as '?' is): pandas
    read them as missing values, and the file was refused for a missing target. An empty
    cell is still a missing target."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    region = np.where(X[:, 0] > 0, "NA", "EU")
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "region": region}).to_csv(
        tmp_path / "t.csv", index=False
    )
    with pytest.raises(DataError, match="if 'NA' is a class, say so with --task classification"):
        load_dataset(str(tmp_path / "t.csv"))
    ds = load_dataset(str(tmp_path / "t.csv"), task="classification")
    assert ds.class_names == ["EU", "NA"]
    y = np.concatenate([ds.y_train, ds.y_val, ds.y_test]).ravel()
    assert y.sum() == (region == "NA").sum()  # every NA row is the class NA
    lines = (tmp_path / "t.csv").read_text().splitlines()
    lines[5] = lines[5].rsplit(",", 1)[0] + ","  # one cell left empty
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="target column 'region' has missing values in data row 5"):
        load_dataset(str(tmp_path / "t.csv"), task="classification")
    # A software's mark for a missing value stays one; a column of the words alone trains.
    (tmp_path / "t.csv").write_text("a,y\n1,cat\n2,dog\n3,nan\n4,cat\n5,dog\n6,#N/A\n")
    with pytest.raises(DataError, match=r"missing values in data row 3 \(2 in all\)"):
        load_dataset(str(tmp_path / "t.csv"), split=[4, 1, 1])
    (tmp_path / "t.csv").write_text("a,y\n1,NA\n2,None\n3,NA\n4,None\n5,NA\n6,None\n")
    words = load_dataset(str(tmp_path / "t.csv"), split=[4, 1, 1], task="classification")
    assert words.class_names == ["NA", "None"]


def test_class_codes_with_leading_zeros_keep_them(tmp_path):
    """Class labels written as codes (01, 02, 007) are the labels as written: read as
    numbers they were 1 and 2, and predictions wrote them so. Labels of plain numbers, and
    a number written two ways (01 and 1), stay numbers."""
    rows = ["a,b,code", *(f"{i / 10},{(i * 7) % 5},{('01', '02', '10')[i % 3]}" for i in range(30))]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    ds = load_dataset(str(tmp_path / "t.csv"))
    assert ds.class_names == ["01", "02", "10"]
    assert ds.label_kind == "text"
    assert list(ds.classes) == ["01", "02", "10"]
    rows = ["a;code", *(f"{i};{(' 007', '8')[i % 2]}" for i in range(30))]  # ; and a space
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    assert load_dataset(str(tmp_path / "t.csv")).class_names == ["007", "8"]
    # One number written two ways (01 beside 1) is one class, as numbers read it.
    rows = ["a,code", *(f"{i},{('01', '1', '7', '12')[i % 4]}" for i in range(40))]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    assert load_dataset(str(tmp_path / "t.csv")).class_names == ["1", "7", "12"]
    rows = ["a,code", *(f"{i},{(1, 2, 10)[i % 3]}" for i in range(30))]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    ds = load_dataset(str(tmp_path / "t.csv"))
    assert (ds.class_names, ds.label_kind) == (["1", "2", "10"], "number")


def test_a_short_row_is_refused_when_the_last_column_is_one_read_as_text(tmp_path):
    """An ignored column is read as text, where a short row's missing last cell is "" (not
    NaN): the row was read with its values under the wrong columns."""
    rows = ["x1,x2,y,id", *(f"{i / 10},{-i / 10},{i % 2},{i:05d}" for i in range(12))]
    rows[5] = "0.5,1,00004"  # x2 forgotten: the file's line 6
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match="line 6 has 3 values, fewer than the header's 4"):
        load_dataset(str(tmp_path / "t.csv"), target="y", ignore="id")
    # A line of spaces, which pandas skips, is no short row, nor counted as a row: the
    # short row is named by the line an editor shows (it was "data row 2 has 1 value").
    rows.insert(2, "  ")
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match="line 7 has 3 values, fewer than the header's 4"):
        load_dataset(str(tmp_path / "t.csv"), target="y", ignore="id")


def test_a_short_last_line_with_no_line_end_is_said_to_be_a_file_cut_short(tmp_path):
    """A copy or download cut short ends in a short line with no line end: the line said
    to add empty cells, which is no fix for a file that lost its end."""
    rows = ["x1,x2,x3,y", *(f"{i / 10},{-i / 10},{i % 5},{i % 2}" for i in range(12))]
    text = "\n".join(rows) + "\n"
    (tmp_path / "t.csv").write_text(text[: text.rindex(",", 0, len(text) - 3)])
    with pytest.raises(
        DataError, match=r"line 13 has 2 values, fewer .* the file may be cut short"
    ):
        load_dataset(str(tmp_path / "t.csv"), target="y")
    # With its line end, or above the last line, a short row is one row's mistake.
    (tmp_path / "t.csv").write_text(text[: text.rindex(",", 0, len(text) - 3)] + "\n")
    with pytest.raises(DataError, match=r"\(an empty cell for a missing one\)$"):
        load_dataset(str(tmp_path / "t.csv"), target="y")
    # A line of spaces after the last line end is no line of its own.
    (tmp_path / "t.csv").write_text(text[: text.rindex(",", 0, len(text) - 3)] + "\n  \t")
    with pytest.raises(DataError, match=r"\(an empty cell for a missing one\)$"):
        load_dataset(str(tmp_path / "t.csv"), target="y")
    rows[3] = "0.2,1,0"
    (tmp_path / "t.csv").write_text("\n".join(rows))
    with pytest.raises(
        DataError, match=r"line 4 has 3 values.*\(an empty cell for a missing one\)$"
    ):
        load_dataset(str(tmp_path / "t.csv"), target="y")


def test_whole_numbers_beyond_int64_are_not_merged_into_one_class(tmp_path):
    """1e20 and 2e20 cast to int64 both became its smallest value: two classes one, under
    a label the file does not hold."""
    X = np.arange(90.0)
    y = np.array([1e20, 2e20, 0.0])[np.arange(90) % 3]
    pd.DataFrame({"a": X, "y": y}).to_csv(tmp_path / "t.csv", index=False)
    ds = load_dataset(str(tmp_path / "t.csv"), task="classification")
    assert ds.class_names == ["0.0", "1e+20", "2e+20"]
    assert list(ds.classes) == [0.0, 1e20, 2e20]


def test_whole_number_targets_read_as_classes_say_so_and_one_class_points_to_regression(
    tmp_path,
):
    """Counts 0..12 trained as 13 classes with no word of why (only "multiclass" on the
    start line), and a constant count said "classification needs at least 2" and no more."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=300), "y": rng.integers(0, 13, size=300)})
    df.to_csv(tmp_path / "counts.csv", index=False)
    d = load_dataset(str(tmp_path / "counts.csv"))
    assert d.task == "multiclass" and d.notes == [
        "target column 'y' holds 13 whole numbers (0 to 12), read as classes (task auto); "
        "counts or a score to fit as a number take --task regression"
    ]
    assert load_dataset(str(tmp_path / "counts.csv"), task="classification").notes == []
    df.assign(y=df.y % 2).to_csv(tmp_path / "two.csv", index=False)
    assert load_dataset(str(tmp_path / "two.csv")).notes == []  # 0/1: classes plainly
    df.assign(y=7).to_csv(tmp_path / "seven.csv", index=False)
    with pytest.raises(DataError, match=r"single class \(.7.\).*is it the column to predict"):
        load_dataset(str(tmp_path / "seven.csv"))


def test_decimal_comma_hints_name_the_cell_at_fault_and_fit_the_file(tmp_path):
    """A ';' file reads decimal commas: its column of 0,1257 failed on an 'abc' below,
    yet the hint named row 1's 0,1257 and said to save the file with ';', as it was. A
    Parquet column has no separator to change."""
    rng = np.random.default_rng(0)
    a = [f"{v:.4f}".replace(".", ",") for v in rng.normal(size=30)]
    y = np.arange(30) % 2
    pd.DataFrame({"a": [*a[:10], "abc", *a[11:]], "y": y}).to_csv(
        tmp_path / "semi.csv", sep=";", index=False
    )
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "semi.csv"))
    assert str(err.value).endswith(
        f"feature column 'a' is not numeric ('abc' in data row 11); its other values are "
        f"numbers written with a decimal comma ({a[0]!r} in data row 1): a file separated "
        "by ';' or tabs reads them as numbers once every value is one; in a "
        "comma-separated file, write them with a decimal point"
    )
    assert "get_dummies" not in str(err.value)
    pd.DataFrame({"a": a, "y": y}).to_parquet(tmp_path / "comma.parquet")
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "comma.parquet"))
    assert str(err.value).endswith(
        f"it looks like a number with a decimal comma: write it with a decimal point "
        f"({a[0].replace(',', '.')})"
    )


def test_a_column_named_unnamed_that_target_names_is_the_target(tmp_path):
    """Refused as a likely saved index, it was told to be left out with --ignore, even
    where --target named it: the user's choice, not a feature taken unawares."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=40), "Unnamed: 0": np.arange(40) % 2})
    df.to_csv(tmp_path / "t.csv", index=False)
    ds = load_dataset(str(tmp_path / "t.csv"), target="Unnamed: 0", split=[30, 5, 5])
    assert ds.feature_names == ["a"] and ds.target_names == ["Unnamed: 0"]


def test_numbers_written_with_a_comma_are_named_so_in_a_target_and_a_feature(tmp_path):
    """A target of '125,730' in a comma file was told it had a class a row ('a number to
    predict takes --task regression'), and with that, that it was not numeric: no way
    out. A feature of '1.234,5' got the advice to encode it as categories."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=60)
    written = [f"{v * 1000:.3f}".replace(".", ",") for v in a]
    pd.DataFrame({"a": a, "y": written}).to_csv(tmp_path / "t.csv", index=False)
    hint = (
        f"; its values are numbers written with a comma ({written[0]!r}), which a "
        "comma-separated file reads as text: write them with a decimal point"
    )
    for task in ("auto", "regression"):
        with pytest.raises(DataError) as err:
            load_dataset(str(tmp_path / "t.csv"), task=task)
        assert hint in str(err.value) and "--task regression" not in str(err.value)
    grouped = ["1.234,5", *[f"{v:.3f}".replace(".", ",") for v in a[1:]]]
    pd.DataFrame({"a": grouped, "y": a > 0}).to_csv(tmp_path / "f.csv", index=False)
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "f.csv"))
    assert str(err.value).endswith(
        "('1.234,5' in data row 1); it looks like a number with a decimal comma: write it "
        "with a decimal point (1234.5), or save the file with ';' between values, where "
        "decimal commas are read"
    )


def test_an_outlier_past_a_floats_reach_is_said_so_not_inf_times():
    from mlplab.data.dataset import _outlier_notes

    X = np.zeros((50, 1))
    X[:, 0] = np.linspace(0.0, 1e-300, 50)
    X[7, 0] = 1e300
    (note,) = _outlier_notes(X, ["c"])
    assert "far more than 1e308 times its values' usual spread" in note and "inf" not in note


def test_a_text_target_of_comma_numbers_outside_a_text_file_is_told_to_store_numbers(tmp_path):
    """A Parquet column has no separator to change: it was told to save with ';'. A
    million written 1,234,567 is such a number too (it was 'a class a row', then 'not
    numeric')."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=60)
    y = [f"{int(abs(v) * 1e6) + 1000000:,}" for v in a]  # 1,234,567
    pd.DataFrame({"a": a, "y": y}).to_parquet(tmp_path / "t.parquet")
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.parquet"), task="regression")
    assert str(err.value).endswith(
        f"its values are numbers written as text with a comma ({y[0]!r}): store them as numbers"
    )
    pd.DataFrame({"a": a, "y": y}).to_csv(tmp_path / "t.csv", index=False)
    # In a CSV they are thousands separators: a ';' file would read them as decimal marks.
    with pytest.raises(DataError, match="looks like a thousands separator"):
        load_dataset(str(tmp_path / "t.csv"))


@pytest.mark.parametrize(
    "calls",
    [
        "mlplab.load_dataset('moons'); mlplab.load_dataset('circles'); mlplab.load_dataset('iris')",
        # A run's printed table and a report's: rich's first import drew 24 bits too.
        "mlplab.train(data='xor', epoch=2, record=False, verbose=True, log_every=0)",
        "mlplab.report(mlplab.train(data='xor', epoch=2, log_path='runs', verbose=False)"
        ".run_dir.parent.parent, out='page')",
    ],
)
def test_mlplabs_calls_draw_nothing_from_pythons_random(tmp_path, calls):
    """scikit-learn's first import consumed from Python's `random`, and rich's: a script's
    random.seed(0) gave other numbers after its first train(data="moons"), or its first
    train(verbose=True)."""
    import subprocess
    import sys

    script = (
        "import random, mlplab\n"
        "random.seed(0)\n"
        f"{calls}\n"
        "after = random.random()\n"
        "random.seed(0)\n"
        "print(after == random.random())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert out.stdout.strip().splitlines()[-1] == "True", out.stderr


def test_the_datasets_table_says_what_noise_is_for_each_synthetic_set(run_cli):
    """`--noise 0.5` is near chance on circles and easy on spiral, and nothing said what
    the number means, or its default, for any set."""
    from mlplab.data.registry import BUILTIN

    out = " ".join(run_cli("datasets").stdout.split())  # the table's wrapped cells, joined
    noisy = [d for d in BUILTIN.values() if d.source == "synthetic" and d.split]
    names = ("sinlog", "sine", "ring", "moons", "circles", "spiral", "gauss", "quadrants")
    names += ("circle",)
    assert {d.name for d in noisy} == set(names)
    for d in noisy:
        assert f"noise {d.noise:g}: " in d.summary, d.name  # its own default, and its meaning
        assert f"noise {d.noise:g}:" in out.replace("│ │", "")


def test_quadrants_is_the_playgrounds_exclusive_or_and_the_xor_gate_points_to_it(run_cli):
    """The Playground's XOR (points in four quadrants) was only a hand-made CSV away:
    mlplab's xor is the 4-row gate, whose refusal of n_samples named no other way."""
    from mlplab.data.dataset import load_dataset

    ds = load_dataset("quadrants")
    X = np.concatenate([ds.X_train, ds.X_val, ds.X_test])
    y = np.concatenate([ds.y_train, ds.y_val, ds.y_test])[:, 0]
    assert len(X) == 1000 and np.abs(X).max() <= 5.3 and np.abs(X).min() >= 0.3
    np.testing.assert_array_equal(y, X[:, 0] * X[:, 1] >= 0)  # no noise: by the quadrant
    noisy = load_dataset("quadrants", noise=0.5)
    Xn = noisy.X_train
    flipped = (noisy.y_train[:, 0] == 1) != (Xn[:, 0] * Xn[:, 1] >= 0)
    assert 0.05 < flipped.mean() < 0.5  # near the axes the classes mix
    proc = run_cli("train", "--data", "xor", "--n_samples", "500")
    assert proc.returncode == 2 and "is --data quadrants" in proc.stderr


def test_split_by_a_column_puts_each_row_where_the_file_says(tmp_path, run_cli):
    """A researcher's own held-out test set (a time or group split) could not be given:
    the split was always a draw of data_seed."""
    import pandas as pd

    import mlplab
    from mlplab.config import make_config
    from mlplab.data.dataset import load_dataset
    from mlplab.errors import ConfigError, DataError

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": np.arange(60.0), "b": rng.normal(size=60)})
    df["y"] = (df.b > 0).astype(int)
    df["fold"] = ["train"] * 40 + ["Val"] * 5 + ["validation "] * 5 + ["TEST"] * 10
    df.to_csv(tmp_path / "f.csv", index=False)
    path = str(tmp_path / "f.csv")
    ds = load_dataset(path, target="y", split_by="fold")
    assert ds.feature_names == ["a", "b"]  # the column is no feature
    # ignored as well, as a user may write it: it was "has no column 'fold'"
    assert load_dataset(path, target="y", split_by="fold", ignore=["fold"]).feature_names == [
        "a",
        "b",
    ]
    for X, rows in ((ds.X_train, range(40)), (ds.X_val, range(40, 50)), (ds.X_test, range(50, 60))):
        np.testing.assert_array_equal(X[:, 0], list(rows))  # in the file's order
    # No draw: a data_seed, which would give the same rows under another run id, is refused.
    with pytest.raises(ConfigError, match=r"^settings 'data_seed' and 'split_by'"):
        load_dataset(path, target="y", split_by="fold", seed=7)
    r = mlplab.train(data=path, target="y", split_by="fold", epoch=2, plots="none",
                     verbose=False, log_path=str(tmp_path / "runs"))  # fmt: skip
    assert (r.record["n_train"], r.record["n_val"], r.record["n_test"]) == (40, 10, 10)
    assert mlplab.load_run(r.run_dir).dataset.X_test.shape == (10, 2)
    plain = make_config({"data": path, "target": "y", "epoch": 2, "ignore": ["fold"]})
    assert r.config.run_id() != plain.run_id()  # another split: another run
    # What is refused, in one line each.
    with pytest.raises(DataError, match=r"no column 'Fold' \(did you mean 'fold'\?\)"):
        load_dataset(path, target="y", split_by="Fold")
    df.assign(fold=["train"] * 50 + ["dev"] * 10).to_csv(tmp_path / "dev.csv", index=False)
    with pytest.raises(
        DataError, match=r"has 'dev' in data row 51 \(10 rows name no split\); each row"
    ):
        load_dataset(str(tmp_path / "dev.csv"), target="y", split_by="fold")
    # No test row is a run without a test split (test_no_test_split.py); no val row is refused.
    df.assign(fold=["train"] * 50 + ["test"] * 10).to_csv(tmp_path / "nv.csv", index=False)
    with pytest.raises(DataError, match="names no val row"):
        load_dataset(str(tmp_path / "nv.csv"), target="y", split_by="fold")
    with pytest.raises(ConfigError, match="settings 'split' and 'split_by'"):
        load_dataset(path, target="y", split_by="fold", split=[0.5, 0.5])
    proc = run_cli("train", "--data", "moons", "--split_by", "fold")
    assert proc.returncode == 2 and "'split_by' applies to data files only" in proc.stderr


def _rare_class_file(tmp_path) -> str:
    """4,000 rows of which 40 are 'fraud' (1%), in a shuffled order."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(4000, 3)).round(4), columns=["a", "b", "c"])
    df["label"] = np.where(np.arange(4000) < 40, "fraud", "ok")
    df.sample(frac=1, random_state=1).to_csv(tmp_path / "bin.csv", index=False)
    return str(tmp_path / "bin.csv")


def test_stratify_shares_out_every_class_in_the_splits_proportions(tmp_path):
    """A random split of a 1% class left validation or test with none of it, or two rows
    on which its score turned, and no way to ask for scikit-learn's stratify=y."""
    from mlplab.data.dataset import missing_class_notes

    path = _rare_class_file(tmp_path)

    def frauds(ds) -> list[int]:
        return [int((y[:, 0] == 0).sum()) for _, y in ds.splits().values()]

    plain = [frauds(load_dataset(path, target="label", seed=s)) for s in range(40)]
    assert any(0 in f[1:] for f in plain)  # a random draw leaves val or test without
    for seed in range(5):
        ds = load_dataset(path, target="label", seed=seed, stratify=True)
        assert frauds(ds) == [32, 4, 4]  # 80/10/10 of 40 rows
        assert [len(y) for _, y in ds.splits().values()] == [3200, 400, 400]
        # Every row once: the splits partition the file's rows.
        rows = np.concatenate([X for X, _ in ds.splits().values()])
        assert len(np.unique(rows, axis=0)) == 4000
        assert missing_class_notes(ds, None, True) == []
    # The seed still draws which rows: two seeds, two test sets.
    a, b = (load_dataset(path, target="label", seed=s, stratify=True) for s in (0, 1))
    assert not np.array_equal(a.X_test, b.X_test)
    again = load_dataset(path, target="label", seed=0, stratify=True)
    np.testing.assert_array_equal(again.X_test, a.X_test)
    # A bare multiclass set too: iris' 150 rows, 50 a species, default split 0.8/0.1/0.1.
    iris = load_dataset("iris", stratify=True)
    for _, y in iris.splits().values():
        counts = np.bincount(y, minlength=3)
        assert counts.max() - counts.min() <= 1


def test_a_split_without_some_class_is_noted_with_what_puts_one_there(tmp_path, run_cli):
    """Validation or test with no row of a rare class scored it nowhere, silently: a test
    balanced accuracy of 0.94 that was the common class's recall alone."""
    from mlplab.console import majority_note
    from mlplab.data.dataset import missing_class_notes

    path = _rare_class_file(tmp_path)
    seed = next(
        s for s in range(300) if not (load_dataset(path, target="label", seed=s).y_test == 0).any()
    )
    ds = load_dataset(path, target="label", seed=seed)
    (note,) = missing_class_notes(ds, None, False)
    assert note.startswith("no test row has the class(es) 'fraud', so the test scores leave")
    assert "--stratify true" in note
    # The majority note's balanced baseline counts the classes test holds: here one, so
    # answering 'ok' alone scores 1 (it said 0.5).
    result = {"test_acc": 0.9, "test_bacc": 0.9, "status": "finished", "class_weight": "balanced"}
    assert "always answering 'ok' scores 1)" in majority_note(ds, result)
    proc = run_cli("train", "--data", path, "--target", "label", "--data_seed", str(seed),
                   "--epoch", "1", "--plots", "none", "--log_path", tmp_path / "runs")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "note: no test row has the class(es) 'fraud'" in proc.stdout + proc.stderr
    # A split of one's own names its column, not a seed or stratify.
    df = pd.read_csv(path)
    df["fold"] = np.where(df.label == "fraud", "train", ["train", "val", "test", "train"] * 1000)
    df.to_csv(tmp_path / "own.csv", index=False)
    own = load_dataset(str(tmp_path / "own.csv"), target="label", split_by="fold")
    assert missing_class_notes(own, "fold", False) == [
        "no validation row has the class(es) 'fraud', so the validation scores (and early "
        "stopping) leave them out (the split_by column 'fold' puts none there)",
        "no test row has the class(es) 'fraud', so the test scores leave them out (the "
        "split_by column 'fold' puts none there)",
    ]
    # A split too small for every class: said of the split as well as of the classes.
    tiny = load_dataset("iris", stratify=True, split=[147, 2, 1])
    (note,) = [n for n in missing_class_notes(tiny, None, True) if n.startswith("no test")]
    assert note.endswith("(too few rows of them, or in that split, to share out in proportion)")
    with pytest.raises(ConfigError, match=r"^settings 'stratify' and 'split_by': .*give one"):
        load_dataset(str(tmp_path / "own.csv"), target="label", split_by="fold", stratify=True)
    # Nothing to stratify: a regression or a gate is refused, as it would only make a
    # second run id of the same training.
    with pytest.raises(ConfigError, match=r"'stratify' .*; 'sine' is a regression: leave it"):
        load_dataset("sine", stratify=True)
    with pytest.raises(ConfigError, match=r"'xor' is 4 rows in every split"):
        load_dataset("xor", stratify=True)


def test_many_whole_number_codes_fit_as_a_number_are_noted(tmp_path):
    """50 integer class codes (0..49) became a regression with no word, where 20 of them
    are read as classes with a note; prices and measurements stay unremarked."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(1000, 2)).round(3), columns=["a", "b"])
    df["label"] = np.arange(1000) % 50
    df.to_csv(tmp_path / "codes.csv", index=False)
    ds = load_dataset(str(tmp_path / "codes.csv"))
    assert ds.task == "regression"
    assert (
        "target column 'label' holds 50 whole numbers (0 to 49), fit as a number (task auto "
        "reads at most 20 as classes); codes of classes take --task classification"
    ) in ds.notes
    assert load_dataset(str(tmp_path / "codes.csv"), task="classification").n_outputs == 50
    df["label"] = rng.integers(50_000, 900_000, size=1000)  # prices in whole units
    df.to_csv(tmp_path / "prices.csv", index=False)
    assert not any("whole numbers" in n for n in load_dataset(str(tmp_path / "prices.csv")).notes)
    # 30 codes of 10 rows each: a small table is told too (it asked for 500 rows).
    df = df.head(300).assign(label=np.arange(300) % 30)
    df.to_csv(tmp_path / "small.csv", index=False)
    assert "target column 'label' holds 30 whole numbers (0 to 29), fit as a number" in " ".join(
        load_dataset(str(tmp_path / "small.csv")).notes
    )
    # 100 values of 3 rows each: not codes seen often enough to say.
    df.assign(label=np.arange(300) % 100).to_csv(tmp_path / "few.csv", index=False)
    assert not any("whole numbers" in n for n in load_dataset(str(tmp_path / "few.csv")).notes)


def test_a_target_of_thousands_separators_is_told_to_drop_them_not_to_use_semicolons(tmp_path):
    """Prices '573,170' were told to save the file with ';' between values, where the
    commas are decimal marks: that file then read 573,170 as 573.17, without a word."""
    df = pd.DataFrame({"sqft": [1200, 1500, 900, 2000, 1750, 1100]})
    df["price"] = ["573,170", "612,000", "1,250,300", "98,500", "702,110", "455,000"]
    text = df.to_csv(index=False)
    line = refused(tmp_path / "p.csv", text, target="price", task="regression")
    assert line.endswith(
        "; the comma in '573,170' looks like a thousands separator, which mlplab does not "
        "read: remove the separators (573170) (not a file with ';' between values: there a "
        "comma is a decimal mark)"
    ), line
    # With cents too; and --task regression, which the first line names, says the same.
    cents = pd.DataFrame({"sqft": range(60)})
    cents["price"] = [f"{21318.29 + 1000 * i:,.2f}" for i in range(60)]  # '21,318.29', ...
    for task in ("auto", "regression"):
        line = refused(tmp_path / "c.csv", cents.to_csv(index=False), target="price", task=task)
        assert "'21,318.29'" in line and "looks like a thousands separator, which mlplab " \
            "does not read: remove the separators (21318.29)" in line, line  # fmt: skip
        assert "--task" not in line
    # Amounts under a thousand among them have no comma: the hint holds.
    cents["price"] = [f"{328.91 + 1000 * i:,.2f}" for i in range(60)]  # '328.91', '1,328.91'
    line = refused(tmp_path / "u.csv", cents.to_csv(index=False), target="price", task="regression")
    assert "'1,328.91' looks like a thousands separator, which mlplab does not read: " \
        "remove the separators (1328.91)" in line, line  # fmt: skip
    # A few such values, which task auto read as 3 classes with a note: likely prices,
    # refused alike; --task classification says they are labels.
    few = pd.DataFrame({"sqft": range(30), "price": ["1,000", "3,500", "12,000"] * 10})
    line = refused(tmp_path / "f.csv", few.to_csv(index=False), target="price")
    assert line.endswith(
        "target column 'price' is not numeric ('1,000' in data row 1); its comma looks like a "
        "thousands separator, which mlplab does not read: remove the separators (1000) (not "
        "a file with ';' between values: there a comma is a decimal mark)"
    ), line
    ds = load_dataset(str(tmp_path / "f.csv"), target="price", task="classification")
    assert ds.task == "multiclass" and list(ds.class_names or []) == ["1,000", "12,000", "3,500"]
    # Decimal commas keep their hint, ';' route included.
    df["price"] = ["0,125", "1,5", "2,25", "3,75", "4,5", "5,0"]
    line = refused(tmp_path / "d.csv", df.to_csv(index=False), target="price", task="regression")
    assert "save the file with ';' between values" in line


def test_thousands_separators_among_plain_numbers_are_told_to_be_removed(tmp_path, run_cli):
    """A spreadsheet's flows, '398.2' beside a quoted '1,694.6': the target was told it
    "holds numbers but also '1,694.6'; fix or drop such rows, or pass --task
    classification if its values are labels", and a feature that the comma is a currency
    sign, a thousands separator, a % or an accounting negative's parentheses."""
    rng = np.random.default_rng(0)
    flow = np.exp(6 + rng.normal(size=60))
    flow[1] = 1694.6
    df = pd.DataFrame({"x": rng.normal(size=60), "flow": [f"{v:,.1f}" for v in flow]})
    df.to_csv(tmp_path / "river.csv", index=False)
    proc = run_cli("train", "--data", tmp_path / "river.csv", "--target", "flow",
                   "--log_path", tmp_path / "runs")  # fmt: skip
    assert_one_line_error(
        proc,
        "data file",
        "target column 'flow' is not numeric ('1,694.6' in data row 2); its comma looks like "
        "a thousands separator, which mlplab does not read: remove the separators (1694.6) "
        "(not a file with ';' between values: there a comma is a decimal mark)",
    )
    assert "--task" not in proc.stderr and not (tmp_path / "runs").exists()
    # A feature of them says the same.
    df.assign(y=rng.normal(size=60)).to_csv(tmp_path / "f.csv", index=False)
    line = refused(tmp_path / "f.csv", (tmp_path / "f.csv").read_text(), target="y")
    assert line.endswith(
        "feature column 'flow' is not numeric ('1,694.6' in data row 2); its comma looks like "
        "a thousands separator, which mlplab does not read: remove the separators (1694.6) "
        "(not a file with ';' between values: there a comma is a decimal mark)"
    ), line


def test_a_target_of_rates_or_prices_with_their_signs_is_told_to_write_plain_numbers(tmp_path):
    """'28%' trained as 51 classes with no word, and --task regression then said "not
    numeric" with no way out; '$16,487.29' was told "a number to predict takes --task
    regression", which refused it in the same bare words."""
    rates = pd.DataFrame({"a": range(60), "rate": [f"{i % 20}%" for i in range(60)]})
    rates.to_csv(tmp_path / "r.csv", index=False)
    ds = load_dataset(str(tmp_path / "r.csv"), target="rate")
    assert (
        "target column 'rate' holds numbers written with a % or currency sign ('0%'), read as "
        "20 classes; to fit them as numbers, write the column as plain numbers (1234.5)"
    ) in ds.notes
    hint = "; its values look like numbers written with a % or currency sign ({}): write the column as plain numbers (1234.5)"
    line = refused(tmp_path / "r.csv", rates.to_csv(index=False), target="rate", task="regression")
    assert line.endswith(hint.format("'0%'")), line
    prices = pd.DataFrame(
        {"a": range(60), "price": [f"${16487.29 + 7 * i:,.2f}" for i in range(60)]}
    )
    for task in ("auto", "regression"):
        line = refused(tmp_path / "p.csv", prices.to_csv(index=False), target="price", task=task)
        assert line.endswith(hint.format("'$16,487.29'")), line
    # Ungrouped prices, a currency's code, and a bare 0 beside rates (the note's example
    # has its sign).
    for values, shown in (
        ([f"${4395.97 + 7 * i:.2f}" for i in range(60)], "'$4395.97'"),
        ([f"USD {72.81 + i:.2f}" for i in range(60)], "'USD 72.81'"),
    ):
        frame = pd.DataFrame({"a": range(60), "p": values})
        line = refused(tmp_path / "q.csv", frame.to_csv(index=False), target="p", task="regression")
        assert line.endswith(hint.format(shown)), line
    rates = pd.DataFrame({"a": range(60), "rate": ["0", "10%", "20%", "5%"] * 15})
    rates.to_csv(tmp_path / "z.csv", index=False)
    assert any(
        n.startswith("target column 'rate' holds numbers written with a % or currency sign ('10%')")
        for n in load_dataset(str(tmp_path / "z.csv"), target="rate").notes
    )
    words = pd.DataFrame({"a": range(60), "grade": ["low", "high", "mid"] * 20})
    words.to_csv(tmp_path / "w.csv", index=False)
    assert not any("sign" in n for n in load_dataset(str(tmp_path / "w.csv"), target="grade").notes)


def test_a_regression_targets_far_values_are_noted_with_what_to_do(tmp_path):
    """Ten prices keyed x10 took a test R² from 0.96 to 0.22, and a long-tailed claim
    amount fit poorly, without a word of either; a normal target has no such note."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 2))
    df = pd.DataFrame(X, columns=["a", "b"])
    df["price"] = 4e5 + 1e5 * df.a
    df.loc[:9, "price"] *= 10
    df.to_csv(tmp_path / "p.csv", index=False)
    (note,) = [n for n in load_dataset(str(tmp_path / "p.csv")).notes if "target" in n]
    assert re.fullmatch(
        r"target column 'price' has [\d.e+]+ in data row \d+, \d+ times its training values' "
        r"usual spread \([\d.e+]+\) from their median \(\d+\) \(and \d more that far\): the loss "
        r"\(mean squared error\) weighs such rows as many ordinary ones; if a value is a "
        r"mistake, drop its row; a long tail of positive values fits better as its log "
        r"\(a column of log\(price\) as the target; predictions are then logs\)",
        note,
    ), note
    df["price"] = 3.0 + df.a + rng.normal(0, 0.3, 1500)  # normal: its farthest is 3 spreads
    df.to_csv(tmp_path / "n.csv", index=False)
    assert not any("target column" in n for n in load_dataset(str(tmp_path / "n.csv")).notes)
    df["price"] = -df.a * 1e3
    df.loc[0, "price"] = -1e6  # not all positive: no log advice
    df.to_csv(tmp_path / "m.csv", index=False)
    (note,) = [n for n in load_dataset(str(tmp_path / "m.csv")).notes if "target" in n]
    assert note.endswith("drop its row")


def test_a_target_outlier_note_is_of_training_rows_and_names_no_held_out_row(tmp_path):
    """Val and test targets far from training's (a --split_by file) were flagged, all 30
    of them test rows, with advice to drop them: curating the test split by its labels.
    Judged on the training rows, the held-out ones say nothing, and a far training value
    is named by its own data row."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    part = np.repeat(["train", "val", "test"], [250, 25, 25])
    t = 3 * x + np.select([part == "val", part == "test"], [50.0, 500.0], 0.0)
    df = pd.DataFrame({"x": x, "part": part, "t": t})
    df.to_csv(tmp_path / "reg.csv", index=False)
    ds = load_dataset(str(tmp_path / "reg.csv"), split_by="part")
    assert not any(n.startswith("target column") for n in ds.notes), ds.notes
    df.loc[99, "t"] = 1e4  # a training row's
    df.to_csv(tmp_path / "reg2.csv", index=False)
    (note,) = [
        n for n in load_dataset(str(tmp_path / "reg2.csv"), split_by="part").notes
        if n.startswith("target column")
    ]  # fmt: skip
    assert note.startswith("target column 't' has 10000 in data row 100, ")
    assert "(and" not in note  # the test rows are not counted among the far ones
    # A random split: the note's row is the file's, though the training rows are shuffled.
    df.loc[:, "t"] = 3 * x
    df.loc[7, "t"] = 1e4
    df.drop(columns="part").to_csv(tmp_path / "reg4.csv", index=False)
    for seed in range(3):
        ds = load_dataset(str(tmp_path / "reg4.csv"), data_seed=seed)
        in_training = 1e4 in ds.y_train
        notes = [n for n in ds.notes if n.startswith("target column")]
        assert len(notes) == in_training
        if notes:
            assert notes[0].startswith("target column 't' has 10000 in data row 8, ")


def test_a_feature_that_gives_the_target_away_is_noted(tmp_path):
    """A copy of the label (or a near one) trained to test accuracy 1.0 without a word,
    while subtler leaks (a row counter, repeated rows) had notes. A feature the labels were
    drawn from by a threshold is no copy, and says nothing."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x1": rng.normal(size=300), "x2": rng.normal(size=300)})
    df["y"] = (df.x1 + 0.5 * rng.normal(size=300) > 0).astype(int)
    df.to_csv(tmp_path / "plain.csv", index=False)
    assert load_dataset(str(tmp_path / "plain.csv")).notes == []
    df.insert(2, "y_copy", df.y)
    df.insert(3, "score", 2 * df.y + rng.normal(0, 1e-3, 300))
    df.to_csv(tmp_path / "tleak.csv", index=False)
    assert load_dataset(str(tmp_path / "tleak.csv"), target="y").notes == [
        "feature column 'y_copy' alone sets the classes apart in the training rows (one "
        "value a class): if it is made from the target (a copy, a code or score of it, a "
        "value known only after the outcome), it leaks the answer, which new rows will not "
        "have, and the scores flatter the model; leave it out with --ignore y_copy",
        "feature column 'score' alone sets the classes apart in the training rows: if it is "
        "made from the target (a copy, a code or score of it, a value known only after the "
        "outcome), it leaks the answer, which new rows will not have, and the scores flatter "
        "the model; leave it out with --ignore score",
    ]
    # Labels drawn by a threshold of x1: x1 sets them apart, but with no gap between.
    df["y"] = np.where(df.x1 > 0, "b", np.where(df.x1 > -1, "a", "c"))
    df.drop(columns=["y_copy", "score"]).to_csv(tmp_path / "cut.csv", index=False)
    assert load_dataset(str(tmp_path / "cut.csv"), target="y").notes == []
    # A regression's copy of its target, and no note for a target fit from a feature.
    reg = pd.DataFrame({"x": rng.normal(size=100)})
    reg["t"] = 3 * reg.x + 1
    reg.to_csv(tmp_path / "line.csv", index=False)
    assert load_dataset(str(tmp_path / "line.csv")).notes == []
    reg.insert(1, "t_again", reg.t)
    reg.to_csv(tmp_path / "rcopy.csv", index=False)
    assert load_dataset(str(tmp_path / "rcopy.csv")).notes == [
        "feature column 't_again' equals the target 't' in every training row: if it is "
        "made from the target (a copy, a code or score of it, a value known only after the "
        "outcome), it leaks the answer, which new rows will not have, and the scores flatter "
        "the model; leave it out with --ignore t_again"
    ]


def test_counts_that_leave_rows_unused_say_how_many(tmp_path):
    """--split 100 20 20 of 400 rows trained on a random 140 of them, and only the first
    line's "140 rows" hinted at it; ratios that leave rows unused are refused."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(400, 2)), columns=["x1", "x2"])
    df["y"] = (df.x1 + rng.normal(size=400) > 0) * 1
    df.to_csv(tmp_path / "t.csv", index=False)
    assert load_dataset(str(tmp_path / "t.csv"), split=[100, 20, 20]).notes == [
        f"setting 'split': 100 20 20 takes 140 of the 400 rows of {str(tmp_path / 't.csv')!r} "
        "(100/20/20 train/val/test, drawn at random by data_seed); the other 260 are left "
        "out, unused: to use every row, give counts that add up to 400, or ratios"
    ]
    for every in ([360, 20, 20], [380, 20], [0.8, 0.1, 0.1]):
        assert load_dataset(str(tmp_path / "t.csv"), split=every).notes == []
    (note,) = load_dataset("iris", split=[100, 20, 20]).notes
    assert "takes 140 of the 150 rows of 'iris'" in note and "the other 10 are" in note


def test_the_check_of_grouped_dots_warns_of_nothing_on_huge_values():
    """A ';' column of 1e306 beside 2 and 1.5 printed NumPy's overflow warnings: the check
    multiplied each value by 1000."""
    import warnings

    import pandas as pd

    from mlplab.data.files import _may_be_grouped

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not _may_be_grouped(pd.Series([1e306, 2.0, 1.5, 3.0]))
        assert not _may_be_grouped(pd.Series([float("inf"), 2.0, 1.5]))
        assert _may_be_grouped(pd.Series([168.0, 2.781, 667.017]))


def test_held_out_rows_that_repeat_training_rows_are_noted(tmp_path):
    """A file of each row 5 times, on coin-flip labels, scored train, val and test
    accuracy 1.0 without a word: every test row had its copy in training."""
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(100, 2)).round(4)
    y = rng.integers(0, 2, 100)
    rows = [f"{a},{b},{c}\n" for (a, b), c in zip(X, y)]
    (tmp_path / "five.csv").write_text("a,b,y\n" + "".join(r for r in rows for _ in range(5)))
    d = load_dataset(str(tmp_path / "five.csv"))
    (note,) = [n for n in d.notes if "repeat a training row exactly" in n]
    assert note.startswith(f"{len(d.X_val)} of the {len(d.X_val)} val rows and "
                           f"{len(d.X_test)} of the {len(d.X_test)} test rows repeat")  # fmt: skip
    (tmp_path / "once.csv").write_text("a,b,y\n" + "".join(rows))
    assert not any(
        "repeat a training row" in n for n in load_dataset(str(tmp_path / "once.csv")).notes
    )
    # Whole numbers (counts, codes) recur as new rows: no copy, no note.
    codes = "".join(f"{i % 3},{i % 5},{i % 2}\n" for i in range(60))
    (tmp_path / "codes.csv").write_text("a,b,y\n" + codes)
    assert not any(
        "repeat a training row" in n for n in load_dataset(str(tmp_path / "codes.csv")).notes
    )


def test_names_are_matched_to_a_wide_files_columns_in_one_pass(monkeypatch) -> None:
    """Each name looked over every column: `predict` of a 20,000-column file took 8
    minutes. The matches are as one name's (as_written), in one pass over the columns."""
    import unicodedata

    from mlplab.data import files

    decomposed = unicodedata.normalize("NFD", "é")
    columns = [f"f{i}" for i in range(2000)] + [f"cat{decomposed}", " spaced "]
    names = [*columns[:2000], "caté", "spaced", "absent"]
    expected = {n: files.as_written(n, columns) for n in names}
    assert expected["caté"] == f"cat{decomposed}" and expected["spaced"] == " spaced "
    assert expected["f7"] == "f7" and expected["absent"] == "absent"
    calls = []
    composed = files.column_name
    monkeypatch.setattr(files, "column_name", lambda n: calls.append(n) or composed(n))
    assert files.names_as_written(names, columns) == expected
    assert len(calls) <= len(columns) + len(names)


def test_pandas_row_numbers_in_a_parquet_file_are_no_feature(tmp_path) -> None:
    """A frame shuffled or filtered before `to_parquet` keeps its row numbers in the file,
    which were read as a feature named `index`: on noise features whose labels follow
    the saved row order, test accuracy 1.0 (0.53 without it), with no word."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    df["y"] = (np.arange(300) > 150).astype(int)
    df.sample(frac=1, random_state=0).to_parquet(tmp_path / "shuffled.parquet")
    df[df.c > -0.5].to_parquet(tmp_path / "filtered.parquet")
    df.iloc[100:].to_parquet(tmp_path / "tail.parquet")  # a RangeIndex from 100
    shuffled = df.sample(frac=1, random_state=0)
    shuffled.index = [f"r{i}" for i in shuffled.index]  # text row names
    shuffled.to_parquet(tmp_path / "named_rows.parquet")
    for name in ("shuffled", "filtered", "tail", "named_rows"):
        ds = load_dataset(str(tmp_path / f"{name}.parquet"), target=["y"])
        assert ds.feature_names == ["a", "b", "c"], name
    # Every row read, as pandas reads the file.
    ds = load_dataset(str(tmp_path / "shuffled.parquet"), target=["y"], standardize=False)
    rows = np.concatenate([ds.X_train, ds.X_val, ds.X_test])
    assert sorted(map(tuple, rows)) == sorted(map(tuple, df[["a", "b", "c"]].to_numpy()))


def test_a_pipe_given_as_data_is_told_to_be_saved_to_a_file(tmp_path):
    """`--data <(head -100 big.csv)` said only "'/dev/fd/63' is not a file"."""
    import os

    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match=r"'.*rows\.csv' is a pipe \(as <\(\.\.\.\) gives\), not a "
                       r"file: save the rows to a file first \(mlplab predict reads CSV rows "
                       r"piped to it with --data -\)$"):  # fmt: skip
        load_dataset(str(fifo))
    with pytest.raises(DataError, match=r"'.*folder\.csv' is not a file$"):
        (tmp_path / "folder.csv").mkdir()
        load_dataset(str(tmp_path / "folder.csv"))


def test_a_text_column_of_a_value_a_row_is_told_to_be_left_out_not_encoded(tmp_path):
    """A customer id (C00000, C00001, ...) was told first to be one-hot encoded: a column
    per row. A column of categories keeps that advice."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"customer": [f"C{i:05d}" for i in range(40)], "a": rng.normal(size=40)})
    df["y"] = rng.integers(0, 2, 40)
    df.to_csv(tmp_path / "ids.csv", index=False)
    with pytest.raises(DataError, match=r"it holds a different value in each row, as an id or "
                       r"a note does, which is no feature: it is left out with --ignore customer"):  # fmt: skip
        load_dataset(str(tmp_path / "ids.csv"))
    df["customer"] = ["red", "green"] * 20
    df.to_csv(tmp_path / "colors.csv", index=False)
    with pytest.raises(DataError, match=r"encode it first \(one 0/1 column per value"):
        load_dataset(str(tmp_path / "colors.csv"))


def test_empty_lines_above_the_column_names_are_skipped(tmp_path):
    """One empty line above the header made the separator a ';' (found from that empty
    line): the header was one column, 'x1,x2,y', and --target y "no such column". Two
    empty lines read right."""
    rows = "".join(f"{i % 5},{i % 3},{i % 2}\n" for i in range(30))
    (tmp_path / "flat.csv").write_text("x1,x2,y\n" + rows)
    (tmp_path / "one.csv").write_text("\nx1,x2,y\n" + rows)
    (tmp_path / "two.csv").write_text("\r\n\r\nx1,x2,y\n" + rows)
    flat = load_dataset(str(tmp_path / "flat.csv"), target=["y"])
    for name in ("one.csv", "two.csv"):
        ds = load_dataset(str(tmp_path / name), target=["y"])
        assert ds.feature_names == ["x1", "x2"] and ds.n_rows == 30, name
        np.testing.assert_array_equal(ds.X_train, flat.X_train)


def test_a_parquet_column_of_decimals_is_read_as_numbers(tmp_path):
    """A database's NUMERIC column (Arrow's decimal128) came as Python Decimals, refused
    as "numbers stored as text ('721.30')"; a target of them too."""
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    amounts = [decimal.Decimal(f"{7.3 * i:.2f}") for i in range(30)]
    table = pa.table({
        "amount": pa.array(amounts, pa.decimal128(10, 2)),
        "price": pa.array([a * 2 + 1 for a in amounts], pa.decimal128(12, 2)),
    })  # fmt: skip
    pq.write_table(table, tmp_path / "d.parquet")
    ds = load_dataset(str(tmp_path / "d.parquet"), split=[20, 5, 5])
    assert ds.task == "regression"
    X = np.concatenate([ds.X_train, ds.X_val, ds.X_test])[:, 0]
    y = np.concatenate([ds.y_train, ds.y_val, ds.y_test])[:, 0]
    np.testing.assert_allclose(np.sort(X), [float(a) for a in amounts])
    np.testing.assert_allclose(y, 2 * X + 1)


def test_a_parquet_file_of_a_name_given_twice_is_told_as_a_csv_is(tmp_path):
    """A Parquet file with two columns named 'a' failed in Arrow's words: "cannot be read:
    Multiple matches for FieldRef.Name(a)"."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = [pa.array([1.0, 2, 3, 4]), pa.array([4.0, 3, 2, 1]), pa.array([0, 1, 0, 1])]
    pq.write_table(pa.table(columns, names=["a", "a", "y"]), tmp_path / "dup.parquet")
    with pytest.raises(DataError, match=r"'.*dup\.parquet': duplicate column names \['a'\]; "
                       r"give each column a name of its own$"):  # fmt: skip
        load_dataset(str(tmp_path / "dup.parquet"))


def test_a_parquet_column_of_lists_or_records_is_one_line(tmp_path, run_cli):
    """Tags or arrays (a list column) and JSON-like fields (a struct column) from a database
    failed with pandas' "unhashable type: 'numpy.ndarray'", a traceback and exit 1."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 12
    x, y = pa.array([i / n for i in range(n)]), pa.array([i % 2 for i in range(n)])
    tags = pa.array([[1, 2]] * n)
    pq.write_table(pa.table({"x": x, "tags": tags, "y": y}), tmp_path / "l.parquet")
    proc = run_cli("train", "--data", tmp_path / "l.parquet", "--log_path", tmp_path / "runs")
    assert_one_line_error(
        proc,
        "feature column 'tags' holds lists, not one value a row (array([1, 2]) in data row 1); "
        "give each of its values a column of numbers, or leave it out with --ignore tags",
    )
    assert not (tmp_path / "runs").exists()
    assert load_dataset(str(tmp_path / "l.parquet"), ignore=["tags"]).n_features == 1
    records = pa.array([{"k": i} for i in range(n)])
    pq.write_table(pa.table({"x": x, "y": records}), tmp_path / "s.parquet")
    with pytest.raises(DataError, match=r"target column 'y' holds records \(key: value\), not "
                       r"one value a row \(\{'k': 0\} in data row 1\); a target takes one value a row$"):  # fmt: skip
        load_dataset(str(tmp_path / "s.parquet"))


def test_a_word_among_a_columns_numbers_is_told_as_a_missing_value_or_a_typo(tmp_path):
    """One 'none' or 'unknown' in a price column was told that the column is an id to leave
    out (its numbers all differ) or a category to one-hot encode (they repeat): following
    either dropped a feature."""
    for values, word in [([f"{i * 1.5}" for i in range(12)], "none"),
                         ([str(i % 4) for i in range(12)], "unknown")]:  # fmt: skip
        values[4] = word
        rows = "".join(f"{v},{i % 3},{i % 2}\n" for i, v in enumerate(values))
        (tmp_path / "t.csv").write_text("p,q,y\n" + rows)
        with pytest.raises(DataError) as err:
            load_dataset(str(tmp_path / "t.csv"), target=["y"])
        assert str(err.value).endswith(
            f"feature column 'p' is not numeric ({word!r} in data row 5); the column's other "
            "values are numbers (1 cell of text among them): a missing value or a typo; clean "
            "or impute it first"
        )


def test_a_regression_target_of_two_values_is_noted(tmp_path):
    """Labels written as 0.5 and 1.5 were fit as numbers with no word (whole numbers alone
    are read as classes); --task classification reads them as two classes."""
    rows = "".join(f"{i},{0.5 + i % 2}\n" for i in range(40))
    (tmp_path / "t.csv").write_text("a,y\n" + rows)
    ds = load_dataset(str(tmp_path / "t.csv"))
    assert ds.task == "regression"
    assert (
        "target column 'y' holds two values (0.5 and 1.5), fit as numbers (task auto reads "
        "whole numbers alone as classes); labels of two classes take --task classification"
    ) in ds.notes
    assert load_dataset(str(tmp_path / "t.csv"), task="classification").class_names == [
        "0.5",
        "1.5",
    ]
    assert not any("two values" in n for n in load_dataset("sine").notes)
    forced = load_dataset(str(tmp_path / "t.csv"), task="regression")
    assert not any("two values" in n for n in forced.notes)  # asked for: no word


def test_a_big_endian_npz_trains_as_a_native_one(tmp_path):
    """X and y saved big-endian ('>f8', another machine's NPZ) ended in a pandas traceback
    and exit 1 while the rows were read."""
    import mlplab

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(np.int64)
    np.savez(tmp_path / "be.npz", X=X.astype(">f8"), y=y.astype(">i8"))
    np.savez(tmp_path / "le.npz", X=X, y=y)
    kw = dict(epoch=3, log_every=0, verbose=False, record=False)
    big, little = (mlplab.train(data=str(tmp_path / f"{e}.npz"), **kw) for e in ("be", "le"))
    assert big.record["test_acc"] == little.record["test_acc"]
    np.testing.assert_array_equal(big.dataset.X_train, little.dataset.X_train)


@pytest.mark.parametrize(
    "cell", ["\u0661", "\uff11.\uff15", "\u0661\u066b\u0665", "\u22122.5", "\u20132.5"]
)
def test_numbers_in_other_numerals_are_named_so(tmp_path, cell):
    """Arabic-Indic and full-width digits were called 'inf (a number too large for a
    float)', the Arabic decimal sign got one-hot advice, a document's minus 'a typo'."""
    f = tmp_path / "d.csv"
    rows = "".join(f"{i},{i % 2}\n" for i in range(8))
    f.write_text(f"x,y\n{cell},0\n{rows}", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_dataset(str(f))
    assert "characters other than 0-9, '-' and '.'" in str(err.value), err.value
    assert "inf" not in str(err.value) and "one 0/1 column" not in str(err.value)


@pytest.mark.parametrize("cell", ["\u2460", "2\u00b2"])  # ①, 2²: no number's digits
def test_signs_that_are_no_numerals_get_no_numerals_hint(tmp_path, cell):
    f = tmp_path / "d.csv"
    rows = "".join(f"{i},{i % 2}\n" for i in range(8))
    f.write_text(f"x,y\n{cell},0\n{rows}", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_dataset(str(f))
    assert "characters other than 0-9" not in str(err.value), err.value


def test_the_datasets_table_has_no_padding_after_its_lines():
    """Its title was padded with spaces to the table's 140 columns: blank lines in a
    narrower terminal, and trailing spaces in a copy."""
    from mlplab.data.registry import datasets_table

    lines = datasets_table().splitlines()
    assert lines[0].startswith("built-in datasets") and all(line == line.rstrip() for line in lines)


def test_a_feature_of_numbers_with_thousands_separators_is_told_so(tmp_path):
    """'1,694.6' beside '12,000' was told the other values were numbers with a decimal
    comma: a comma and a point in one number group thousands."""
    from mlplab.errors import DataError

    rows = ['"1,694.6",1', '"12,000",2', '"2,100.5",3', '"3,000",4', "700,5", '"1,000",6']
    (tmp_path / "t.csv").write_text("x,y\n" + "\n".join(rows * 3) + "\n")
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "t.csv"), target="y", task="regression")
    assert "feature column 'x' is not numeric ('1,694.6'" in str(err.value)
    assert "thousands separator" in str(err.value) and "decimal comma" not in str(err.value)


def test_datasets_names_lists_each_builtin_set_one_a_line_that_trains(capsys):
    """A script had to cut names out of the box table, whose about column wraps onto
    rows of their own."""
    from mlplab.cli import main
    from mlplab.config import make_config

    assert main(["datasets", "--names"]) == 0
    names = capsys.readouterr().out.splitlines()
    assert names[:3] == ["and", "or", "xor"] and len(names) == len(set(names)) > 10
    for name in names:  # each a --data value as it is
        assert make_config({"data": name}).data == name


def test_an_npz_files_other_label_columns_are_no_features(tmp_path):
    """`--target y0` of a y of three 0/1 columns (near one-hot: a row of zeros) took y1 and
    y2 as features, and every split scored 1.0 on the labels themselves."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = np.eye(3)[rng.integers(0, 3, 60)]
    y[0] = 0  # not one-hot: three targets of 0/1
    np.savez(tmp_path / "d.npz", X=X, y=y)
    ds = load_dataset(str(tmp_path / "d.npz"), target=["y0"])
    assert ds.feature_names == ["x0", "x1", "x2", "x3"] and ds.task == "binary"


def test_a_one_hot_target_is_named_one_target_in_the_runs_first_line(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "oh.npz", X=rng.normal(size=(60, 4)), y=np.eye(3)[rng.integers(0, 3, 60)])
    about = load_dataset(str(tmp_path / "oh.npz")).about()
    assert about.startswith("multiclass target, one-hot in 'y0', 'y1', 'y2', 60 rows"), about


def test_a_constant_column_is_found_as_pandas_counts_one_value():
    """The check of a feature of one value compares each cell with the first (nunique
    hashed every cell: 0.3 s of a 100,000-row file's load); it says what nunique says,
    missing cells counted as a value of their own, in NumPy's dtypes and pandas' own."""
    import pandas as pd

    from mlplab.data.dataset import _one_value

    columns = [
        pd.Series([1, 1, 1]),
        pd.Series([1, 1, 2]),
        pd.Series([np.nan, np.nan]),
        pd.Series([np.nan, 1.0]),
        pd.Series([1.0, np.nan]),
        pd.Series(["a", "a"]),
        pd.Series(["a", None]),
        pd.Series([None, None], dtype=object),
        pd.Series([pd.NA, pd.NA], dtype="Int64"),
        pd.Series([pd.NA, 1], dtype="Int64"),
        pd.Series([1, pd.NA], dtype="Int64"),
        pd.Series([True, True]),
        pd.Series([1, "1"], dtype=object),
        pd.Series(["x", "x"], dtype="string"),
    ]
    for col in columns:
        assert _one_value(col) == (col.nunique(dropna=False) == 1), list(col)


def test_a_column_of_split_names_is_pointed_to_split_by(tmp_path):
    """A `split` column of train/val/test was told only to be encoded or left out: it is
    each row's split, which --split_by reads."""
    from mlplab.errors import DataError

    path = tmp_path / "sp.csv"
    path.write_text("a,b,Fold,y\n1,2,train,0\n3,4,val,1\n5,6,Test,0\n7,8,train,1\n")
    with pytest.raises(DataError) as err:
        load_dataset(str(path), target=["y"])
    assert str(err.value).endswith("; 'Fold' names each row's split: give it as --split_by Fold")
    # A text column of other values gets no such hint.
    path.write_text("a,b,c,y\n1,2,red,0\n3,4,blue,1\n5,6,red,0\n7,8,blue,1\n")
    with pytest.raises(DataError) as err:
        load_dataset(str(path), target=["y"])
    assert "--split_by" not in str(err.value)


def test_a_data_path_that_is_not_found_says_where_and_why(tmp_path, monkeypatch, run_cli):
    """A config's `data: ../data/x.csv` missing named no folder (it is from the current
    one, not the config's); a broken link was "does not exist" though `ls` showed it;
    `x.csv/` was read as the file, under another run id; predict's own `.tab` output could
    not be read back; and `--data -x.csv` got argparse's bare "expected one argument"."""
    rows = "a,b,y\n" + "".join(f"{i % 7},{i % 3},{i % 2}\n" for i in range(40))
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    with pytest.raises(DataError) as err:
        load_dataset("../data/x.csv", target="y")
    assert str(err.value) == (
        f"data file '../data/x.csv' does not exist (a relative path: looked for in "
        f"{tmp_path / 'here'})"
    )
    (tmp_path / "here" / "link.csv").symlink_to("gone/x.csv")
    with pytest.raises(DataError, match=r"^data file 'link.csv' is a link to 'gone/x.csv', "
                       r"which does not exist$"):  # fmt: skip
        load_dataset("link.csv", target="y")
    (tmp_path / "here" / "x.csv").write_text(rows)
    with pytest.raises(DataError, match=r"^data file 'x.csv/' ends with '/', which names a "
                       r"folder; give the file as 'x.csv'$"):  # fmt: skip
        load_dataset("x.csv/", target="y")
    (tmp_path / "here" / "x.tab").write_text(rows.replace(",", "\t"))
    tab = load_dataset("x.tab", target="y")
    assert tab.feature_names == ["a", "b"] and tab.n_rows == 40
    (tmp_path / "here" / "-x.csv").write_text(rows)
    proc = run_cli("train", "--data", "-x.csv", "--target", "y", cwd=tmp_path / "here")
    assert_one_line_error(proc, "argument --data: expected one argument (a value that starts "
                          "with '-' is given as --data=-x.csv)")  # fmt: skip


def test_a_row_counter_split_by_a_column_is_not_told_to_split_by_time(tmp_path):
    """With --split_by the split is not random, yet the note still said "a random split
    trains on their future: split by time ... (--split_by)"."""
    n = 40
    part = ["train"] * 30 + ["val"] * 5 + ["test"] * 5
    df = pd.DataFrame({"time": range(n), "x": np.sin(np.arange(n)), "y": np.arange(n) % 4 * 1.5})
    df["part"] = part
    df.to_csv(tmp_path / "t.csv", index=False)
    notes = load_dataset(str(tmp_path / "t.csv"), target=["y"], split_by="part").notes
    said = [n for n in notes if "counts the rows" in n]
    assert said == [
        "feature column 'time' counts the rows (0, 1, 2, ...); if it is a row index, leave "
        "it out with --ignore time"
    ]


def test_a_split_column_counts_its_rows_that_name_no_split(tmp_path):
    """'has '0' in data row 21 (10 such rows)' counted every bad row as rows of '0', and
    one bad row was '(1 such rows)'."""
    rows = [f"{i},{i % 3}," + ("train" if i < 20 else "0" if i < 25 else "x") for i in range(30)]
    (tmp_path / "s.csv").write_text("a,b,part\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "s.csv"), split_by="part")
    assert "column 'part' has '0' in data row 21 (10 rows name no split); each row's" in str(
        err.value
    )
    rows[-5:] = [r.replace(",x", ",test").replace(",0", ",val") for r in rows[-5:]]
    rows[20:25] = [r.replace(",0", ",val") for r in rows[20:25]]
    rows[22] = rows[22].replace(",val", ",?")
    (tmp_path / "s.csv").write_text("a,b,part\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError) as err:
        load_dataset(str(tmp_path / "s.csv"), split_by="part")
    assert "column 'part' has '?' in data row 23; each row's value names" in str(err.value)


@pytest.mark.parametrize(
    ("target", "task", "said"),
    [
        (["px", "py"], "auto", "several target columns are a regression, and target column "
         "'py' is not numeric ('n/a?' in data row 9); fix or drop such rows"),
        (["py"], "regression", "target column 'py' is not numeric ('n/a?' in data row 9), so "
         "it cannot be a regression target"),
        (["px", "py"], "regression", "target column 'py' is not numeric ('n/a?' in data row "
         "9), so it cannot be a regression target"),
        (["a", "b"], "classification", "classification takes one target column, not ['a', "
         "'b'] (several numeric columns are a regression"),
    ],
)  # fmt: skip
def test_a_bad_cell_of_several_targets_is_named_as_one_targets_is(tmp_path, target, task, said):
    """Several targets got 'several target columns [...] must all be numeric (regression)':
    no column, row or value; and two numeric columns under --task classification were told
    they must be numeric."""
    rows = [f"{i},{i % 3},{i * 0.5},{i * 0.25}" for i in range(30)]
    rows[8] = "8,2,4.0,n/a?"
    (tmp_path / "t.csv").write_text("a,b,px,py\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError) as err:
        ignore = ["py"] if "py" not in target else None  # its text is no target's
        load_dataset(str(tmp_path / "t.csv"), target=target, task=task, ignore=ignore)
    assert said in str(err.value) and "\n" not in str(err.value)


def test_several_true_false_targets_are_refused_in_one_line(tmp_path):
    """They ended in a StopIteration traceback: True/False is numeric to pandas. Then they
    were told to "fix or drop such rows", though no row is wrong."""
    rows = "".join(f"{i},{i % 2 == 0},{i % 3 == 0}\n" for i in range(30))
    (tmp_path / "b.csv").write_text("a,y1,y2\n" + rows)
    for target, named in ((["y1", "y2"], "y1"), (["a", "y2"], "y2")):  # the first such
        with pytest.raises(DataError) as err:
            load_dataset(str(tmp_path / "b.csv"), target=target)
        assert str(err.value).endswith(
            f"several target columns are a regression, and target column {named!r} holds "
            "True/False, a class's labels: give one target column to classify, or write it as "
            "0/1 to fit it as a number"
        )


def test_targets_written_as_one_name_are_told_to_be_a_list(tmp_path):
    """`target: px py` in YAML was told "column 'px py' does not exist" and nothing more."""
    (tmp_path / "t.csv").write_text("a,px,py\n" + "".join(f"{i},{i},{-i}\n" for i in range(9)))
    for written in ("px py", "px, py"):
        with pytest.raises(DataError) as err:
            load_dataset(str(tmp_path / "t.csv"), target=[written])
        assert (
            f"target column {written!r} does not exist (several targets are a list: "
            "--target px py, or target: [px, py] in YAML); columns are a, px, py" in str(err.value)
        )
