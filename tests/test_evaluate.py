"""`colorize evaluate`: metrics of a run and of the two baselines, JSON output, --compare."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from colorize import data
from colorize.cli import main
from colorize.evaluate import evaluate_run
from colorize.infer import load_run
from colorize.predictor import Predictor, evaluate
from colorize.records import read_records

from conftest import command_error


def _command_error(argv: list[str]):
    return command_error(["evaluate", *argv])


@pytest.fixture(scope="module")
def run_a(run_b, tmp_path_factory) -> str:
    """The same weights under an experiment-A config (the architecture does not depend on it)."""
    run = tmp_path_factory.mktemp("run_a") / "run"
    shutil.copytree(run_b, run)
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "experiment": "A", "use_cue": False}))
    return str(run)


def test_evaluate_prints_the_table_and_writes_json(run_b, demo_records, capsys):
    assert main(["evaluate", "--run", run_b, "--data", demo_records]) == 0
    out = capsys.readouterr().out
    assert "baseline: cue as output" in out and "baseline: flat white" in out and run_b in out
    with open(os.path.join(run_b, "evaluation-test-B.json")) as f:
        result = json.load(f)
    with open(os.path.join(demo_records, "manifest.json")) as f:
        assert result["images"] == json.load(f)["counts"]["test"]
    assert result["test_mode"] == "pix2pix" and "data range 1.0" in result["range"]
    for metrics in result["metrics"].values():
        assert 0 <= metrics["l1"] <= 1 and 0 < metrics["psnr"] < 100 and -1 <= metrics["ssim"] <= 1


def test_baselines_equal_a_numpy_computation(run_b, demo_records):
    result = evaluate_run(run_b, demo_records, max_images=10)
    examples = list(read_records(demo_records, "test"))[:10]
    color = np.stack([ex["color"] for ex in examples]) / 255.0  # (10, S, S, 3)
    cue = np.stack([ex["cue"] for ex in examples]) / 255.0
    white_mse = ((1.0 - color) ** 2).mean(axis=(1, 2, 3))
    expected = {"cue": np.abs(cue - color).mean(), "white": (1.0 - color).mean()}
    for name, l1 in expected.items():
        assert result["metrics"][name]["l1"] == pytest.approx(l1, abs=1e-5)
    white_psnr = (10 * np.log10(1 / white_mse)).mean()
    assert result["metrics"]["white"]["psnr"] == pytest.approx(white_psnr, abs=1e-3)


def test_model_scores_equal_the_trainers_held_out_evaluation(run_b, demo_records):
    result = evaluate_run(run_b, demo_records, test_mode="deterministic")
    generator, cfg = load_run(run_b)
    expected = evaluate(Predictor(generator, "deterministic"),
                              data.make_dataset(cfg, demo_records, "test", training=False), 10**6)
    for name in ("l1", "psnr", "ssim"):
        assert result["metrics"]["model"][name] == pytest.approx(expected[name], rel=1e-5)


def test_experiment_a_feeds_a_white_cue_to_the_model(run_b, demo_records):
    as_b = evaluate_run(run_b, demo_records, test_mode="deterministic", max_images=8)
    as_a = evaluate_run(run_b, demo_records, experiment="A", test_mode="deterministic",
                        max_images=8)
    assert as_a["experiment"] == "A"
    assert as_a["metrics"]["model"] != as_b["metrics"]["model"]
    assert as_a["metrics"]["cue"] == as_b["metrics"]["cue"]


def test_compare_scores_two_runs_on_the_same_images(run_a, run_b, demo_records, tmp_path, capsys):
    path = tmp_path / "both.json"
    assert main(["evaluate", "--compare", run_a, run_b, "--max-images", "5",  # their own --data
                 "--test-mode", "deterministic", "--json", str(path)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[1].startswith(run_a) and table[2].startswith(run_b)
    runs = json.loads(path.read_text())["runs"]
    assert [r["experiment"] for r in runs] == ["A", "B"]
    assert [r["images"] for r in runs] == [5, 5]
    assert [r["data"] for r in runs] == [demo_records, demo_records]
    assert runs[0]["metrics"]["white"] == runs[1]["metrics"]["white"]


@pytest.mark.parametrize("args,message,reason", [
    (["--data", "{tmp}/no-records"], "no such records folder", "not_found"),
    (["--data", "{records}", "--max-images", "-1"], "--max-images must be at least 0",
     "bad_value"),
])
def test_bad_inputs_fail_with_one_line(run_b, demo_records, tmp_path, capsys, args, message,
                                       reason):
    args = [a.format(tmp=tmp_path, records=demo_records) for a in args]
    assert main(["evaluate", "--run", run_b, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("colorize evaluate: error: ") and message in err and "\n" not in err
    assert _command_error(["--run", run_b, *args]).reason == reason


def test_a_run_without_checkpoints_fails_with_one_line(run_b, demo_records, tmp_path, capsys):
    (tmp_path / "checkpoints").mkdir()
    shutil.copy(os.path.join(run_b, "config.json"), tmp_path)
    assert main(["evaluate", "--run", str(tmp_path), "--data", demo_records]) == 2
    assert "no checkpoints" in capsys.readouterr().err
    argv = ["--run", str(tmp_path), "--data", demo_records]
    assert _command_error(argv).reason == "no_checkpoint"


# --- the user path (#13): what `colorize predict` hands over, scored ------------------------------


def test_user_path_at_the_model_size_scores_what_colorize_returns(run_b, demo_records, capsys):
    from colorize.evaluate import evaluate_user_path
    from colorize.infer import Colorizer
    from colorize.metrics import MeanMetrics

    result = evaluate_user_path(run_b, demo_records, test_mode="deterministic",
                                lines=("model", "keep"), precision="float32", max_images=6)
    colorizer = Colorizer.from_run(run_b, test_mode="deterministic", precision="float32")
    meter = MeanMetrics()
    for ex in list(read_records(demo_records, "test"))[:6]:
        rgb = colorizer.colorize(ex["sketch"][..., 0], ex["cue"], lines="keep")
        meter.update(rgb[None] / 255.0, ex["color"][None] / 255.0)
    expected = meter.result()
    got = result["metrics"]["user path, lines keep"]
    assert result["images"] == 6 and result["sketches"] == "recipe"
    assert got["psnr"] == pytest.approx(expected["psnr"], abs=1e-4)
    assert got["ssim"] == pytest.approx(expected["ssim"], abs=1e-4)
    # at the model's own size, lines="model" hands over the generator's own picture
    raw = evaluate_run(run_b, demo_records, test_mode="deterministic", max_images=6)
    model = result["metrics"]["user path, lines model"]
    assert model["psnr"] == pytest.approx(raw["metrics"]["model"]["psnr"], abs=0.05)


def test_colored_line_art_paints_the_lines_in_the_image_colors():
    from colorize.evaluate import colored_lines

    sketch = np.full((4, 4), 255, np.uint8)
    sketch[1, :] = 0
    color = np.zeros((4, 4, 3), np.uint8)
    color[..., 0] = 200
    out = colored_lines(sketch, color)
    assert (out[1] == (200, 0, 0)).all() and (out[[0, 2, 3]] == 255).all()


@pytest.mark.parametrize("sketches", ["colored", "pencil"])
def test_user_examples_keep_the_recipes_sketch_beside_the_line_art_they_give(demo_records,
                                                                             sketches):
    """Other line art than the recipe's keeps the recipe's sketch beside it, where a C run's user
    path paints a person's strokes (the same strokes whatever line art is scored)."""
    from colorize import sketch_styles
    from colorize.evaluate import colored_lines, user_examples

    stored = list(read_records(demo_records, "test"))[:2]
    given = list(user_examples(demo_records, "test", None, None, 2, sketches))
    assert len(given) == 2
    for index, (ex, (_, got)) in enumerate(zip(stored, given)):
        np.testing.assert_array_equal(got["recipe_sketch"], ex["sketch"][..., 0])
        want = (colored_lines(ex["sketch"][..., 0], ex["color"]) if sketches == "colored"
                else sketch_styles.sketch_of(sketches, ex["color"], seed=index))
        np.testing.assert_array_equal(got["sketch"], want)


def test_user_path_on_image_files_with_colored_sketches(run_b, demo_records, tmp_path, capsys):
    from colorize.fileio import write_image

    folder = tmp_path / "images"
    folder.mkdir()
    for i, ex in enumerate(list(read_records(demo_records, "test"))[:3]):
        big = np.kron(ex["color"], np.ones((2, 3, 1), np.uint8))  # 64x96: not the model's size
        write_image(str(folder / f"{i}.png"), big)
    out = tmp_path / "user.json"
    argv = ["evaluate", "--run", run_b, "--images", str(folder), "--sketches", "colored",
            "--lines", "model", "guided", "--json", str(out), "--test-mode", "deterministic"]
    assert main(argv) == 0
    result = json.loads(out.read_text())
    assert result["images"] == 3 and result["sketches"] == "colored"
    assert result["sizes"] == ["96x64"]
    assert set(result["metrics"]) == {"user path, lines model", "user path, lines guided"}
    assert "colored sketches" in capsys.readouterr().out


@pytest.mark.parametrize("mode", [["--user-path"], ["--hint-sweep"]])
def test_user_path_and_hint_sweep_refuse_a_folder_without_records(run_b, tmp_path, capsys, mode):
    (tmp_path / "empty").mkdir()
    runs = ["--run", run_b] if mode == ["--user-path"] else []
    argv = ["evaluate", *runs, *mode, *([run_b] if mode == ["--hint-sweep"] else []),
            "--data", str(tmp_path / "empty"), "--json", str(tmp_path / "out.json")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("colorize evaluate: error: ") and "no 'test' records" in err
    assert _command_error(argv[1:]).reason == "no_records"
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("name, message, reason", [
    ("nope", "nope: no such folder", "not_found"),
    ("a.png", "a.png: ", "not_a_folder"),
    ("empty", "empty: no images in it", "no_images")])
def test_user_path_on_images_refuses_what_is_not_a_folder_of_images(run_b, tmp_path, capsys,
                                                                    name, message, reason):
    (tmp_path / "empty").mkdir()
    (tmp_path / "a.png").write_bytes(b"not a folder")
    argv = ["evaluate", "--run", run_b, "--images", str(tmp_path / name), "--json",
            str(tmp_path / "out.json")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("colorize evaluate: error: ") and message in err and "\n" not in err
    assert _command_error(argv[1:]).reason == reason
    assert not (tmp_path / "out.json").exists()


# --- where evaluate writes (#30): never a run's own files, never a file it did not write -----------


def _evaluate_fails(argv, capsys, message, reason) -> None:
    assert main(["evaluate", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("colorize evaluate: error: ") and message in err and "\n" not in err
    assert _command_error(argv).reason == reason


@pytest.mark.parametrize("mode", ["run", "hint-sweep"])
def test_evaluate_never_replaces_a_runs_config(run_b, demo_records, capsys, mode):
    config = os.path.join(run_b, "config.json")
    before = open(config, "rb").read()
    runs = ["--run", run_b] if mode == "run" else ["--hint-sweep", run_b]
    for extra in ([], ["--overwrite"]):
        _evaluate_fails([*runs, "--data", demo_records, "--json", config, *extra], capsys,
                        "is not a result of colorize evaluate" if extra else "exists",
                        "not_ours" if extra else "exists")
        assert open(config, "rb").read() == before


def test_hint_sweep_keeps_a_picture_beside_its_json(run_b, demo_records, tmp_path, capsys):
    picture = tmp_path / "sweep.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n not the user's real picture, but theirs")
    argv = ["--hint-sweep", run_b, "--data", demo_records, "--max-images", "1",
            "--json", str(tmp_path / "sweep.json")]
    for extra in ([], ["--overwrite"]):
        _evaluate_fails([*argv, *extra], capsys, f"{picture}: exists", "not_ours")
        assert not (tmp_path / "sweep.json").exists()
    assert picture.read_bytes().endswith(b"but theirs")
    # named elsewhere with --plot, both are written; and the plot is then evaluate's to replace
    plot = tmp_path / "plot.png"
    assert main(["evaluate", *argv, "--plot", str(plot)]) == 0
    assert json.loads((tmp_path / "sweep.json").read_text())["images"] == 1
    assert plot.read_bytes().startswith(b"\x89PNG")
    _evaluate_fails([*argv, "--plot", str(plot)], capsys, "pass --overwrite", "exists")
    assert main(["evaluate", *argv, "--plot", str(plot), "--overwrite"]) == 0
    assert picture.read_bytes().endswith(b"but theirs")


@pytest.mark.parametrize("argv,message,reason", [
    (["--json", "{tmp}/X.png"], "must end with .json", "bad_value"),
    (["--json", "{tmp}"], "is a folder", "is_folder"),
    (["--json", "{tmp}/a.json", "--plot", "{tmp}/a.json"], "must end with .png", "bad_value"),
    (["--json", "{tmp}/a.json", "--plot", "{tmp}/a.png/"], "must end with .png", "bad_value"),
])
@pytest.mark.parametrize("mode", ["run", "hint-sweep"])
def test_bad_output_paths_fail_with_one_line(run_b, demo_records, tmp_path, capsys, argv,
                                             message, reason, mode):
    argv = [a.format(tmp=tmp_path) for a in argv]
    if mode == "run" and "--plot" in argv:
        message, reason = "--plot is --hint-sweep's", "conflicting"
    runs = ["--run", run_b] if mode == "run" else ["--hint-sweep", run_b]
    _evaluate_fails([*runs, "--data", demo_records, *argv], capsys, message, reason)
    assert os.listdir(tmp_path) == []


def test_json_replaces_only_an_earlier_result_and_only_with_overwrite(run_b, demo_records,
                                                                      tmp_path, capsys):
    out, theirs = tmp_path / "result.json", tmp_path / "theirs.json"
    theirs.write_text('{"learning_rate": 0.0002}')
    argv = ["--run", run_b, "--data", demo_records, "--max-images", "2"]
    assert main(["evaluate", *argv, "--json", str(out)]) == 0
    first = out.read_text()
    _evaluate_fails([*argv, "--json", str(out)], capsys, "pass --overwrite", "exists")
    assert out.read_text() == first
    assert main(["evaluate", *argv, "--json", str(out), "--overwrite", "--max-images", "3"]) == 0
    assert json.loads(out.read_text())["images"] == 3
    _evaluate_fails([*argv, "--json", str(theirs), "--overwrite"], capsys,
                    "is not a result of colorize evaluate", "not_ours")
    assert theirs.read_text() == '{"learning_rate": 0.0002}'


def test_the_default_result_in_the_run_folder_is_replaced_by_a_new_evaluation(run_b, demo_records):
    path = os.path.join(run_b, "evaluation-test-B.json")
    for images in (2, 3):
        assert main(["evaluate", "--run", run_b, "--data", demo_records,
                     "--max-images", str(images)]) == 0
        with open(path) as f:
            assert json.load(f)["images"] == images


def test_compare_of_a_run_with_itself_names_one_default_file_twice(run_b, demo_records, capsys):
    _evaluate_fails(["--compare", run_b, run_b, "--data", demo_records], capsys,
                    "named for two outputs", "name_clash")
